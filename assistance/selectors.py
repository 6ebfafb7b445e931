import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from assistance.models import AssistanceApplication, PaymentPlan
from kernel.db import id_list


def application_list_for_user(*, user: User) -> QuerySet[AssistanceApplication]:
    return AssistanceApplication.objects.filter(applicant=user).select_related("service_account")


def application_get_for_user(*, user: User, pk: int) -> AssistanceApplication:
    """The login's own application, or 404."""
    return get_object_or_404(application_list_for_user(user=user), pk=pk)


def applications_open_for_accounts(*, accounts) -> QuerySet[AssistanceApplication]:
    """Applications being reviewed on these accounts, whoever applied."""
    return AssistanceApplication.objects.filter(
        service_account__in=accounts, status__in=AssistanceApplication.OPEN_STATUSES
    ).select_related("service_account")


def application_status_context(*, application: AssistanceApplication) -> dict:
    """What the status page tells the applicant: the typical wait, the credit expected from the
    income table, a clerk's request for documents, and how long documents are kept."""
    from assistance.services.documents import typical_decision_days
    from assistance.services.eligibility import eligibility_check
    from billing.calendar import local_today
    from kernel.errors import ApplicationError

    expected, known = None, False
    if application.is_open:
        try:
            result = eligibility_check(
                household_size=application.household_size,
                monthly_income=application.monthly_income,
                on=local_today(),
            )
        except ApplicationError:
            result = None
        expected = result.credit if result and result.likely_eligible else None
        known = result is not None
    request = (
        application.document_requests.filter(answered_at__isnull=True).first()
        if application.is_open
        else None
    )
    return {
        "application": application,
        "typical_days": typical_decision_days() if application.is_open else None,
        "expected_credit": expected,
        "eligibility_known": known,
        "document_request": request,
        "documents": list(application.documents.all()),
        "retention_years": round(settings.ASSISTANCE_DOCUMENT_RETENTION_DAYS / 365),
    }


def accounts_with_plan_in_good_standing(*, account_ids, as_of: dt.date) -> set[int]:
    """For the late-fee run and the certification sweep: accounts they leave alone."""
    from assistance.services.plans import plan_in_good_standing

    plans = PaymentPlan.objects.filter(
        service_account_id__in=id_list(account_ids), status=PaymentPlan.Status.ACTIVE
    )
    return {plan.service_account_id for plan in plans if plan_in_good_standing(plan=plan, as_of=as_of)}


def accounts_holding_door_hanger_fees(*, account_ids) -> set[int]:
    """Accounts with an application being reviewed: new door-hanger fees wait (configurable)."""
    if not settings.ASSISTANCE_HOLD_DOOR_HANGER_FEES:
        return set()
    return set(
        AssistanceApplication.objects.filter(
            service_account_id__in=id_list(account_ids), status__in=AssistanceApplication.OPEN_STATUSES
        ).values_list("service_account_id", flat=True)
    )


def payment_plan_bill_notes(*, account_ids, period: dt.date, issued_on: dt.date) -> dict[int, list[str]]:
    """The installment due with each bill, for accounts on an active plan."""
    from assistance.services.plans import plan_schedule

    notes: dict[int, list[str]] = {}
    for plan in PaymentPlan.objects.filter(
        service_account_id__in=id_list(account_ids), status=PaymentPlan.Status.ACTIVE
    ):
        schedule = plan_schedule(total=plan.total, installments=plan.installments, starts_on=plan.starts_on)
        upcoming = next((i for i in schedule if i.due_date >= issued_on), None)
        if upcoming:
            notes[plan.service_account_id] = [
                f"Payment plan: installment {upcoming.number} of {plan.installments}, ${upcoming.amount:,.2f}, "
                f"is due {upcoming.due_date:%B %-d, %Y}, with this bill's new charges."
            ]
    return notes


def staff_account_flags(*, service_account) -> list[tuple[str, str]]:
    """What the staff account page says about assistance and payment plans."""
    from django.utils import timezone

    from assistance.models import AssistanceApplication, PaymentPlan

    flags = []
    application = (
        AssistanceApplication.objects.filter(service_account=service_account)
        .order_by("-submitted_at", "-pk")
        .first()
    )
    if application:
        flags.append(
            (
                "Assistance",
                f"{application.get_status_display()} (applied {timezone.localdate(application.submitted_at):%m/%d/%Y})",
            )
        )
    plan = PaymentPlan.objects.filter(service_account=service_account).order_by("-pk").first()
    if plan:
        flags.append(
            (
                "Payment plan",
                f"{plan.get_status_display()}: {plan.installments} installments of ${plan.total:,.2f}",
            )
        )
    return flags


def staff_queues(*, user) -> list[dict]:
    from django.urls import reverse

    from assistance.models import AssistanceApplication, PaymentPlan

    queues = []
    if user.has_perm("assistance.change_assistanceapplication"):
        count = AssistanceApplication.objects.filter(status__in=AssistanceApplication.OPEN_STATUSES).count()
        queues.append(
            {
                "label": "Assistance applications to review",
                "count": count,
                "url": reverse("admin:assistance_assistanceapplication_changelist")
                + "?status__in="
                + ",".join(AssistanceApplication.OPEN_STATUSES),
            }
        )
    if user.has_perm("assistance.decide_paymentplan"):
        count = PaymentPlan.objects.filter(status=PaymentPlan.Status.REQUESTED).count()
        queues.append(
            {
                "label": "Payment plan requests",
                "count": count,
                "url": reverse("admin:assistance_paymentplan_changelist") + "?status__exact=requested",
            }
        )
    return queues


