"""Bank accounts customers add online, and one-time debits from them.

A new bank account is checked with a prenote before its first debit: the next NACHA file carries
a zero-dollar WEB entry to it; with no return `BANK_PRENOTE_WAIT_DAYS` banking days after that
file settles, live debits may follow (NACHA's account validation rule for WEB debits). A prenote
asks nothing of the customer, unlike micro-entries (two small deposits they must look up and
type back), which is why the portal uses it: the first payment simply waits a few days.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from accounts.notifications import email_send
from autopay.models import (
    AutopayDraft,
    AutopayEnrollment,
    BankAccount,
    BankDraftAgreement,
    BankPayment,
    PaymentAuthorization,
    ScheduledPayment,
)
from autopay.services.enrollment import aba_routing_number_valid
from billing.calendar import banking_day_after, banking_day_on_or_after
from billing.models import Payment
from billing.notification_kinds import PAYMENT_RECEIVED
from billing.services.payments import account_payment_check
from kernel.crypto import decrypt, encrypt
from kernel.errors import ApplicationError
from kernel.i18n import local_date
from kernel.money import money


def bank_account_details_check(*, routing_number: str, account_number: str, account_type: str) -> None:
    if not aba_routing_number_valid(routing_number):
        raise ApplicationError(
            _("That routing number is not valid: check the nine digits at the bottom left of a check.")
        )
    if not account_number.isdigit() or not 4 <= len(account_number) <= 17:
        raise ApplicationError(_("The bank account number must be 4 to 17 digits."))
    if account_type not in BankDraftAgreement.AccountType.values:
        raise ApplicationError(_("Choose checking or savings."))


def bank_account_add(
    *,
    user: User,
    holder_name: str,
    routing_number: str,
    account_number: str,
    account_type: str,
    authorization: PaymentAuthorization | None = None,
) -> BankAccount:
    """Keep a new bank account for this login (the number encrypted), to be checked by prenote.
    The same account added again is the one already kept."""
    routing_number = routing_number.strip()
    account_number = "".join(account_number.split())
    bank_account_details_check(
        routing_number=routing_number, account_number=account_number, account_type=account_type
    )
    for existing in BankAccount.objects.filter(
        user=user,
        routing_number=routing_number,
        account_last4=account_number[-4:],
        removed_at__isnull=True,
    ).exclude(status=BankAccount.Status.ENDED):
        if decrypt(existing.account_number_encrypted) == account_number:
            return existing
    return BankAccount.objects.create(
        user=user,
        holder_name=holder_name.strip()[:100],
        routing_number=routing_number,
        account_number_encrypted=encrypt(account_number),
        account_last4=account_number[-4:],
        account_type=account_type,
        authorization=authorization,
    )


def bank_accounts_usable(*, user: User):
    return BankAccount.objects.filter(user=user, removed_at__isnull=True).exclude(
        status=BankAccount.Status.ENDED
    )


def next_file_date(today: dt.date) -> dt.date:
    """The effective date of the first NACHA file not yet sent: the next banking day (the file for
    a date goes to the bank the banking day before)."""
    return banking_day_on_or_after(today + dt.timedelta(days=1))


def first_debit_date(*, bank_account: BankAccount | None, today: dt.date) -> dt.date:
    """The earliest date a live debit from this account can be dated: the next file, or, for an
    account still being checked (None: one about to be added), the wait after its prenote."""
    earliest = next_file_date(today)
    if bank_account is not None and bank_account.status == BankAccount.Status.VERIFIED:
        return earliest
    prenote_on = (bank_account.prenote_file_date if bank_account else None) or earliest
    return max(earliest, banking_day_after(prenote_on, settings.BANK_PRENOTE_WAIT_DAYS))


def live_debit_allowed(*, bank_account: BankAccount, on: dt.date) -> bool:
    """Whether a file dated `on` may carry a live debit from this account."""
    if bank_account.status == BankAccount.Status.ENDED:
        return False
    if bank_account.status == BankAccount.Status.VERIFIED:
        return True
    return bank_account.prenote_file_date is not None and on >= banking_day_after(
        bank_account.prenote_file_date, settings.BANK_PRENOTE_WAIT_DAYS
    )


def bank_payment_make(
    *,
    client_token: uuid.UUID,
    user: User,
    service_account: ServiceAccount,
    bank_account: BankAccount,
    amount: Decimal,
    today: dt.date,
    authorization: PaymentAuthorization | None = None,
    on: dt.date | None = None,
    channel: str = Payment.Channel.ONLINE,
    recurring: bool = False,
) -> Payment:
    """A debit from the customer's bank account, pending until its file settles. `on` is a later
    date the customer chose (scheduled); otherwise the first date the account allows. The same
    client_token finds the same payment: a double submit debits once."""
    existing = Payment.objects.filter(client_token=client_token).first()
    if existing is not None:
        if existing.service_account_id != service_account.pk or existing.created_by_id != user.pk:
            raise ApplicationError(_("This page has expired. Please reload it and try again."))
        return existing
    if bank_account.user_id != user.pk or not bank_account.usable:
        raise ApplicationError(_("Choose one of your own bank accounts."))
    account_payment_check(amount=amount, service_account=service_account)
    debit_on = max(on or today, first_debit_date(bank_account=bank_account, today=today))
    try:
        with transaction.atomic():
            payment = bank_payment_record(
                client_token=client_token,
                user=user,
                service_account=service_account,
                bank_account=bank_account,
                amount=amount,
                received_on=banking_day_on_or_after(debit_on),
                channel=channel,
                recurring=recurring,
                authorization=authorization,
            )
    except IntegrityError:  # the same form sent twice at once: the first one made it
        return Payment.objects.get(client_token=client_token)
    transaction.on_commit(lambda: _bank_payment_email(payment, bank_account))
    return payment


def bank_payment_record(
    *,
    client_token,
    user,
    service_account,
    bank_account,
    amount,
    received_on,
    channel,
    recurring,
    authorization,
) -> Payment:
    """Within the caller's transaction: the pending payment and its debit, for the NACHA file
    dated `received_on` (or a later one, when the account's prenote wait is not over)."""
    payment = Payment.objects.create(
        client_token=client_token,
        service_account=service_account,
        amount=amount,
        channel=channel,
        method=Payment.Method.BANK,
        received_on=received_on,
        created_by=user,
        receipt_email=user.email,
    )
    BankPayment.objects.create(
        payment=payment, bank_account=bank_account, recurring=recurring, authorization=authorization
    )
    return payment


def _bank_payment_email(payment: Payment, bank_account: BankAccount) -> None:
    account = payment.service_account
    email_send(
        kind=PAYMENT_RECEIVED,
        subject=format_lazy(
            _("Bank payment {confirmation} for account {number}"),
            confirmation=payment.confirmation_number,
            number=account.account_number,
        ),
        template="emails/notice",
        context={
            "lines": [
                format_lazy(
                    _(
                        "We will debit {amount} from your {bank} on {date} to pay account {number}. "
                        "Confirmation number: {confirmation}."
                    ),
                    amount=money(payment.amount),
                    bank=bank_account,
                    date=local_date(payment.received_on, "DATE_FORMAT"),
                    number=account.account_number,
                    confirmation=payment.confirmation_number,
                ),
                _("The payment shows as pending until then, and is credited to the account that day."),
                _("What you authorized:"),
                *([payment.bank_debit.authorization.text] if payment.bank_debit.authorization_id else []),
            ]
        },
        users=[bank_account.user],
        required=True,  # NACHA: the customer gets a copy of a debit authorization
        account_number=account.account_number,
        reference=f"payment:{payment.pk}:bank",
    )


def bank_payments_pending(*, service_account: ServiceAccount):
    """Debits waiting for their settlement date, soonest first."""
    return (
        Payment.objects.filter(
            service_account=service_account, method=Payment.Method.BANK, status=Payment.Status.PENDING
        )
        .filter(Q(bank_debit__isnull=False))
        .select_related("bank_debit__bank_account")
        .order_by("received_on", "pk")
    )


@dataclass
class Ended:
    cancelled: int  # debits not yet sent, cancelled
    autopay_stopped: list[str]  # the service accounts whose autopay used this bank account


def bank_account_end(*, bank_account: BankAccount, reason: str, returned_on: dt.date) -> Ended:
    """Stop using a bank account (its bank returned an entry as closed, unknown or unauthorized):
    debits not yet sent are cancelled, scheduled payments from it too, and autopay that used it
    stops. Within the caller's transaction or its own."""
    with transaction.atomic():
        # Lock order, as cancelling autopay and claiming a draft take it: enrollments first, then
        # the bank account, then its debits.
        # Only the enrollment rows (of=self), in key order: the accounts read beside them stay unlocked.
        enrollments = (
            AutopayEnrollment.objects.select_for_update(of=("self",))
            .filter(bank_account=bank_account, status=AutopayEnrollment.Status.ACTIVE)
            .select_related("service_account")
            .order_by("pk")
        )
        stopped = [e.service_account.account_number for e in enrollments]
        BankAccount.objects.filter(pk=bank_account.pk).update(
            status=BankAccount.Status.ENDED, ended_reason=f"{returned_on}: {reason}"[:200]
        )
        # Locked as the file build locks them: each debit is either in a file or cancelled here.
        locked = list(
            BankPayment.objects.select_for_update()
            .filter(bank_account=bank_account, file_date__isnull=True)
            .values_list("payment_id", flat=True)
        )
        unsent = Payment.objects.filter(pk__in=locked, status=Payment.Status.PENDING)
        AutopayDraft.objects.filter(payment__in=unsent).update(
            status=AutopayDraft.Status.FAILED, failure_message="The bank account can no longer be used."
        )
        cancelled = unsent.update(
            status=Payment.Status.CANCELED, failure_message="The bank account can no longer be used."
        )
        ScheduledPayment.objects.filter(
            bank_account=bank_account, status=ScheduledPayment.Status.SCHEDULED
        ).update(
            status=ScheduledPayment.Status.CANCELLED,
            cancelled_at=timezone.now(),
            failure_message="The bank account can no longer be used.",
        )
        enrollments.update(status=AutopayEnrollment.Status.CANCELLED, cancelled_at=timezone.now())
    return Ended(cancelled=cancelled, autopay_stopped=stopped)


def autopay_stopped_lines(numbers: list[str]) -> list:
    return [
        format_lazy(
            _(
                "Autopay for account {number} has stopped. Please set it up again with another card or account."
            ),
            number=number,
        )
        for number in numbers
    ]
