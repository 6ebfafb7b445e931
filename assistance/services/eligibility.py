"""The Utility Assistance Program's income table and who is likely eligible."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from assistance.models import IncomeGuideline
from kernel.errors import ApplicationError
from kernel.money import money


def guidelines_for(*, year: int) -> list[IncomeGuideline]:
    """The table of the program year, or of the latest year before it when it has none yet."""
    latest = (
        IncomeGuideline.objects.filter(program_year__lte=year)
        .order_by("-program_year")
        .values_list("program_year", flat=True)
        .first()
    )
    if latest is None:
        raise ApplicationError(_("The income table for the program year is not set up yet. Please call us."))
    return list(IncomeGuideline.objects.filter(program_year=latest).order_by("household_size"))


@dataclass(frozen=True)
class Eligibility:
    likely_eligible: bool
    credit: Decimal
    limit: Decimal
    household_size: int
    reason: str


def eligibility_check(*, household_size: int, monthly_income: Decimal, on: dt.date) -> Eligibility:
    """At or below the limit for the household size: likely eligible for that size's credit.

    The table's last row applies to its size and every larger household.
    """
    if household_size < 1:
        raise ApplicationError(_("A household has at least one person."))
    if monthly_income < 0:
        raise ApplicationError(_("Income cannot be negative."))
    table = guidelines_for(year=on.year)
    row = next((g for g in table if g.household_size == household_size), table[-1])
    if household_size > table[-1].household_size:
        row = table[-1]
    if monthly_income <= row.monthly_income_limit:
        return Eligibility(True, row.credit, row.monthly_income_limit, household_size, "")
    return Eligibility(
        False,
        Decimal("0"),
        row.monthly_income_limit,
        household_size,
        format_lazy(
            _(
                "A household of {size} qualifies with a gross monthly income of {limit} or less; {income} is above that."
            ),
            size=household_size,
            limit=money(row.monthly_income_limit),
            income=money(monthly_income),
        ),
    )
