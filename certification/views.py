from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.models import ServiceAccount
from accounts.selectors import service_account_get_for_user
from billing.calendar import local_today
from billing.models import BillingAccount
from billing.selectors import account_past_due
from certification.models import Certification
from certification.selectors import certifications_for_account
from certification.services.disputes import dispute_open
from portal.errors import ApplicationError


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("What do you believe is wrong?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "For example: a payment that is not counted, a charge for a month you did not own the property."
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def dispute(request, pk: int, certification_pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    certification = get_object_or_404(
        certifications_for_account(service_account=account), pk=certification_pk
    )
    form = DisputeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dispute_open(certification=certification, user=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Your dispute is sent. Our staff will investigate and tell you what they find.")
            )
            return redirect("service_account_detail", pk=account.pk)
    return render(
        request,
        "certification/dispute.html",
        {"account": account, "certification": certification, "form": form},
    )


class TaxLotForm(forms.Form):
    tax_lot = forms.CharField(label="Tax lot or map number", max_length=64)


@staff_member_required
@permission_required("certification.view_certification", raise_exception=True)
def tax_lot(request):
    """For title companies during a sale: every account on a property, its balance and certified charges."""
    form = TaxLotForm(request.GET or None)
    rows = []
    if form.is_valid():
        today = local_today()
        lot = form.cleaned_data["tax_lot"].strip()
        for account in ServiceAccount.objects.filter(tax_lot__iexact=lot).order_by("account_number"):
            billing = BillingAccount.objects.filter(pk=account.pk).first()
            rows.append(
                {
                    "account": account,
                    "balance": billing.balance if billing else 0,
                    "past_due": account_past_due(service_account=account, as_of=today),
                    "certifications": list(
                        Certification.objects.filter(service_account=account).order_by("-year")
                    ),
                }
            )
    return render(request, "certification/tax_lot.html", {"form": form, "rows": rows})