@dataclass(frozen=True)
class ApplicationCase:
    """What a clerk reads before deciding an application."""

    members: int
    household_size: int
    monthly_income: Decimal
    program_year: int
    limit: Decimal | None
    credit: Decimal
    eligible: bool
    verdict: str
    balance: Decimal
    past_due: Decimal
    fees: list  # [(description, unpaid)] that approval waives
    fees_total: Decimal
    appointment: str
    appointment_held: bool
    recent_credit: bool


def application_case(*, application) -> ApplicationCase:
    from django.utils import timezone

    from assistance.services.applications import verification_held
    from assistance.services.eligibility import eligibility_check
    from billing.calendar import local_today
    from billing.models import LedgerEntry
    from billing.selectors import account_summary, ledger_description
    from kernel.errors import ApplicationError

    today = local_today()
    summary = account_summary(service_account=application.service_account, as_of=today)
    fee_kinds = (LedgerEntry.Kind.LATE_FEE, LedgerEntry.Kind.DOOR_HANGER_FEE)
    fees = [
        (ledger_description(kind=i.kind, description=""), i.unpaid)
        for i in summary.open_items
        if i.kind in fee_kinds
    ]
    try:
        result = eligibility_check(
            household_size=application.household_size, monthly_income=application.monthly_income, on=today
        )
        limit, credit, eligible = result.limit, result.credit, result.likely_eligible
        verdict = (
            f"Eligible: a household of {result.household_size} with ${application.monthly_income:,.2f} a month is at "
            f"or below the ${result.limit:,.2f} limit; the credit is ${result.credit:,.2f}."
            if eligible
            else f"Not eligible by the income table: {result.reason}"
        )
    except ApplicationError as exc:
        limit, credit, eligible, verdict = None, Decimal("0"), False, str(exc.message)
    held = verification_held(application)
    if held:
        seen = timezone.localtime(application.documents_seen_at).strftime("%m/%d/%Y")
        appointment = f"Kept: photo ID and proof of income seen on {seen}"
    elif application.appointment_at:
        at = application.appointment_at
        when = timezone.localtime(at).strftime("%m/%d/%Y %I:%M %p")
        appointment = (
            f"{when}: passed, not recorded as kept (did the customer come?)"
            if at <= timezone.now()
            else f"Scheduled for {when}"
        )
    else:
        appointment = "Not scheduled"
    since = timezone.now() - dt.timedelta(days=settings.ASSISTANCE_CREDIT_INTERVAL_DAYS)
    recent = (
        AssistanceApplication.objects.filter(
            service_account_id=application.service_account_id,
            status=AssistanceApplication.Status.APPROVED,
            reviewed_at__gte=since,
        )
        .exclude(pk=application.pk)
        .exists()
    )
    return ApplicationCase(
        members=application.members.count(),
        household_size=application.household_size,
        monthly_income=application.monthly_income,
        program_year=application.program_year,
        limit=limit,
        credit=credit,
        eligible=eligible,
        verdict=verdict,
        balance=summary.balance,
        past_due=summary.past_due,
        fees=fees,
        fees_total=sum((amount for _, amount in fees), Decimal("0")),
        appointment=appointment,
        appointment_held=held,
        recent_credit=recent,
    )


def staff_account_actions(*, service_account, user) -> list[dict]:
    from django.urls import reverse

    if user.has_perm("assistance.decide_paymentplan") and service_account.status == "active":
        return [
            {"label": "Open a payment plan", "url": reverse("staff_payment_plan", args=[service_account.pk])}
        ]
    return []


def account_page_section(*, service_account, today, user) -> dict:
    """The account page: a payment plan asked for or running, an application being reviewed,
    and, when something is past due (the page's own figure) and nothing is under way, the help
    on offer."""
    plan = (
        PaymentPlan.objects.filter(
            service_account=service_account,
            status__in=[PaymentPlan.Status.REQUESTED, PaymentPlan.Status.ACTIVE],
        )
        .order_by("-requested_at")
        .first()
    )
    application = (
        AssistanceApplication.objects.filter(
            service_account=service_account, status__in=AssistanceApplication.OPEN_STATUSES
        )
        .order_by("-submitted_at")
        .first()
    )
    return {
        "template": "assistance/_account_section.html",
        "context": {
            "account": service_account,
            "plan": plan,
            "application": application,
            "own_application": bool(application and application.applicant_id == user.pk),
        },
    }


def past_due_help() -> dict:
    """The link billing's pages and bill email give a customer behind on a bill."""
    from django.urls import reverse
    from django.utils.translation import gettext_lazy

    return {
        "label": gettext_lazy("Behind? Bill assistance and payment plans"),
        "path": reverse("assistance_home"),
    }
