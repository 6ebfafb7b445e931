"""Payment plans: a past-due balance in 2 to 12 monthly installments, due on the 20th."""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount, User
from accounts.notifications import email_send, users_for_account
from assistance.models import PaymentPlan
from billing.calendar import DUE_DAY, add_months, local_today
from billing.models import LedgerEntry
from billing.notification_kinds import PAST_DUE
from billing.selectors import account_past_due
from kernel.audit import audit_record
from kernel.errors import ApplicationError
from kernel.i18n import lazy_lower, local_date
from kernel.money import ZERO, money

FIRST_INSTALLMENT_AFTER_DAYS = 10


@dataclass(frozen=True)
class Installment:
    number: int
    due_date: dt.date
    amount: Decimal


def plan_schedule(*, total: Decimal, installments: int, starts_on: dt.date) -> list[Installment]:
    """Equal installments (the last takes the cents left over), due on the 20th of each month,
    the first at least ten days after the plan starts."""
    first = starts_on + dt.timedelta(days=FIRST_INSTALLMENT_AFTER_DAYS)
    due = first.replace(day=DUE_DAY) if first.day <= DUE_DAY else add_months(first, 1).replace(day=DUE_DAY)
    each = (total / installments).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    schedule = []
    for number in range(1, installments + 1):
        amount = each if number < installments else total - each * (installments - 1)
        schedule.append(Installment(number, add_months(due, number - 1).replace(day=DUE_DAY), amount))
    return schedule


@dataclass(frozen=True)
class PreviewRow:
    installment: Installment
    # The service month of the bill due the same day: the installment is paid with that bill.
    bill_month: dt.date


def plan_preview(*, total: Decimal, installments: int, starts_on: dt.date) -> list[PreviewRow]:
    """Each installment with the bill it comes with: bills are issued on the 1st for the month
    before and due on the 20th, so the installment due on a 20th goes with that month's bill."""
    return [
        PreviewRow(i, add_months(i.due_date.replace(day=1), -1))
        for i in plan_schedule(total=total, installments=installments, starts_on=starts_on)
    ]


# A plan keeps the installment dates the customer saw when asking, unless the first would then
# fall due within this many days of the approval.
DECISION_NOTICE_DAYS = 5


def plan_start(*, plan: PaymentPlan, today: dt.date) -> dt.date:
    """The day a plan's schedule counts from: the day it was asked for (the dates in the preview
    and the acknowledgment), or the approval day when that first date is too close or past."""
    asked_on = timezone.localdate(plan.requested_at) if plan.requested_at else today
    first = plan_schedule(total=plan.total, installments=plan.installments, starts_on=asked_on)[0]
    if first.due_date < today + dt.timedelta(days=DECISION_NOTICE_DAYS):
        return today
    return asked_on


def plan_request(
    *, service_account: ServiceAccount, user: User, installments: int, acknowledge: bool = False
) -> PaymentPlan:
    """Ask for a plan of the past-due balance. `acknowledge`: email the customer that it was
    received, with the installments as previewed (a clerk opening one sends its terms instead)."""
    if not 2 <= installments <= 12:
        raise ApplicationError(_("Choose from 2 to 12 monthly installments."))
    today = local_today()
    past_due = account_past_due(service_account=service_account, as_of=today)
    if past_due <= 0:
        raise ApplicationError(_("Nothing is past due on this account, so there is nothing to spread out."))
    try:
        with transaction.atomic():
            plan = PaymentPlan.objects.create(
                service_account=service_account, requested_by=user, installments=installments, total=past_due
            )
    except IntegrityError as exc:
        raise ApplicationError(
            _("This account already has a payment plan, or a request being reviewed.")
        ) from exc
    if acknowledge:
        first = plan_schedule(total=past_due, installments=installments, starts_on=today)[0]
        _tell(
            plan,
            _("We received your payment plan request"),
            [
                format_lazy(
                    _(
                        "We received your request to pay the {total} past due on account {number} in {count} "
                        "monthly installments, the first of {first} due {date} if it is approved."
                    ),
                    total=money(past_due),
                    number=service_account.account_number,
                    count=installments,
                    first=money(first.amount),
                    date=local_date(first.due_date, "MONTH_DAY_FORMAT"),
                ),
                _(
                    "A clerk will review it and we will email you the decision. Until then, please pay what you "
                    "can: the request does not stop late fees or notices."
                ),
            ],
        )
    return plan


def plan_withdraw(*, plan: PaymentPlan, user: User) -> PaymentPlan:
    """The customer takes back a request not yet decided. A decided plan stays as it is."""
    with transaction.atomic():
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PaymentPlan.Status.REQUESTED:
            raise ApplicationError(
                format_lazy(
                    _("This request was already decided ({status}); call us to change a plan."),
                    status=lazy_lower(plan.get_status_display()),
                )
            )
        plan.status = PaymentPlan.Status.WITHDRAWN
        plan.ended_on = local_today()
        plan.save(update_fields=["status", "ended_on"])
        audit_record(
            actor=user,
            action="plan.withdraw",
            target=plan,
            summary=f"Payment plan request {plan.pk} withdrawn by the customer",
            changes={"status": ["requested", "withdrawn"]},
            account_number=plan.service_account.account_number,
        )
    return plan


def _tell(plan: PaymentPlan, subject, lines: list) -> None:
    email_send(
        kind=PAST_DUE,
        subject=subject,
        template="emails/notice",
        context={
            "lines": lines,
            "link": settings.PORTAL_BASE_URL + reverse("payment_plan", args=[plan.service_account_id]),
            "link_text": _("See your payment plan"),
        },
        users=users_for_account(service_account=plan.service_account),
        # A caller with no login has the account's own email, if any.
        addresses=[plan.service_account.email] if plan.service_account.email else [],
        required=True,  # the terms of an agreement the customer asked for
        account_number=plan.service_account.account_number,
        reference=f"plan:{plan.pk}",
    )


