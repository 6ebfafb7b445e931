"""Demo data for certification: the year's notices and the June sweep, each on its own day of
the demo year (seed_demo runs every app's events in date order, between the monthly bills)."""

import datetime as dt

from django.conf import settings

from billing.calendar import add_months

# Above this many accounts the demo records no letters: each batch would be thousands of pages.
LETTERS_UP_TO_ACCOUNTS = 2000


def seed(*, today: dt.date, accounts: int, stdout=None, **context) -> dict:
    from certification.services.notices import notices_past_due, notices_precertification
    from certification.services.sweep import cutoff_date

    if settings.COLLECTION_PATH != "certify":
        return {}
    first = add_months(today.replace(day=1), -12)  # the first bill of the demo year
    events = []
    for year in (today.year - 1, today.year):
        april = dt.date(year, 4, int(settings.PRECERTIFICATION_NOTICE_DAY.split("-")[1]))
        if first <= april <= today and accounts <= LETTERS_UP_TO_ACCOUNTS:
            events.append(
                (april, lambda year=year, april=april: notices_precertification(year=year, today=april))
            )
        sweep_day = cutoff_date(year) + dt.timedelta(days=1)
        if first <= sweep_day <= today:
            events.append((sweep_day, lambda year=year, day=sweep_day: _sweep(year, day, stdout)))
    # Past-due letters on the 25th of the last two months (each batch is a PDF to print).
    for months_back in (2, 1):
        day = add_months(today.replace(day=1), -months_back).replace(day=25)
        if day >= first and accounts <= LETTERS_UP_TO_ACCOUNTS:
            events.append((day, lambda day=day: notices_past_due(as_of=day)))
    return {"events": events}


def _sweep(year: int, day: dt.date, stdout) -> None:
    from certification.services.sweep import certification_sweep

    result = certification_sweep(year=year, today=day)
    if stdout:
        stdout.write(f"Certified {len(result.certified)} demo account(s) for {year} on {day}.")
