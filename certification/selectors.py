import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from billing.selectors import account_open_items, past_due_total
from certification.models import Certification
from certification.services.sweep import cutoff_date, latest_due_date
from kernel.i18n import local_date
from kernel.money import money


def certifications_for_account(*, service_account: ServiceAccount) -> QuerySet[Certification]:
    return (
        Certification.objects.filter(service_account=service_account)
        .exclude(status=Certification.Status.WITHDRAWN)
        .order_by("-year")
    )


@dataclass(frozen=True)
class Step:
    day: dt.date | None
    text: str
    done: bool


def delinquency_timeline(*, service_account: ServiceAccount, today: dt.date) -> list[Step]:
    """What happens next to an account with unpaid charges, and on which dates."""
    items = account_open_items(service_account=service_account, as_of=today)
    if past_due_total(items, as_of=today) <= 0:
        return []
    if settings.COLLECTION_PATH == "shutoff":
        return _shutoff_timeline(items, today=today)
    return _certification_timeline(items, today=today)


def _shutoff_timeline(items, *, today: dt.date) -> list[Step]:
    """A utility that shuts off: the late fee, the door hanger, the turn-off."""
    oldest = min(i.due_date for i in items if i.due_date < today)
    hanger = oldest + dt.timedelta(days=settings.DOOR_HANGER_AFTER_DAYS)
    return [
        Step(
            oldest + dt.timedelta(days=1),
            format_lazy(_("A late fee of {fee} and a late notice."), fee=money(Decimal(settings.LATE_FEE))),
            today > oldest,
        ),
        Step(
            hanger,
            format_lazy(
                _("A door-hanger notice with a {fee} fee."), fee=money(Decimal(settings.DOOR_HANGER_FEE))
            ),
            today >= hanger,
        ),
        Step(
            hanger + dt.timedelta(days=settings.SHUTOFF_AFTER_DOOR_HANGER_DAYS),
            _("Service may be turned off."),
            False,
        ),
    ]


def _certification_timeline(items, *, today: dt.date) -> list[Step]:
    """A utility that certifies: the monthly letters, the April notice, the June 20 cutoff, the
    certification, the tax statement."""
    year = today.year if today <= cutoff_date(today.year) else today.year + 1
    month, day = (int(x) for x in settings.PRECERTIFICATION_NOTICE_DAY.split("-"))
    notice_day = dt.date(year, month, day)
    last_due = local_date(latest_due_date(year), "MONTH_DAY_FORMAT")
    at_risk = sum(i.unpaid for i in items if i.due_date <= latest_due_date(year))
    return [
        Step(None, _("Past-due letters each month on the 25th while a balance is past due."), True),
        Step(
            notice_day,
            format_lazy(
                _("A notice before certification, to accounts with charges due by {date} that are unpaid."),
                date=last_due,
            ),
            today >= notice_day,
        ),
        Step(
            cutoff_date(year),
            format_lazy(_("The last day to pay to avoid certification of {amount}."), amount=money(at_risk))
            if at_risk
            else _("The last day to pay to avoid certification."),
            False,
        ),
        Step(
            cutoff_date(year) + dt.timedelta(days=1),
            format_lazy(
                _(
                    "Charges due by {date} still unpaid are certified to the {county} tax roll with a {fee} "
                    "processing fee."
                ),
                date=last_due,
                county=settings.CERTIFICATION_COUNTY,
                fee=money(Decimal(settings.CERTIFICATION_PROCESSING_FEE)),
            ),
            False,
        ),
        Step(
            dt.date(year, 7, 15),
            format_lazy(
                _(
                    'After July 15 they appear on the property tax statement as "{description}", payable to the '
                    "county tax collector."
                ),
                description=settings.CERTIFICATION_DESCRIPTION,
            ),
            False,
        ),
    ]


def account_page_section(*, service_account: ServiceAccount, today: dt.date, user) -> dict:
    return {
        "template": "certification/_account_section.html",
        "context": {
            "certifications": list(
                certifications_for_account(service_account=service_account).prefetch_related("disputes")
            ),
            "timeline": delinquency_timeline(service_account=service_account, today=today),
            "county": settings.CERTIFICATION_COUNTY,
        },
    }


