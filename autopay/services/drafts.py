"""The draft run: every card enrollment and bank agreement whose draft date has come.

Safety: a draft row is unique per (enrollment or agreement, billing period), so a second
run, a second worker or a re-run after a crash finds the row instead of drafting again. The
row is claimed (SCHEDULED/RETRY -> CHARGING) in a short transaction; Stripe is called after
it commits, with an idempotency key derived from the row and attempt.

A chunk's card enrollments are claimed in one such transaction and their payments settled in
another, with one Stripe call each in between, its PaymentIntent kept the moment Stripe answers:
the run's own work per enrollment is one statement and a share of a few, not a dozen queries
beside each charge. A claim a stopped run left behind is finished by the next run: from the kept
PaymentIntent when there is one (the database guards against a second charge; Stripe's
idempotency keys expire after a day), else asking Stripe with the same idempotency key.
"""

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.notifications import email_send, users_for_account
from autopay.models import AutopayDraft, AutopayEnrollment, BankAccount, BankDraftAgreement, BankPayment
from autopay.notification_kinds import AUTOPAY_SCHEDULED, PAYMENT_FAILED
from autopay.services.bank_accounts import bank_payment_record, first_debit_date
from autopay.services.enrollment import card_expires_before
from billing import stripe_gateway as gateway
from billing.calendar import add_months, banking_day_on_or_after, local_today
from billing.models import Bill, Payment
from billing.services.payments import (
    ChargeOutcome,
    payment_declined,
    payment_intent_create,
    payment_intent_submit,
    payment_refresh,
    payments_settle,
)
from kernel.db import rows_update
from kernel.errors import ApplicationError
from kernel.i18n import lazy_lower, local_date
from kernel.money import ZERO, money
from kernel.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

# A draft claimed this long ago whose charge never reached Stripe was left by a stopped worker.
CHARGING_STALE_AFTER = dt.timedelta(minutes=5)


def card_draft_date(*, draft_day: int, issued_on: dt.date) -> dt.date:
    """The first day numbered `draft_day` on or after the bill's issue date."""
    candidate = issued_on.replace(day=draft_day)
    return candidate if candidate >= issued_on else add_months(issued_on, 1).replace(day=draft_day)


def enrollment_draft_date(*, enrollment: AutopayEnrollment, issued_on: dt.date) -> dt.date:
    """A card is charged on the chosen day. A bank account is debited on the chosen day but never
    sooner than BANK_DRAFT_NOTICE_DAYS after the bill is issued (the bill, and the reminder sent
    that many days ahead, tell the customer the amount first, as the rules on preauthorized debits
    of varying amounts ask), moved to the next banking day when that is a weekend or holiday."""
    day = card_draft_date(draft_day=enrollment.draft_day, issued_on=issued_on)
    if enrollment.bank_account_id is None:
        return day
    return banking_day_on_or_after(max(day, issued_on + dt.timedelta(days=settings.BANK_DRAFT_NOTICE_DAYS)))


DAILY_RUN_HOUR = 6  # the beat schedule's daily-autopay entry, 06:00 in the utility's time zone


def next_run_day(now: dt.datetime | None = None) -> dt.date:
    """The day of the next daily draft run: today before 06:00, else tomorrow."""
    local = timezone.localtime(now)
    return local.date() if local.hour < DAILY_RUN_HOUR else local.date() + dt.timedelta(days=1)


@dataclass(frozen=True)
class NextDraft:
    on: dt.date
    amount: Decimal | None  # what would be drafted now; None when the bill is not out yet
    estimate: Decimal | None = None  # the latest bill's new charges, when the bill is not out yet
    over_maximum: bool = False  # the amount is above the customer's maximum: it will not be charged


def next_draft(*, enrollment: AutopayEnrollment, now: dt.datetime | None = None) -> NextDraft:
    """When the draft run will next charge this enrollment, and about how much: always a day
    from the next run on, worked out with the run's own card_draft_date and autopay_amount."""
    first_run = next_run_day(now)
    today = timezone.localtime(now).date()
    bill = (
        Bill.objects.filter(service_account_id=enrollment.service_account_id, issued_on__lte=today)
        .order_by("-period")
        .first()
    )
    if bill is not None and bill.issued_on >= enrollment.starts_on:
        draft = (
            AutopayDraft.objects.filter(enrollment=enrollment, period=bill.period)
            .select_related("payment")
            .first()
        )
        made = draft.payment if draft is not None and draft.status == AutopayDraft.Status.CHARGING else None
        if made is not None and made.method == Payment.Method.BANK and made.status == Payment.Status.PENDING:
            # The debit is made and waits for its file: its own date and amount.
            return NextDraft(on=max(made.received_on, first_run), amount=made.amount)
        pending = draft is None or draft.status in (
            AutopayDraft.Status.SCHEDULED,
            AutopayDraft.Status.CHARGING,
        )
        if pending:
            amount = autopay_amount(service_account_id=enrollment.service_account_id, bill=bill)
            if amount >= Decimal("0.50"):
                on = enrollment_draft_date(enrollment=enrollment, issued_on=bill.issued_on)
                over = enrollment.max_amount is not None and amount > enrollment.max_amount
                return NextDraft(on=max(on, first_run), amount=amount, over_maximum=over)
    # A draft that failed and waits for its second try (autopay_due picks it up on its day,
    # whichever bill is the latest by then).
    retry = (
        AutopayDraft.objects.filter(enrollment=enrollment, status=AutopayDraft.Status.RETRY)
        .order_by("retry_on")
        .select_related("service_account")
        .first()
    )
    if retry is not None and retry.retry_on:
        bill_then = Bill.objects.get(service_account_id=enrollment.service_account_id, period=retry.period)
        amount = autopay_amount(service_account_id=enrollment.service_account_id, bill=bill_then)
        if amount >= Decimal("0.50"):
            return NextDraft(on=max(retry.retry_on, first_run), amount=amount)
    # The next bill: issued on the 1st by the monthly bill run.
    issue = (
        today
        if today.day == 1 and (bill is None or bill.issued_on < today)
        else add_months(today.replace(day=1), 1)
    )
    issue = max(issue, enrollment.starts_on)
    on = enrollment_draft_date(enrollment=enrollment, issued_on=issue)
    return NextDraft(on=max(on, first_run), amount=None, estimate=bill.new_charges if bill else None)


