"""Customers ask to start, stop or move service, see where their requests stand, and withdraw one
before a clerk starts on it."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import ServiceAccount
from accounts.selectors import service_account_list_for_user
from billing.forms import ServiceRequestForm
from billing.models import ServiceRequest
from billing.services.service_requests import service_request_submit, service_request_withdraw
from kernel.db import record_id
from kernel.errors import ApplicationError
from kernel.once import once_claim, once_release

KINDS = {
    "start": ServiceRequest.Kind.MOVE_IN,
    "stop": ServiceRequest.Kind.MOVE_OUT,
    "move": ServiceRequest.Kind.TRANSFER,
}


@login_required
def moving_home(request):
    requests = ServiceRequest.objects.filter(requested_by=request.user).select_related(
        "from_account", "new_account", "final_bill"
    )
    has_accounts = (
        service_account_list_for_user(user=request.user).filter(status=ServiceAccount.Status.ACTIVE).exists()
    )
    return render(
        request,
        "billing/moving_home.html",
        {"requests": requests.order_by("-created_at"), "has_accounts": has_accounts},
    )


@login_required
def moving_request(request, kind: str):
    if kind not in KINDS:
        raise Http404
    accounts = service_account_list_for_user(user=request.user).filter(status=ServiceAccount.Status.ACTIVE)
    if KINDS[kind] != ServiceRequest.Kind.MOVE_IN and not accounts.exists():
        messages.info(request, _("Link the account first: then you can stop or move its service here."))
        return redirect("service_account_link")
    initial = {}
    chosen = record_id(request.GET.get("account", ""))
    if chosen is not None:
        initial["from_account"] = accounts.filter(pk=chosen).first()
    if accounts.count() == 1:
        initial.setdefault("customer_name", accounts.first().customer_name)
    initial["token"] = uuid.uuid4()
    form = ServiceRequestForm(request.POST or None, kind=KINDS[kind], accounts=accounts, initial=initial)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data.get("token")
        if once_claim(f"service-request:{request.user.pk}", token) is not None:
            return redirect("moving_home")  # the same form sent twice: the first one is the request
        try:
            service_request_submit(user=request.user, kind=KINDS[kind], values=form.cleaned_data)
        except ApplicationError as exc:
            once_release(f"service-request:{request.user.pk}", token)
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("We received your request. We emailed you what happens next."))
            return redirect("moving_home")
    return render(
        request,
        "billing/moving_request.html",
        {"form": form, "kind": KINDS[kind], "kind_label": KINDS[kind].label},
    )


@login_required
@require_POST
def moving_withdraw(request, pk: int):
    service_request = get_object_or_404(ServiceRequest, pk=pk, requested_by=request.user)
    try:
        service_request_withdraw(request=service_request, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your request is withdrawn."))
    return redirect("moving_home")
