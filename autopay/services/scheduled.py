"""Scheduled payments: a chosen amount on a chosen date, by saved card or bank account.

Like autopay drafts, a scheduled payment is claimed (SCHEDULED -> PROCESSING, one UPDATE) before
anything is charged, and the card charge carries an idempotency key from its payment row: two
runs at once, or a run again after a crash, pay it once. A bank account's payment becomes a
debit dated the chosen day, which the NACHA file for that day carries.
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from accounts.notifications import email_send
from autopay.models import BankAccount, PaymentAuthorization, ScheduledPayment
from autopay.notification_kinds import AUTOPAY_SCHEDULED, PAYMENT_FAILED
from autopay.services.bank_accounts import bank_payment_make, first_debit_date
from billing import stripe_gateway as gateway
from billing.calendar import banking_day_on_or_after
from billing.models import LedgerEntry, Payment, SavedCard
from billing.services.payments import account_payment_check, payment_intent_submit
from kernel.errors import ApplicationError
from kernel.i18n import local_date
from kernel.money import money

# The latest date a payment may be scheduled for when no bill is due yet.
SCHEDULE_AHEAD_DAYS = 45


def schedule_window(*, service_account: ServiceAccount, today: dt.date) -> tuple[dt.date, dt.date]:
    """From tomorrow up to the latest due date on the account (or SCHEDULE_AHEAD_DAYS ahead when
    nothing is due later)."""
    earliest = today + dt.timedelta(days=1)
    due = LedgerEntry.objects.filter(service_account=service_account, due_date__isnull=False).aggregate(
        latest=Max("due_date")
    )["latest"]
    latest = due if due and due >= earliest else today + dt.timedelta(days=SCHEDULE_AHEAD_DAYS)
    return earliest, latest


def scheduled_payment_create(
    *,
    user: User,
    service_account: ServiceAccount,
    amount,
    pay_on: dt.date,
    today: dt.date,
    card: SavedCard | None = None,
    bank_account: BankAccount | None = None,
    authorization: PaymentAuthorization | None = None,
) -> ScheduledPayment:
    account_payment_check(amount=amount, service_account=service_account)
    earliest, latest = schedule_window(service_account=service_account, today=today)
    if not earliest <= pay_on <= latest:
        raise ApplicationError(_("Choose a date from tomorrow up to the due date."))
    if bank_account is not None:
        first = first_debit_date(bank_account=bank_account, today=today)
        if banking_day_on_or_after(pay_on) < first:
            raise ApplicationError(
                format_lazy(
                    _(
                        "Your bank account is still being checked with your bank: the first payment from it "
                        "can be on {date} or later."
                    ),
                    date=local_date(first, "DATE_FORMAT"),
                )
            )
    return ScheduledPayment.objects.create(
        service_account=service_account,
        user=user,
        amount=amount,
        pay_on=pay_on,
        card=card,
        bank_account=bank_account,
        authorization=authorization,
    )


def scheduled_payment_cancel(*, scheduled: ScheduledPayment, user: User, today: dt.date) -> ScheduledPayment:
    """Until the day before its date: on its day it may already be on its way."""
    if today >= scheduled.pay_on:
        raise ApplicationError(
            _("A scheduled payment can be cancelled until the day before. Please call us about this one.")
        )
    cancelled = ScheduledPayment.objects.filter(
        pk=scheduled.pk, status=ScheduledPayment.Status.SCHEDULED
    ).update(status=ScheduledPayment.Status.CANCELLED, cancelled_at=timezone.now())
    if not cancelled:
        raise ApplicationError(_("This payment is no longer scheduled, so it cannot be cancelled."))
    scheduled.refresh_from_db()
    return scheduled


def _claim(scheduled_id: int, on: dt.date) -> ScheduledPayment | None:
    """SCHEDULED -> PROCESSING in one statement, with the payment row made in the same
    transaction; None when another run claimed it first (or it was cancelled)."""
    with transaction.atomic():
        claimed = ScheduledPayment.objects.filter(
            pk=scheduled_id, status=ScheduledPayment.Status.SCHEDULED, pay_on__lte=on
        ).update(status=ScheduledPayment.Status.PROCESSING)
        if not claimed:
            return None
        scheduled = ScheduledPayment.objects.select_related("card__user__stripe_customer", "user").get(
            pk=scheduled_id
        )
        if scheduled.card_id:
            card = scheduled.card
            scheduled.payment = Payment.objects.create(
                service_account_id=scheduled.service_account_id,
                amount=scheduled.amount,
                channel=Payment.Channel.ONLINE,
                method=Payment.Method.CARD,
                received_on=on,
                created_by=scheduled.user,
                receipt_email=scheduled.user.email,
                stripe_customer_id=card.user.stripe_customer.customer_id,
                stripe_payment_method_id=card.stripe_payment_method_id,
                card_brand=card.brand,
                card_last4=card.last4,
            )
            scheduled.save(update_fields=["payment", "updated_at"])
    return scheduled


@dataclass
class ScheduledRunResult:
    paid: int = 0
    sent: int = 0
    failed: int = 0


def scheduled_payments_run(*, on: dt.date, bank_only: bool = False) -> ScheduledRunResult:
    """Make every scheduled payment whose day has come. The NACHA file for a day makes that day's
    bank payments first (bank_only), so their debits go in it. Card charges need no transaction
    held by the caller."""
    result = ScheduledRunResult()
    due = ScheduledPayment.objects.filter(status=ScheduledPayment.Status.SCHEDULED, pay_on__lte=on)
    if bank_only:
        due = due.filter(bank_account__isnull=False)
    for scheduled_id in due.values_list("pk", flat=True):
        scheduled = _claim(scheduled_id, on)
        if scheduled is None:
            continue
        if scheduled.bank_account_id:
            _make_bank_payment(scheduled, on=on, result=result)
        else:
            _charge_card(scheduled, on=on, result=result)
    return result


def _make_bank_payment(scheduled: ScheduledPayment, *, on: dt.date, result: ScheduledRunResult) -> None:
    try:
        payment = bank_payment_make(
            client_token=uuid.uuid5(uuid.NAMESPACE_URL, f"portal-scheduled-{scheduled.pk}"),
            user=scheduled.user,
            service_account=scheduled.service_account,
            bank_account=scheduled.bank_account,
            amount=scheduled.amount,
            today=on - dt.timedelta(days=1),  # due for the file dated its day, sent the day before
            on=scheduled.pay_on,
            authorization=scheduled.authorization,
        )
    except ApplicationError as exc:
        _failed(scheduled, message=str(exc.message))
        result.failed += 1
        return
    ScheduledPayment.objects.filter(pk=scheduled.pk).update(
        status=ScheduledPayment.Status.SENT, payment=payment
    )
    result.sent += 1


def _charge_card(scheduled: ScheduledPayment, *, on: dt.date, result: ScheduledRunResult) -> None:
    try:
        outcome = payment_intent_submit(
            payment=scheduled.payment,
            payment_method_id=scheduled.payment.stripe_payment_method_id,
            off_session=True,
            metadata={"scheduled_payment_id": str(scheduled.pk)},
        )
    except gateway.GatewayError:
        return  # left PROCESSING with its payment: reconciliation settles it from Stripe's word
    if outcome.payment.status == Payment.Status.SUCCEEDED:
        ScheduledPayment.objects.filter(pk=scheduled.pk).update(status=ScheduledPayment.Status.PAID)
        result.paid += 1
        return
    _failed(scheduled, message=outcome.message or outcome.payment.failure_message)
    result.failed += 1


def _failed(scheduled: ScheduledPayment, *, message: str) -> None:
    ScheduledPayment.objects.filter(pk=scheduled.pk).update(
        status=ScheduledPayment.Status.FAILED, failure_message=message[:300]
    )
    account = scheduled.service_account
    email_send(
        kind=PAYMENT_FAILED,
        subject=format_lazy(
            _("Scheduled payment failed for account {number}"), number=account.account_number
        ),
        template="emails/notice",
        context={
            "lines": [
                format_lazy(
                    _("Your scheduled payment of {amount} for account {number} was not made: {reason}"),
                    amount=money(scheduled.amount),
                    number=account.account_number,
                    reason=message,
                ),
                _("Please pay online or call us."),
            ],
            "link": settings.PORTAL_BASE_URL + reverse("pay_account", args=[account.pk]),
            "link_text": _("Pay online"),
        },
        users=[scheduled.user],
        required=True,
        account_number=account.account_number,
        reference=f"scheduled:{scheduled.pk}:failed",
    )


def scheduled_payments_remind(*, on: dt.date) -> int:
    """The day before each scheduled payment: what, how, and how to cancel (today is the last day)."""
    sent = 0
    tomorrow = on + dt.timedelta(days=1)
    for scheduled in ScheduledPayment.objects.filter(
        status=ScheduledPayment.Status.SCHEDULED, pay_on=tomorrow, reminder_sent_at__isnull=True
    ).select_related("service_account", "user", "card", "bank_account"):
        if not ScheduledPayment.objects.filter(pk=scheduled.pk, reminder_sent_at__isnull=True).update(
            reminder_sent_at=timezone.now()
        ):
            continue
        account = scheduled.service_account
        email_send(
            kind=AUTOPAY_SCHEDULED,
            subject=format_lazy(_("Payment tomorrow for account {number}"), number=account.account_number),
            template="emails/notice",
            context={
                "lines": [
                    format_lazy(
                        _("Tomorrow, {date}, we will pay {amount} on account {number} with your {method}."),
                        date=local_date(scheduled.pay_on, "DATE_FORMAT"),
                        amount=money(scheduled.amount),
                        number=account.account_number,
                        method=scheduled.method_label,
                    ),
                    _("To cancel it, use the link below today."),
                ],
                "link": settings.PORTAL_BASE_URL + reverse("scheduled_payments", args=[account.pk]),
                "link_text": _("See your scheduled payments"),
            },
            users=[scheduled.user],
            required=True,  # promised in the terms the customer accepted
            account_number=account.account_number,
            reference=f"scheduled:{scheduled.pk}:reminder",
        )
        sent += 1
    return sent