def bank_draft_date(*, due_date: dt.date) -> dt.date:
    """A paper agreement's draft: the 20th of the bill's due month, moved to the next banking
    day when the 20th is a weekend or a Federal Reserve holiday."""
    return banking_day_on_or_after(due_date.replace(day=settings.BANK_DRAFT_DAY))


# What autopay_amount needs of each (account, bill): the bill's total, the payments and credits
# since it was issued, the kept balance, and the bank payments the customer made that have not
# settled yet. Each read by index for the accounts given only.
AMOUNTS_SQL = f"""
SELECT x.account_id, x.period, b.total_due,
       COALESCE((SELECT sum(l.amount) FROM billing_ledgerentry l
                 WHERE l.service_account_id = x.account_id AND l.posted_on > b.issued_on AND l.amount < 0), 0),
       COALESCE((SELECT a.balance FROM billing_billingaccount a WHERE a.service_account_id = x.account_id), 0),
       COALESCE((SELECT sum(p.amount) FROM billing_payment p
                 WHERE p.service_account_id = x.account_id AND p.method = %(bank)s AND p.status = %(pending)s
                     AND EXISTS (SELECT 1 FROM {BankPayment._meta.db_table} d WHERE d.payment_id = p.id)), 0)
FROM unnest(%(accounts)s::bigint[], %(periods)s::date[]) AS x(account_id, period)
JOIN billing_bill b ON b.service_account_id = x.account_id AND b.period = x.period
"""  # noqa: S608 (a model's table name)


def autopay_amounts(*, bills: list[tuple[int, dt.date]]) -> dict[tuple[int, dt.date], Decimal]:
    """autopay_amount of many (account, bill's service month) pairs in one query; a pair with no
    bill is left out."""
    if not bills:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            AMOUNTS_SQL,
            {
                "accounts": [account for account, _period in bills],
                "periods": [period for _account, period in bills],
                "bank": Payment.Method.BANK,
                "pending": Payment.Status.PENDING,
            },
        )
        return {
            (account, period): max(min(total_due + since, balance) - pending, ZERO)
            for account, period, total_due, since, balance, pending in cursor.fetchall()
        }


def autopay_amount(*, service_account_id: int, bill: Bill) -> Decimal:
    """What is due on the latest bill less payments and credits since, never more than the
    balance (certified charges have left it) and never below zero; a bank payment the customer
    made that has not settled yet counts as paid."""
    return autopay_amounts(bills=[(service_account_id, bill.period)])[(service_account_id, bill.period)]


def _latest_bills(account_ids: list[int], on: dt.date) -> dict[int, Bill]:
    return {
        bill.service_account_id: bill
        for bill in Bill.objects.filter(service_account_id__in=account_ids, issued_on__lte=on)
        .order_by("service_account_id", "-period")
        .distinct("service_account_id")
    }


@dataclass(frozen=True)
class Due:
    enrollment_id: int | None
    agreement_id: int | None
    service_account_id: int
    period: dt.date
    draft_date: dt.date
    by_bank: bool = False  # an enrollment paying from a bank account (a debit in the NACHA file)


