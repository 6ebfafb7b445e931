"""Text messages: the customer's mobile number and switches, and Twilio's webhook for replies."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.twiml.messaging_response import MessagingResponse

from accounts.models import User
from accounts.notification_kinds import notification_kind_choices
from accounts.texts import (
    mobile_code_confirm,
    mobile_code_send,
    mobile_display,
    mobile_pending,
    mobile_remove,
    reply_logged,
    text_received,
    text_switches,
    text_switches_set,
)
from accounts.twilio_gateway import request_params_if_signed, texts_configured
from kernel.errors import ApplicationError


class MobileForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Mobile number"),
        max_length=30,
        help_text=gettext_lazy("A US number that can receive texts, like 503-555-0100."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("The six-digit code we texted you"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class TextSwitchesForm(forms.Form):
    def __init__(self, *args, switches: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in notification_kind_choices():
            self.fields[kind] = forms.BooleanField(
                label=label, required=False, initial=switches.get(kind, False)
            )


@login_required
@require_http_methods(["GET", "POST"])
def text_settings(request):
    user: User = request.user
    action = request.POST.get("action", "")
    mobile_form = MobileForm(request.POST if action == "send" else None)
    code_form = CodeForm(request.POST if action == "confirm" else None)
    switches_form = TextSwitchesForm(
        request.POST if action == "switches" else None, switches=text_switches(user=user)
    )
    status = 200
    try:
        if action == "send" and mobile_form.is_valid():
            number = mobile_code_send(user=user, number_typed=mobile_form.cleaned_data["number"])
            messages.success(
                request, _("We texted a code to %(number)s.") % {"number": mobile_display(number)}
            )
            return redirect("text_settings")
        if action == "confirm" and code_form.is_valid():
            mobile_code_confirm(user=user, code=code_form.cleaned_data["code"])
            messages.success(request, _("Your mobile number is confirmed. Now choose the texts you want."))
            return redirect("text_settings")
        if action == "switches" and switches_form.is_valid():
            text_switches_set(user=user, enabled=switches_form.cleaned_data)
            messages.success(request, _("Your text choices are saved."))
            return redirect("text_settings")
        if action == "remove":
            mobile_remove(user=user)
            messages.success(request, _("Your mobile number is removed; no more texts will be sent to it."))
            return redirect("text_settings")
        if action == "restart" and user.mobile_confirmed_at:
            User.objects.filter(pk=user.pk).update(texts_stopped_at=None)
            messages.success(request, _("Texts can come to you again. Choose which below."))
            return redirect("text_settings")
    except ApplicationError as exc:
        form = {"send": mobile_form, "confirm": code_form, "switches": switches_form}.get(action, mobile_form)
        form.add_error(None, exc.message)
    if request.method == "POST":
        status = 400
    return render(
        request,
        "accounts/text_settings.html",
        {
            "configured": texts_configured(),
            "mobile_form": mobile_form,
            "code_form": code_form,
            "switches_form": switches_form,
            "pending": mobile_display(mobile_pending(user=user)),
            "number": mobile_display(user.mobile_number) if user.mobile_confirmed_at else "",
        },
        status=status,
    )


@csrf_exempt  # Twilio signs its requests instead (X-Twilio-Signature), checked below
@require_POST
def text_incoming(request):
    """Twilio's webhook for a text a customer sent: checked for Twilio's signature, acted on
    once, answered with TwiML."""

    params = request_params_if_signed(request)
    if params is None:
        return HttpResponseForbidden("Not signed by Twilio.")
    number, sid = params.get("From", ""), params.get("MessageSid", "")
    if not number or not sid:
        return HttpResponse("Missing From or MessageSid.", status=400)
    reply = text_received(sid=sid, number=number, body=params.get("Body", ""))
    response = MessagingResponse()
    if reply:
        response.message(reply)
        user = User.objects.filter(mobile_number=number, mobile_confirmed_at__isnull=False).first()
        reply_logged(number=number, body=reply, user=user)
    return HttpResponse(str(response), content_type="text/xml")
