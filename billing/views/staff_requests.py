"""The clerk's queue of customers' start, stop and move requests, and the page that works one."""

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from billing.calendar import local_today
from billing.models import AccountService, ServiceRequest
from billing.services.service_requests import (
    service_request_close_account,
    service_request_decline,
    service_request_open_account,
    service_request_services,
    service_request_transfer,
)
from billing.views.staff import CloseAccountForm, OpenAccountForm
from kernel.errors import ApplicationError


class OpenStepForm(forms.Form):
    tax_lot = forms.CharField(label="Tax lot of the new address", max_length=64)
    # The services, as the open-account form asks for them.
    sewer_units = OpenAccountForm.base_fields["sewer_units"]
    surface_water_units = OpenAccountForm.base_fields["surface_water_units"]
    water = OpenAccountForm.base_fields["water"]


class CloseStepForm(forms.Form):
    final_read = CloseAccountForm.base_fields["final_read"]


class DeclineForm(forms.Form):
    decline_reason = forms.CharField(
        label="Why we cannot do it (the customer reads this)", widget=forms.Textarea(attrs={"rows": 3})
    )


@staff_member_required
@permission_required("billing.view_servicerequest", raise_exception=True)
def staff_service_requests(request):
    """Open requests, oldest first, with the step each is waiting for."""
    open_requests = (
        ServiceRequest.objects.filter(status__in=ServiceRequest.OPEN_STATUSES)
        .select_related("requested_by", "from_account", "new_account")
        .order_by("created_at")
    )
    recent = (
        ServiceRequest.objects.exclude(status__in=ServiceRequest.OPEN_STATUSES)
        .select_related("requested_by", "from_account", "new_account")
        .order_by("-updated_at")[:20]
    )
    return render(
        request,
        "billing/staff_service_requests.html",
        {"open_requests": open_requests, "recent": recent, "today": local_today()},
    )


@staff_member_required
@permission_required("billing.view_servicerequest", raise_exception=True)
def staff_service_request(request, pk: int):
    service_request = get_object_or_404(
        ServiceRequest.objects.select_related("requested_by", "from_account", "new_account", "final_bill"),
        pk=pk,
    )
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step and not request.user.has_perm("billing.change_servicerequest"):
        raise PermissionDenied
    open_form = OpenStepForm(
        request.POST if step == "open" else None, initial=service_request_services(service_request)
    )
    close_form = CloseStepForm(request.POST if step == "close" else None)
    water = (
        bool(service_request.from_account_id)
        and AccountService.objects.filter(
            service_account_id=service_request.from_account_id, service="water"
        ).exists()
    )
    close_form.fields["final_read"].required = water  # a water account's final bill needs the read
    decline_form = DeclineForm(request.POST if step == "decline" else None)
    forms_by_step = {"open": open_form, "close": close_form, "decline": decline_form, "transfer": None}
    if step in forms_by_step:
        form = forms_by_step[step]
        if form is None or form.is_valid():
            try:
                done = _do_step(step, service_request, request.user, form.cleaned_data if form else {})
            except ApplicationError as exc:
                # Shown above the page: the step's own form may be gone (done by someone else).
                messages.error(request, exc.message)
            else:
                messages.success(request, done)
                return redirect("staff_service_request", pk=service_request.pk)
    return render(
        request,
        "billing/staff_service_request.html",
        {
            "item": service_request,
            "open_form": open_form,
            "close_form": close_form,
            "decline_form": decline_form,
            "has_water": water,
            "today": local_today(),
            "can_work": request.user.has_perm("billing.change_servicerequest"),
        },
    )


def _do_step(step: str, service_request: ServiceRequest, user, data: dict) -> str:
    if step == "open":
        account = service_request_open_account(request=service_request, by=user, **data)
        said = f"Account {account.account_number} is open from {account.service_starts_on:%m/%d/%Y}; the customer was emailed."
        if account.service_starts_on != service_request.start_on:
            said += (
                f" The customer asked for {service_request.start_on:%m/%d/%Y}, in a month billed already: "
                "post the days before as a debit adjustment."
            )
        return said
    if step == "close":
        bill = service_request_close_account(
            request=service_request, by=user, final_read=data.get("final_read")
        )
        return (
            f"Account {service_request.from_account.account_number} is closed; "
            f"the final bill is ${bill.total_due:,.2f} and the customer was emailed."
        )
    if step == "transfer":
        moved = service_request_transfer(request=service_request, by=user)
        return "Moved: " + " ".join(str(line) for line in moved) if moved else "There was nothing to move."
    service_request_decline(request=service_request, by=user, reason=data["decline_reason"])
    return "The request is declined; the customer was emailed the reason."
