"""The billing calendar: service months, due dates on the 20th, local dates."""

import datetime as dt
import functools
import re

import holidays
from django.utils import timezone

DUE_DAY = 20


def local_today() -> dt.date:
    """Today in the utility's time zone: "the 20th" is a local date."""
    return timezone.localdate()


def parse_period(text: str) -> dt.date | None:
    """'2026-10' -> date(2026, 10, 1); None when it is not a YYYY-MM month."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and 1900 < year < 2200):
        return None
    return dt.date(year, month, 1)


def parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def parse_year(text: str) -> int | None:
    """'2026' -> 2026; None when it is not a year from 2000 to 2100 written in ASCII digits."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or not 2000 <= int(text) <= 2100:
        return None
    return int(text)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after day's month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def due_date_for_period(period: dt.date) -> dt.date:
    """A bill for service month M is due on the 20th of month M+1."""
    return add_months(period, 1).replace(day=DUE_DAY)


def days_past_due(due_date: dt.date, as_of: dt.date) -> int:
    """Past due from the day after the due date: the due date itself is day 0."""
    return (as_of - due_date).days


@functools.cache
def _federal_reserve_holidays(year: int) -> frozenset[dt.date]:
    # The Federal Reserve's own calendar: a Saturday holiday does not close the Friday before.
    return frozenset(holidays.financial_holidays("XFED", years=year))


def is_banking_day(day: dt.date) -> bool:
    """A weekday on which the Federal Reserve settles ACH entries."""
    return day.weekday() < 5 and day not in _federal_reserve_holidays(day.year)


def banking_day_on_or_after(day: dt.date) -> dt.date:
    """Where a draft meant for `day` goes: that day, or the next banking day."""
    while not is_banking_day(day):
        day += dt.timedelta(days=1)
    return day


def banking_day_before(day: dt.date) -> dt.date:
    """The last banking day before `day` (when a file for `day` goes to the bank)."""
    day -= dt.timedelta(days=1)
    while not is_banking_day(day):
        day -= dt.timedelta(days=1)
    return day


def banking_day_after(day: dt.date, count: int = 1) -> dt.date:
    """The `count`th banking day after `day` (NACHA's waits are counted in banking days)."""
    for _ in range(count):
        day += dt.timedelta(days=1)
        while not is_banking_day(day):
            day += dt.timedelta(days=1)
    return day
