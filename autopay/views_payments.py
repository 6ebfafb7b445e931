"""Paying from a bank account, and payments scheduled for a later date. Plain forms: they work
without JavaScript, and no card or bank number passes through a script."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.selectors import service_account_get_for_user
from autopay.forms import BankPaymentForm, ScheduledPaymentForm
from autopay.models import PaymentAuthorization, ScheduledPayment
from autopay.services.bank_accounts import (
    bank_account_add,
    bank_payment_make,
    first_debit_date,
)
from autopay.services.scheduled import schedule_window, scheduled_payment_cancel, scheduled_payment_create
from autopay.terms import (
    BANK_PAYMENT_VERSION,
    SCHEDULED_PAYMENT_VERSION,
    authorization_record,
    bank_payment_terms,
    scheduled_payment_terms,
)
from billing.calendar import local_today
from billing.models import Payment
from billing.services.payments import MINIMUM_PAYMENT, amount_owed, payment_limit
from kernel.db import record_id
from kernel.errors import ApplicationError
from kernel.i18n import local_date
from kernel.money import money


def _bank_account_for(request, data, authorization):
    if data["new_bank_account"]:
        return bank_account_add(user=request.user, authorization=authorization, **data["new_bank_account"])
    return data["bank_account"]


def _choice_details(data) -> dict:
    chosen = data["card"] or data["bank_account"]
    if chosen is not None:
        return {"method": str(chosen)}
    new = data["new_bank_account"]
    return {"method": f"new {new['account_type']} account ending {new['account_number'][-4:]}"}


@login_required
@require_http_methods(["GET", "POST"])
def pay_by_bank(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    today = local_today()
    terms = bank_payment_terms(account_number=account.account_number)
    form = BankPaymentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        token = _token(request.POST.get("token"))
        try:
            with transaction.atomic():
                authorization = authorization_record(
                    request=request,
                    service_account=account,
                    kind=PaymentAuthorization.Kind.BANK_PAYMENT,
                    version=BANK_PAYMENT_VERSION,
                    text=terms,
                    details={**_choice_details(data), "amount": str(data["amount"])},
                )
                payment = bank_payment_make(
                    client_token=token,
                    user=request.user,
                    service_account=account,
                    bank_account=_bank_account_for(request, data, authorization),
                    amount=data["amount"],
                    today=today,
                    authorization=authorization,
                )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("bank_payment_done", token=payment.client_token)
    return render(
        request,
        "autopay/pay_by_bank.html",
        {
            "account": account,
            "form": form,
            "terms": terms,
            "token": request.POST.get("token") or uuid.uuid4(),
            "amount_due": amount_owed(service_account=account),
            "limit": payment_limit(service_account=account),
            "minimum": MINIMUM_PAYMENT,
            "new_account_date": first_debit_date(bank_account=None, today=today),
            "dated": {a.pk: first_debit_date(bank_account=a, today=today) for a in form.bank_accounts},
        },
    )


def _token(text) -> uuid.UUID:
    """The form's one-time token (a double submit finds the first payment); a new one if tampered."""
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return uuid.uuid4()


@login_required
def bank_payment_done(request, token):
    payment = get_object_or_404(
        Payment.objects.select_related("service_account", "bank_debit__bank_account"),
        client_token=token,
        created_by=request.user,
    )
    if not hasattr(payment, "bank_debit"):
        raise Http404
    return render(
        request, "autopay/bank_payment_done.html", {"payment": payment, "account": payment.service_account}
    )


@login_required
@require_http_methods(["GET", "POST"])
def scheduled_payments(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    today = local_today()
    earliest, latest = schedule_window(service_account=account, today=today)
    terms = scheduled_payment_terms(account_number=account.account_number)
    form = ScheduledPaymentForm(request.POST or None, user=request.user, earliest=earliest, latest=latest)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                authorization = authorization_record(
                    request=request,
                    service_account=account,
                    kind=PaymentAuthorization.Kind.SCHEDULED_PAYMENT,
                    version=SCHEDULED_PAYMENT_VERSION,
                    text=terms,
                    details={
                        **_choice_details(data),
                        "amount": str(data["amount"]),
                        "pay_on": data["pay_on"].isoformat(),
                    },
                )
                scheduled = scheduled_payment_create(
                    user=request.user,
                    service_account=account,
                    amount=data["amount"],
                    pay_on=data["pay_on"],
                    today=today,
                    card=data["card"],
                    bank_account=None if data["card"] else _bank_account_for(request, data, authorization),
                    authorization=authorization,
                )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "Your payment of %(amount)s is scheduled for %(date)s. Confirmation: scheduled payment %(id)s."
                )
                % {
                    "amount": money(scheduled.amount),
                    "date": local_date(scheduled.pay_on, "DATE_FORMAT"),
                    "id": scheduled.pk,
                },
            )
            return redirect("scheduled_payments", pk=account.pk)
    return render(
        request,
        "autopay/scheduled.html",
        {
            "account": account,
            "form": form,
            "terms": terms,
            "earliest": earliest,
            "latest": latest,
            "today": today,
            "amount_due": amount_owed(service_account=account),
            "limit": payment_limit(service_account=account),
            "new_account_date": first_debit_date(bank_account=None, today=today),
            "scheduled": ScheduledPayment.objects.filter(service_account=account, user=request.user)
            .select_related("card", "bank_account", "payment")
            .order_by("-pay_on", "-pk")[:24],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def scheduled_payment_cancel_view(request, pk: int, scheduled_pk: int):
    """A page that asks to confirm, then the cancellation (until the day before)."""
    account = service_account_get_for_user(user=request.user, pk=pk)
    scheduled = get_object_or_404(
        ScheduledPayment, pk=record_id(scheduled_pk) or 0, service_account=account, user=request.user
    )
    if request.method == "POST":
        try:
            scheduled_payment_cancel(scheduled=scheduled, user=request.user, today=local_today())
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The scheduled payment is cancelled. Nothing will be paid."))
        return redirect("scheduled_payments", pk=account.pk)
    return render(request, "autopay/scheduled_cancel.html", {"account": account, "scheduled": scheduled})