def staff_account_flags(*, service_account) -> list[tuple[str, str]]:
    from certification.models import Certification

    return [
        ("Certified", f"{c.year}: ${c.total_certified:,.2f} ({c.get_status_display()})")
        for c in Certification.objects.filter(service_account=service_account).order_by("-year")
    ]


def staff_queues(*, user) -> list[dict]:
    from django.urls import reverse

    from certification.models import Dispute

    if not user.has_perm("certification.resolve_dispute"):
        return []
    return [
        {
            "label": "Disputes to resolve",
            "count": Dispute.objects.filter(status=Dispute.Status.OPEN).count(),
            "url": reverse("admin:certification_dispute_changelist") + "?status__exact=open",
        }
    ]


def finance_figures() -> dict:
    """Certified totals by year for the finance home (withdrawn certifications left out)."""
    from django.db.models import Count, Sum

    from certification.models import Certification

    years = (
        Certification.objects.exclude(status=Certification.Status.WITHDRAWN)
        .values("year")
        .annotate(count=Count("pk"), total=Sum("total_certified"))
        .order_by("-year")
    )
    return {
        "title": "Certified to the tax roll, by year",
        "rows": [(str(y["year"]), f"{y['count']:,} account(s), ${y['total']:,.2f}") for y in years]
        or [("None yet", "")],
    }


@dataclass(frozen=True)
class CertifiedCharge:
    item_id: int
    description: str
    amount: Decimal
    due_date: dt.date | None
    bill_id: int | None


@dataclass(frozen=True)
class CertifiedMonth:
    month: dt.date
    charges: list[CertifiedCharge]


def certified_charges_by_month(*, certification: Certification) -> list[CertifiedMonth]:
    """The certified charges grouped by the month they were billed for (a fee by the month it
    fell due), oldest first, each with its bill when it has one."""
    from billing.calendar import add_months
    from billing.models import Bill
    from billing.selectors import ledger_description

    items = list(certification.items.select_related("charge").order_by("charge__due_date", "pk"))
    bills = {
        bill.ledger_entry_id: bill
        for bill in Bill.objects.filter(ledger_entry_id__in=[item.charge_id for item in items])
    }
    months: dict[dt.date, list[CertifiedCharge]] = {}
    for item in items:
        bill = bills.get(item.charge_id)
        due = item.charge.due_date or item.charge.posted_on
        month = bill.period if bill else add_months(due.replace(day=1), -1)
        months.setdefault(month, []).append(
            CertifiedCharge(
                item_id=item.pk,
                description=ledger_description(kind=item.charge.kind, description=item.charge.description),
                amount=item.amount,
                due_date=item.charge.due_date,
                bill_id=bill.pk if bill else None,
            )
        )
    return [CertifiedMonth(month, charges) for month, charges in sorted(months.items())]


def staff_home_links(*, user) -> list[dict]:
    """The tax lots page, on the staff home of those who may read certifications."""
    from django.urls import reverse

    if not user.has_perm("certification.view_certification"):
        return []
    return [{"label": "Tax lots", "url": reverse("tax_lot")}]


def tax_lot_accounts(*, tax_lot: str, today: dt.date) -> list[dict]:
    """Every account on a property (for a title company during a sale), in account order: its
    balance and past due today and its certifications, newest year first, in a few queries."""
    from django.db.models import Prefetch

    from billing.selectors import account_summaries

    accounts = list(
        ServiceAccount.objects.filter(tax_lot__iexact=tax_lot)
        .order_by("account_number")
        .prefetch_related(
            Prefetch("certifications", queryset=Certification.objects.order_by("-year"), to_attr="by_year")
        )
    )
    return [
        {
            "account": summary.account,
            "balance": summary.balance,
            "past_due": summary.past_due,
            "certifications": summary.account.by_year,
        }
        for summary in account_summaries(accounts=accounts, as_of=today)
    ]