def autopay_due(*, on: dt.date, bank_enrollments_only: bool = False) -> list[Due]:
    """Enrollments and agreements whose draft for their latest bill is due on or before `on`
    and not yet made (days missed while no worker ran are caught up here). With
    bank_enrollments_only: the enrollments paying from bank accounts, for the NACHA file."""
    due: list[Due] = []
    enrollments = AutopayEnrollment.objects.filter(status=AutopayEnrollment.Status.ACTIVE).order_by("pk")
    if bank_enrollments_only:
        enrollments = enrollments.filter(bank_account__isnull=False)
    enrollments = list(enrollments)
    agreements = (
        []
        if bank_enrollments_only
        else list(BankDraftAgreement.objects.filter(status=BankDraftAgreement.Status.ACTIVE).order_by("pk"))
    )
    bills = _latest_bills([e.service_account_id for e in enrollments + agreements], on)
    done = {
        (d["enrollment_id"], d["agreement_id"], d["period"])
        for d in AutopayDraft.objects.exclude(
            status__in=[
                AutopayDraft.Status.SCHEDULED,
                AutopayDraft.Status.RETRY,
                AutopayDraft.Status.CHARGING,
            ]
        ).values("enrollment_id", "agreement_id", "period")
    }
    retry_later = {
        (d["enrollment_id"], d["agreement_id"], d["period"])
        for d in AutopayDraft.objects.filter(status=AutopayDraft.Status.RETRY, retry_on__gt=on).values(
            "enrollment_id", "agreement_id", "period"
        )
    }
    for enrollment in enrollments:
        bill = bills.get(enrollment.service_account_id)
        if bill is None or bill.issued_on < enrollment.starts_on:
            continue
        draft_date = enrollment_draft_date(enrollment=enrollment, issued_on=bill.issued_on)
        key = (enrollment.pk, None, bill.period)
        if draft_date <= on and key not in done and key not in retry_later:
            by_bank = enrollment.bank_account_id is not None
            due.append(
                Due(enrollment.pk, None, enrollment.service_account_id, bill.period, draft_date, by_bank)
            )
    if bank_enrollments_only:
        return due
    # Second tries come on their day even when a newer bill came out meanwhile.
    found = {(d.enrollment_id, d.period) for d in due}
    for draft in AutopayDraft.objects.filter(
        status=AutopayDraft.Status.RETRY, retry_on__lte=on, enrollment__status=AutopayEnrollment.Status.ACTIVE
    ).values("enrollment_id", "service_account_id", "period", "draft_date"):
        if (draft["enrollment_id"], draft["period"]) not in found:
            due.append(
                Due(
                    draft["enrollment_id"],
                    None,
                    draft["service_account_id"],
                    draft["period"],
                    draft["draft_date"],
                )
            )
    for agreement in agreements:
        bill = bills.get(agreement.service_account_id)
        if bill is None:
            continue
        # A paper agreement drafts on the 20th (the bill's own due date), or the next banking day.
        draft_date = bank_draft_date(due_date=bill.due_date)
        key = (None, agreement.pk, bill.period)
        if bill.issued_on >= agreement.signed_on and draft_date <= on and key not in done:
            due.append(Due(None, agreement.pk, agreement.service_account_id, bill.period, draft_date))
    return due


