import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import ServiceAccount
from billing.selectors import account_open_items, past_due_total
from certification.models import Certification
from certification.services.sweep import cutoff_date, latest_due_date


def certifications_for_account(*, service_account: ServiceAccount) -> QuerySet[Certification]:
    return (
        Certification.objects.filter(service_account=service_account)
        .exclude(status="withdrawn")
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
        oldest = min(i.due_date for i in items if i.due_date < today)
        hanger = oldest + dt.timedelta(days=settings.DOOR_HANGER_AFTER_DAYS)
        return [
            Step(
                oldest + dt.timedelta(days=1),
                f"A late fee of ${settings.LATE_FEE} and a late notice.",
                today > oldest,
            ),
            Step(hanger, f"A door-hanger notice with a ${settings.DOOR_HANGER_FEE} fee.", today >= hanger),
            Step(
                hanger + dt.timedelta(days=settings.SHUTOFF_AFTER_DOOR_HANGER_DAYS),
                "Service may be turned off.",
                False,
            ),
        ]
    year = today.year if today <= cutoff_date(today.year) else today.year + 1
    month, day = (int(x) for x in settings.PRECERTIFICATION_NOTICE_DAY.split("-"))
    notice_day = dt.date(year, month, day)
    at_risk = sum(i.unpaid for i in items if i.due_date <= latest_due_date(year))
    steps = [Step(None, "Past-due letters each month on the 25th while a balance is past due.", True)]
    steps.append(
        Step(
            notice_day,
            "A notice before certification, to accounts with charges due by "
            f"{latest_due_date(year):%B %-d} that are unpaid.",
            today >= notice_day,
        )
    )
    steps.append(
        Step(
            cutoff_date(year),
            f"The last day to pay to avoid certification{f' of ${at_risk:,.2f}' if at_risk else ''}.",
            False,
        )
    )
    steps.append(
        Step(
            cutoff_date(year) + dt.timedelta(days=1),
            f"Charges due by {latest_due_date(year):%B %-d} still unpaid are certified to the {settings.CERTIFICATION_COUNTY} "
            f"tax roll with a ${settings.CERTIFICATION_PROCESSING_FEE} processing fee.",
            False,
        )
    )
    steps.append(
        Step(
            dt.date(year, 7, 15),
            "After July 15 they appear on the property tax statement as "
            f'"{settings.CERTIFICATION_DESCRIPTION}", payable to the county tax collector.',
            False,
        )
    )
    return steps


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