def plan_decide(*, plan: PaymentPlan, approve: bool, by: User, reason: str = "") -> PaymentPlan:
    with transaction.atomic():
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PaymentPlan.Status.REQUESTED:
            return plan
        if not approve and not reason.strip():
            raise ApplicationError("Give the reason for declining; the customer is told it.")
        plan.status = PaymentPlan.Status.ACTIVE if approve else PaymentPlan.Status.DECLINED
        plan.starts_on = plan_start(plan=plan, today=local_today()) if approve else None
        plan.reviewed_by = by
        plan.reviewed_at = timezone.now()
        plan.decision_reason = reason.strip()[:300]
        plan.save()
        audit_record(
            actor=by,
            action="plan.approve" if approve else "plan.decline",
            target=plan,
            summary=f"Payment plan {plan.pk} {'approved' if approve else 'declined'}: ${plan.total:,.2f} in "
            f"{plan.installments} installments"
            + (f" ({plan.decision_reason})" if plan.decision_reason else ""),
            changes={
                "status": ["requested", plan.status],
                "total": plan.total,
                "installments": plan.installments,
            },
            account_number=plan.service_account.account_number,
        )
    if approve:
        schedule = plan_schedule(total=plan.total, installments=plan.installments, starts_on=plan.starts_on)
        _tell(
            plan,
            _("Your payment plan is approved"),
            [
                format_lazy(
                    _(
                        "Your plan for {total} past due on account {number} is approved: {count} monthly "
                        "installments, the first {first} due {date}."
                    ),
                    total=money(plan.total),
                    number=plan.service_account.account_number,
                    count=plan.installments,
                    first=money(schedule[0].amount),
                    date=local_date(schedule[0].due_date, "MONTH_DAY_FORMAT"),
                ),
                _(
                    "Keep paying each new bill as well. While the plan is kept, no late fees are added and the "
                    "account is not certified. A missed installment ends the plan."
                ),
            ],
        )
    else:
        _tell(
            plan,
            _("Your payment plan request"),
            [format_lazy(_("We could not approve the payment plan: {reason}"), reason=plan.decision_reason)],
        )
    return plan


def plan_amount_required(*, plan: PaymentPlan, as_of: dt.date) -> Decimal:
    """What the customer must have paid since the plan started to be in good standing on `as_of`:
    the installments due before it, and the new bills due before it."""
    installments = sum(
        (
            i.amount
            for i in plan_schedule(total=plan.total, installments=plan.installments, starts_on=plan.starts_on)
            if i.due_date < as_of
        ),
        ZERO,
    )
    new_charges = (
        LedgerEntry.objects.filter(
            service_account_id=plan.service_account_id,
            posted_on__gt=plan.starts_on,
            amount__gt=0,
            due_date__lt=as_of,
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    return installments + new_charges


def plan_amount_paid(*, plan: PaymentPlan, as_of: dt.date) -> Decimal:
    paid = (
        LedgerEntry.objects.filter(
            service_account_id=plan.service_account_id,
            posted_on__gte=plan.starts_on,
            posted_on__lte=as_of,
            amount__lt=0,
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    return -paid


def plan_in_good_standing(*, plan: PaymentPlan, as_of: dt.date) -> bool:
    return plan.status == PaymentPlan.Status.ACTIVE and plan_amount_paid(
        plan=plan, as_of=as_of
    ) >= plan_amount_required(plan=plan, as_of=as_of)


def plans_check(*, as_of: dt.date) -> dict[str, int]:
    """Daily: end plans with a missed installment (and tell the customer); complete paid ones."""
    counts = {"ended": 0, "completed": 0}
    for plan in PaymentPlan.objects.filter(status=PaymentPlan.Status.ACTIVE).select_related(
        "service_account"
    ):
        schedule = plan_schedule(total=plan.total, installments=plan.installments, starts_on=plan.starts_on)
        if not plan_in_good_standing(plan=plan, as_of=as_of):
            PaymentPlan.objects.filter(pk=plan.pk, status=PaymentPlan.Status.ACTIVE).update(
                status=PaymentPlan.Status.ENDED, ended_on=as_of
            )
            counts["ended"] += 1
            _tell(
                plan,
                _("Your payment plan has ended"),
                [
                    format_lazy(
                        _(
                            "An installment of your payment plan for account {number} was not paid by its due date, "
                            "so the plan has ended and the past-due balance is handled as usual again."
                        ),
                        number=plan.service_account.account_number,
                    ),
                    _("If you can't pay, call us: we may be able to help."),
                ],
            )
        elif schedule[-1].due_date < as_of:
            PaymentPlan.objects.filter(pk=plan.pk, status=PaymentPlan.Status.ACTIVE).update(
                status=PaymentPlan.Status.COMPLETED, ended_on=as_of
            )
            counts["completed"] += 1
    return counts


def plan_open_by_staff(*, service_account: ServiceAccount, by: User, installments: int) -> PaymentPlan:
    """A plan agreed with the customer on the phone or at the counter: asked for and approved
    at once by the clerk, who may decide plans. The customer is emailed its terms."""
    if not by.has_perm("assistance.decide_paymentplan"):
        raise ApplicationError("Your role cannot open payment plans.")
    if service_account.status != ServiceAccount.Status.ACTIVE:
        raise ApplicationError("The account is closed: its final bill is due in full.")
    plan = plan_request(service_account=service_account, user=by, installments=installments)
    return plan_decide(plan=plan, approve=True, by=by)