@dataclass
class RunResult:
    drafted: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    bank_scheduled: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: "RunResult") -> None:
        for name in ("drafted", "succeeded", "failed", "skipped", "bank_scheduled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


def _claim(due: Due, on: dt.date) -> tuple[AutopayDraft | None, bool]:
    """Find or make the period's draft row and claim it for charging.

    Returns (draft to charge or None, whether it was skipped because nothing is due).
    """
    lookup = {"enrollment_id": due.enrollment_id} if due.enrollment_id else {"agreement_id": due.agreement_id}
    # A chunk may run long after it was found due (it waited in the outbox while Redis was down):
    # an enrollment or agreement cancelled since then is not drafted.
    still = (
        AutopayEnrollment.objects.filter(pk=due.enrollment_id)
        if due.enrollment_id
        else BankDraftAgreement.objects.filter(pk=due.agreement_id)
    )
    if not still.filter(status="active").exists():
        return None, True
    try:
        with transaction.atomic():
            AutopayDraft.objects.get_or_create(
                **lookup,
                period=due.period,
                defaults={"service_account_id": due.service_account_id, "draft_date": due.draft_date},
            )
    except IntegrityError:
        pass  # another worker made it a moment ago
    with transaction.atomic():
        # An enrollment is locked first (the order autopay_cancel and bank_account_end take) and
        # checked again: a cancel or change committed meanwhile is seen, one after waits for this.
        if due.enrollment_id and not list(
            AutopayEnrollment.objects.select_for_update().filter(
                pk=due.enrollment_id, status=AutopayEnrollment.Status.ACTIVE
            )
        ):
            return None, True
        draft = AutopayDraft.objects.select_for_update().get(**lookup, period=due.period)
        if draft.status == AutopayDraft.Status.RETRY and draft.retry_on and draft.retry_on > on:
            return None, False
        if draft.status not in (AutopayDraft.Status.SCHEDULED, AutopayDraft.Status.RETRY):
            return _claimed_before(draft), False
        bill = Bill.objects.get(service_account_id=due.service_account_id, period=due.period)
        amount = autopay_amount(service_account_id=due.service_account_id, bill=bill)
        draft.amount = amount
        if _claim_refused(draft, amount=amount):
            draft.save(update_fields=["amount", "status", "failure_message", "updated_at"])
            return None, True
        draft.attempts += 1
        draft.payment = _claim_payment(draft, due=due, amount=amount, on=on)
        if draft.payment is None:  # the bank account ended or was removed a moment ago
            draft.status = AutopayDraft.Status.FAILED
            draft.failure_message = "The bank account can no longer be used."
            draft.save(update_fields=["amount", "attempts", "status", "failure_message", "updated_at"])
            return None, False
        draft.status = AutopayDraft.Status.CHARGING
        draft.save(
            update_fields=["amount", "attempts", "payment", "status", "reminder_sent_at", "updated_at"]
        )
    return draft, False


def _claimed_before(draft: AutopayDraft) -> AutopayDraft | None:
    """A draft an earlier run claimed (the caller holds its lock): the draft to finish when that
    run stopped long ago with its card payment pending, else None. A fresh claim belongs to a run
    still at work, and is left to it."""
    stale = draft.updated_at < timezone.now() - CHARGING_STALE_AFTER
    if not (
        draft.status == AutopayDraft.Status.CHARGING
        and draft.payment_id
        and draft.payment.method == Payment.Method.CARD  # a bank debit waits for its file
        and stale
    ):
        return None
    payment = draft.payment
    if payment.status == Payment.Status.PENDING:
        # Finished from the PaymentIntent Stripe answered with when one was kept, else by asking
        # with the same idempotency key.
        AutopayDraft.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
        return draft
    if payment.status == Payment.Status.SUCCEEDED:
        # Stripe charged it and a webhook or the reconciliation settled the payment after the run
        # stopped: the draft is done.
        AutopayDraft.objects.filter(pk=draft.pk).update(
            status=AutopayDraft.Status.SUCCEEDED, failure_message=""
        )
    return None


def _claim_payment(draft: AutopayDraft, *, due: Due, amount: Decimal, on: dt.date) -> Payment | None:
    """The claimed draft's payment: a debit from an online bank account (None when that account
    can no longer be used), a card payment, or a paper agreement's draft."""
    if draft.enrollment_id and draft.enrollment.bank_account_id:
        return _bank_debit_record(draft, amount=amount, due=due)
    if draft.enrollment_id:
        payment = _card_payment(
            draft.enrollment, service_account_id=due.service_account_id, amount=amount, on=on
        )
        payment.save()
        return payment
    return Payment.objects.create(
        service_account_id=due.service_account_id,
        amount=amount,
        channel=Payment.Channel.AUTOPAY,
        method=Payment.Method.BANK,
        received_on=due.draft_date,
    )


def _bank_debit_record(draft: AutopayDraft, *, amount: Decimal, due: Due) -> Payment | None:
    """Within the claim's transaction: the recurring debit (WEB payment type R), dated the draft
    date or, for an account still being checked, the first date its prenote allows. It goes in
    that date's NACHA file and stays pending until it settles. None when the account can no
    longer be used. When the notice of the amount did not go out ahead (autopay was set up or
    moved to this account since), it goes now and the debit waits the notice period."""
    enrollment = draft.enrollment
    # Locked: serialised with bank_account_end, so no debit is made on an account just ended.
    bank_account = BankAccount.objects.select_for_update().get(pk=enrollment.bank_account_id)
    if not bank_account.usable:
        return None
    today = local_today()
    on = max(due.draft_date, first_debit_date(bank_account=bank_account, today=today))
    noticed = draft.reminder_sent_at is not None
    if not noticed:
        on = max(on, today + dt.timedelta(days=settings.BANK_DRAFT_NOTICE_DAYS))
        draft.reminder_sent_at = timezone.now()
    on = banking_day_on_or_after(on)
    payment = bank_payment_record(
        client_token=None,
        user=enrollment.user,
        service_account=enrollment.service_account,
        bank_account=bank_account,
        amount=amount,
        received_on=on,
        channel=Payment.Channel.AUTOPAY,
        recurring=True,
        authorization=enrollment.authorization,
    )
    if not noticed:
        transaction.on_commit(lambda: _bank_notice_send(draft, amount=amount, on=on))
    return payment


def _bank_notice_send(draft: AutopayDraft, *, amount: Decimal, on: dt.date) -> None:
    """The notice of a bank debit's amount and date (required: it goes whatever the switches say)."""
    email_send(
        kind=AUTOPAY_SCHEDULED,
        subject=format_lazy(
            _("Autopay on {date}: {amount}"), date=local_date(on, "MONTH_DAY_FORMAT"), amount=money(amount)
        ),
        template="emails/notice",
        context={"lines": [_bank_enrollment_reminder(draft.enrollment, amount=amount, on=on)]},
        users=[draft.enrollment.user],
        required=True,
        account_number=draft.service_account.account_number,
        reference=f"draft:{draft.pk}:reminder",
    )


def autopay_draft(*, due: Due, on: dt.date) -> RunResult:
    """Draft one enrollment or agreement for one period. Caller must not hold a transaction."""
    result = RunResult()
    draft, skipped = _claim(due, on)
    if draft is None:
        result.skipped += int(skipped)
        return result
    result.drafted += 1
    if draft.payment.method == Payment.Method.BANK:
        # Bank drafts go to the bank in the NACHA file for their date (export_nacha).
        result.bank_scheduled += 1
        return result
    if draft.payment.stripe_payment_intent_id:
        # A run that stopped had asked Stripe, and kept the PaymentIntent it answered with: settle
        # from that one, never a second charge (the database, not Stripe's idempotency keys,
        # guards against double charges).
        payment = payment_refresh(payment=draft.payment)
        if payment.status == Payment.Status.PENDING:
            return result  # still processing at Stripe: the reconciliation settles it
        outcome = ChargeOutcome(payment=payment, message=payment.failure_message)
    else:
        outcome = payment_intent_submit(
            payment=draft.payment,
            payment_method_id=draft.payment.stripe_payment_method_id,
            off_session=True,
            metadata={"autopay_draft_id": str(draft.pk)},
        )
    payment = outcome.payment
    if payment.status == Payment.Status.SUCCEEDED:
        AutopayDraft.objects.filter(pk=draft.pk).update(
            status=AutopayDraft.Status.SUCCEEDED, failure_message=""
        )
        result.succeeded += 1
        return result
    _draft_failed(draft, message=outcome.message or payment.failure_message, code=outcome.code, on=on)
    result.failed += 1
    return result


def _over_maximum_email(draft: AutopayDraft) -> None:
    account = draft.service_account
    email_send(
        kind=PAYMENT_FAILED,
        subject=format_lazy(_("Autopay did not pay account {number}"), number=account.account_number),
        template="emails/notice",
        context={
            "lines": [
                format_lazy(
                    _(
                        "The amount due on account {number}, {amount}, is more than the maximum of {maximum} "
                        "you set for autopay, so we did not charge your card this month."
                    )
                    if draft.enrollment.card_id
                    else _(
                        "The amount due on account {number}, {amount}, is more than the maximum of {maximum} "
                        "you set for autopay, so we did not debit your bank account this month."
                    ),
                    number=account.account_number,
                    amount=money(draft.amount),
                    maximum=money(draft.enrollment.max_amount),
                ),
                _(
                    "Please pay it yourself before the due date. A new maximum set on the autopay page "
                    "counts from the next bill."
                ),
            ],
            "link": settings.PORTAL_BASE_URL + reverse("pay_account", args=[account.pk]),
            "link_text": _("Pay online"),
        },
        users=[draft.enrollment.user],
        required=True,  # the terms promise this email: it goes whatever the switches say
        account_number=account.account_number,
        reference=f"draft:{draft.pk}:over-maximum",
    )


def _draft_failed(draft: AutopayDraft, *, message: str, code: str, on: dt.date) -> None:
    """One retry after AUTOPAY_RETRY_DAYS, then normal past-due handling. A bank that wants the
    customer to confirm (authentication_required) cannot be satisfied off-session: ask them to pay."""
    can_retry = draft.attempts < 2 and code != "authentication_required"
    retry_on = on + dt.timedelta(days=settings.AUTOPAY_RETRY_DAYS) if can_retry else None
    AutopayDraft.objects.filter(pk=draft.pk).update(
        status=AutopayDraft.Status.RETRY if can_retry else AutopayDraft.Status.FAILED,
        retry_on=retry_on,
        failure_message=message[:300],
    )
    account = draft.service_account
    lines = [
        format_lazy(
            _("Your autopay payment of {amount} for account {number} did not go through: {reason}"),
            amount=money(draft.amount),
            number=account.account_number,
            reason=message,
        )
    ]
    if code == "authentication_required":
        lines.append(_("Your bank wants you to confirm this payment yourself. Please pay online."))
    elif can_retry:
        lines.append(
            format_lazy(
                _("We will try again on {date}. You can also pay online now."),
                date=local_date(retry_on, "MONTH_DAY_FORMAT"),
            )
        )
    else:
        lines.append(_("We will not try again this month. Please pay online or call us."))
    email_send(
        kind=PAYMENT_FAILED,
        subject=format_lazy(_("Autopay payment failed for account {number}"), number=account.account_number),
        template="emails/notice",
        context={
            "lines": lines,
            "link": settings.PORTAL_BASE_URL + reverse("pay_account", args=[account.pk]),
            "link_text": _("Pay online"),
        },
        users=[draft.enrollment.user] if draft.enrollment_id else users_for_account(service_account=account),
        account_number=account.account_number,
        reference=f"draft:{draft.pk}:{draft.attempts}",
    )


def autopay_run(*, on: dt.date, chunk_size: int = 100, fan_out: bool = False) -> RunResult:
    """Draft everything due on or before `on`. With fan_out, chunks go to Celery workers."""
    due = autopay_due(on=on)
    result = RunResult()
    for start in range(0, len(due), chunk_size):
        chunk = due[start : start + chunk_size]
        if fan_out:
            outbox_enqueue(
                "autopay.tasks.autopay_draft_chunk",
                [[d.__dict__ for d in chunk], on.isoformat()],
                items=len(chunk),
            )
        else:
            result.merge(autopay_draft_many(due=chunk, on=on))
    return result


def autopay_draft_many(*, due: list[Due], on: dt.date) -> RunResult:
    """Draft a chunk. Card enrollments are claimed together, charged one Stripe call each and
    settled together: a few queries for the whole chunk beside the Stripe calls. Agreements, bank
    accounts and drafts a stopped run left claimed go one by one (autopay_draft)."""
    result = RunResult()
    claimed, one_by_one, claims = _claim_cards([item for item in due if item.enrollment_id], on)
    result.merge(claims)
    result.merge(_charge_cards(claimed, on))
    for item in one_by_one + [item for item in due if not item.enrollment_id]:
        try:
            result.merge(autopay_draft(due=item, on=on))
        except gateway.GatewayError as exc:
            # Stripe unreachable: the draft stays claimed and is finished by the next run.
            result.errors.append(f"{item.service_account_id}: {exc}")
    return result


def _claim_cards(items: list[Due], on: dt.date) -> tuple[list[AutopayDraft], list[Due], RunResult]:
    """_claim for a chunk of enrollments, in one transaction: the enrollments locked first, then
    their drafts (each in key order, as _claim takes them one at a time), amounts read at once,
    payments and drafts written in bulk. Returns the drafts to charge, the items for the one-by-one
    path (bank accounts, claims a stopped run left) and the count of those skipped."""
    result, claimed = RunResult(), []
    batch, one_by_one = _card_batch(items)
    if not batch:
        return claimed, one_by_one, result
    with transaction.atomic():
        enrollments = {
            e.pk: e
            for e in AutopayEnrollment.objects.select_for_update(of=("self",))
            .select_related("user", "card__user__stripe_customer")
            .filter(pk__in={item.enrollment_id for item in batch}, status=AutopayEnrollment.Status.ACTIVE)
            .order_by("pk")
        }
        cards = []
        for item in batch:
            enrollment = enrollments.get(item.enrollment_id)
            if enrollment is None:
                result.skipped += 1  # cancelled since it was found due
            elif enrollment.bank_account_id or enrollment.card is None:
                one_by_one.append(item)  # changed to a bank account a moment ago
            else:
                cards.append((item, enrollment))
        drafts = _drafts_locked(cards)
        amounts = autopay_amounts(bills=[(item.service_account_id, item.period) for item, _e in cards])
        changed, now = [], timezone.now()
        for item, enrollment in cards:
            draft = drafts[(enrollment.pk, item.period)]
            draft.enrollment = enrollment
            if draft.status == AutopayDraft.Status.RETRY and draft.retry_on and draft.retry_on > on:
                continue
            amount = amounts.get((item.service_account_id, item.period))
            if (
                draft.status not in (AutopayDraft.Status.SCHEDULED, AutopayDraft.Status.RETRY)
                or amount is None
            ):
                one_by_one.append(item)  # _claim decides, as it always has
                continue
            changed.append(draft)
            draft.amount, draft.updated_at = amount, now
            if _claim_refused(draft, amount=amount):
                result.skipped += 1
                continue
            draft.attempts += 1
            draft.status = AutopayDraft.Status.CHARGING
            draft.payment = _card_payment(
                enrollment, service_account_id=item.service_account_id, amount=amount, on=on
            )
            claimed.append(draft)
        _claims_write(claimed, changed)
    return claimed, one_by_one, result


def _card_batch(items: list[Due]) -> tuple[list[Due], list[Due]]:
    """The items a chunk claims together (card enrollments whose customer Stripe knows, each
    enrollment once) and those that go one by one.

    Only card enrollments are locked in a batch: bank accounts go one by one, so a chunk never
    holds the enrollments a bank account's change or return waits on. An enrollment's second
    draft in the chunk (a retry of an older bill) also goes one by one, after the first is
    settled: its amount must count that payment."""
    by_card = set(
        AutopayEnrollment.objects.filter(
            pk__in={item.enrollment_id for item in items},
            bank_account__isnull=True,
            card__user__stripe_customer__isnull=False,
        ).values_list("pk", flat=True)
    )
    batch, one_by_one = [], []
    for item in items:
        if item.enrollment_id in by_card:
            by_card.discard(item.enrollment_id)
            batch.append(item)
        else:
            one_by_one.append(item)
    return batch, one_by_one


def _claims_write(claimed: list[AutopayDraft], changed: list[AutopayDraft]) -> None:
    """The claimed drafts' payments, then every changed draft, each in one statement."""
    Payment.objects.bulk_create([draft.payment for draft in claimed])
    for draft in claimed:
        draft.payment = draft.payment  # its id, given by the insert
    rows_update(
        AutopayDraft, changed, ["amount", "attempts", "payment", "status", "failure_message", "updated_at"]
    )


def _drafts_locked(cards: list[tuple[Due, AutopayEnrollment]]) -> dict[tuple[int, dt.date], AutopayDraft]:
    """The chunk's draft rows, made where missing (a row per enrollment and month, so a second run
    finds it) and locked in key order."""
    AutopayDraft.objects.bulk_create(
        [
            AutopayDraft(
                enrollment_id=enrollment.pk,
                period=item.period,
                service_account_id=item.service_account_id,
                draft_date=item.draft_date,
            )
            for item, enrollment in cards
        ],
        ignore_conflicts=True,
    )
    wanted = {(enrollment.pk, item.period) for item, enrollment in cards}
    return {
        (draft.enrollment_id, draft.period): draft
        for draft in AutopayDraft.objects.select_for_update()
        .filter(
            enrollment_id__in={pk for pk, _period in wanted}, period__in={period for _pk, period in wanted}
        )
        .order_by("pk")
        if (draft.enrollment_id, draft.period) in wanted
    }


def _claim_refused(draft: AutopayDraft, *, amount: Decimal) -> bool:
    """Nothing meaningful is due (skipped), or more than the customer's ceiling (they are told)."""
    if amount < Decimal("0.50"):  # Stripe's smallest charge
        draft.status = AutopayDraft.Status.SKIPPED
        return True
    maximum = draft.enrollment.max_amount if draft.enrollment_id else None
    if maximum is not None and amount > maximum:
        draft.status = AutopayDraft.Status.OVER_MAXIMUM
        draft.failure_message = f"{amount} is above the maximum of {maximum}"
        transaction.on_commit(functools.partial(_over_maximum_email, draft))
        return True
    return False


def _card_payment(enrollment: AutopayEnrollment, *, service_account_id: int, amount: Decimal, on: dt.date):
    return Payment(
        service_account_id=service_account_id,
        amount=amount,
        channel=Payment.Channel.AUTOPAY,
        method=Payment.Method.CARD,
        received_on=on,
        created_by=enrollment.user,
        receipt_email=enrollment.user.email,
        stripe_customer_id=enrollment.card.user.stripe_customer.customer_id,
        stripe_payment_method_id=enrollment.card.stripe_payment_method_id,
        card_brand=enrollment.card.brand,
        card_last4=enrollment.card.last4,
    )


def _charge_cards(claimed: list[AutopayDraft], on: dt.date) -> RunResult:
    """One Stripe call per claimed draft, its PaymentIntent kept as soon as Stripe answers (a run
    that stops before the chunk is settled leaves the next one a PaymentIntent to settle from, not
    a charge to make again), then the chunk's payments settled together."""
    result = RunResult(drafted=len(claimed))
    charged = []
    for draft in claimed:
        try:
            intent = payment_intent_create(
                payment=draft.payment,
                payment_method_id=draft.payment.stripe_payment_method_id,
                off_session=True,
                metadata={"autopay_draft_id": str(draft.pk)},
            )
        except gateway.CardDeclined as exc:
            outcome = payment_declined(payment=draft.payment, exc=exc)
            _draft_failed(draft, message=outcome.message, code=outcome.code, on=on)
            result.failed += 1
            continue
        except gateway.GatewayError as exc:
            # Stripe may or may not have charged: the draft stays claimed for the next run, which
            # asks again with the same key.
            result.errors.append(f"{draft.service_account_id}: {exc}")
            continue
        # Kept at once, one statement: should the run stop before the chunk is settled, the next
        # settles from this PaymentIntent instead of asking Stripe to charge again.
        Payment.objects.filter(pk=draft.payment.pk, stripe_payment_intent_id__isnull=True).update(
            stripe_payment_intent_id=intent.id
        )
        draft.payment.stripe_payment_intent_id = intent.id
        charged.append((draft, intent))
    if not charged:
        return result
    pairs = [(draft.payment, intent) for draft, intent in charged]
    try:
        payments = payments_settle(settled=pairs)
    except ApplicationError:
        # One payment Stripe charged another amount for: the others are settled alone, and that
        # one waits for staff (its draft stays claimed).
        payments = []
        for (draft, _intent), pair in zip(charged, pairs, strict=True):
            try:
                payments += payments_settle(settled=[pair])
            except ApplicationError as exc:
                result.errors.append(f"{draft.service_account_id}: {exc}")
                payments.append(None)
    succeeded = [
        draft.pk
        for (draft, _intent), payment in zip(charged, payments, strict=True)
        if payment is not None and payment.status == Payment.Status.SUCCEEDED
    ]
    AutopayDraft.objects.filter(pk__in=succeeded).update(
        status=AutopayDraft.Status.SUCCEEDED, failure_message=""
    )
    result.succeeded += len(succeeded)
    for (draft, _intent), payment in zip(charged, payments, strict=True):
        if payment is not None and payment.status != Payment.Status.SUCCEEDED:
            _draft_failed(draft, message=payment.failure_message, code="", on=on)
            result.failed += 1
    return result


def _bank_enrollment_reminder(enrollment: AutopayEnrollment, *, amount: Decimal, on: dt.date):
    maximum = enrollment.max_amount
    number = enrollment.service_account.account_number
    date = local_date(on, "MONTH_DAY_FORMAT")
    if maximum is not None and amount > maximum:
        return format_lazy(
            _(
                "Your bill of {amount} for account {number} is more than the maximum of {maximum} you set "
                "for autopay, so we will not debit your {bank} on {date}. Please pay it yourself before the "
                "due date."
            ),
            amount=money(amount),
            number=number,
            maximum=money(maximum),
            bank=enrollment.bank_account,
            date=date,
        )
    return format_lazy(
        _(
            "On {date} we will debit {amount} from your {bank} for account {number}, as your autopay "
            "authorization allows. To stop it, cancel autopay at least two days before."
        ),
        date=date,
        amount=money(amount),
        bank=enrollment.bank_account,
        number=number,
    )


def autopay_send_reminders(*, on: dt.date) -> int:
    """Reminders before drafts: cards AUTOPAY_REMINDER_DAYS ahead (switchable), bank drafts
    BANK_DRAFT_NOTICE_DAYS ahead (the variable-amount notice: sent whatever the switches).
    A card that expires before the draft gets a warning in the reminder. Each once per period."""
    sent = 0
    card_day = on + dt.timedelta(days=settings.AUTOPAY_REMINDER_DAYS)
    bank_day = on + dt.timedelta(days=settings.BANK_DRAFT_NOTICE_DAYS)
    upcoming = [
        d
        for d in autopay_due(on=max(card_day, bank_day))
        if d.draft_date == (card_day if d.enrollment_id and not d.by_bank else bank_day)
    ]
    for due in upcoming:
        draft = _reminder_claim(due)
        if draft is None:
            continue
        bill = Bill.objects.get(service_account_id=due.service_account_id, period=due.period)
        amount = autopay_amount(service_account_id=due.service_account_id, bill=bill)
        account = draft.service_account
        if due.by_bank:
            lines = [_bank_enrollment_reminder(draft.enrollment, amount=amount, on=due.draft_date)]
            users, required = [draft.enrollment.user], True  # the notice of a varying debit
        elif due.enrollment_id:
            lines = _card_reminder_lines(draft, amount=amount, on=due.draft_date)
            users, required = [draft.enrollment.user], False
        else:
            lines = [_agreement_reminder_line(draft, amount=amount, on=due.draft_date)]
            users, required = users_for_account(service_account=account), True
        email_send(
            kind=AUTOPAY_SCHEDULED,
            subject=format_lazy(
                _("Autopay on {date}: {amount}"),
                date=local_date(due.draft_date, "MONTH_DAY_FORMAT"),
                amount=money(amount),
            ),
            template="emails/notice",
            context={"lines": lines},
            users=users,
            # A paper agreement's notice also goes to the account's address; an online one names a
            # login's bank account, so it goes to that login only.
            addresses=[account.email] if required and account.email and not due.enrollment_id else [],
            required=required,
            account_number=account.account_number,
            reference=f"draft:{draft.pk}:reminder",
        )
        sent += 1
    return sent


def _reminder_claim(due) -> AutopayDraft | None:
    """The period's draft, made if need be, marked reminded; None when it was reminded before."""
    lookup = {"enrollment_id": due.enrollment_id} if due.enrollment_id else {"agreement_id": due.agreement_id}
    with transaction.atomic():
        draft, _created = AutopayDraft.objects.get_or_create(
            **lookup,
            period=due.period,
            defaults={"service_account_id": due.service_account_id, "draft_date": due.draft_date},
        )
        claimed = AutopayDraft.objects.filter(pk=draft.pk, reminder_sent_at__isnull=True).update(
            reminder_sent_at=dt.datetime.now(tz=dt.UTC)
        )
    return draft if claimed else None


def _card_reminder_lines(draft: AutopayDraft, *, amount: Decimal, on: dt.date) -> list:
    """A card's reminder: the charge to come, or that the bill is over the customer's maximum;
    and a warning when the card expires before the day."""
    card, maximum, number = (
        draft.enrollment.card,
        draft.enrollment.max_amount,
        draft.service_account.account_number,
    )
    day = local_date(on, "MONTH_DAY_FORMAT")
    if maximum is not None and amount > maximum:
        line = format_lazy(
            _(
                "Your bill of {amount} for account {number} is more than the maximum of {maximum} you "
                "set for autopay, so we will not charge your {card} on {date}. Please pay it yourself "
                "before the due date."
            ),
            date=day,
            amount=money(amount),
            maximum=money(maximum),
            card=card,
            number=number,
        )
    else:
        line = format_lazy(
            _("On {date} we will charge {amount} to your {card} for account {number}."),
            date=day,
            amount=money(amount),
            card=card,
            number=number,
        )
    lines = [line]
    if card_expires_before(card, on):
        lines.append(
            format_lazy(
                _("Your {card} expires before then. Please replace it now so the payment goes through."),
                card=card,
            )
        )
    return lines


def _agreement_reminder_line(draft: AutopayDraft, *, amount: Decimal, on: dt.date):
    agreement = draft.agreement
    return format_lazy(
        _(
            "On {date} we will draft {amount} from your {kind} account ending {last4} "
            "for account {number}, as your Preauthorized Payments Agreement allows."
        ),
        date=local_date(on, "MONTH_DAY_FORMAT"),
        amount=money(amount),
        kind=lazy_lower(agreement.get_account_type_display()),
        last4=agreement.account_last4,
        number=draft.service_account.account_number,
    )
