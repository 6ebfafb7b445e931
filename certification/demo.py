"""Demo data for certification: this year's sweep (when June 20 has passed), and staff rights."""

from django.conf import settings


def seed(*, today, stdout=None, **context) -> dict:
    from certification.services.sweep import certification_sweep, cutoff_date

    year = today.year if today > cutoff_date(today.year) else today.year - 1
    if settings.COLLECTION_PATH == "certify":
        result = certification_sweep(year=year, today=today)
        if stdout:
            stdout.write(f"Certified {len(result.certified)} demo account(s) for {year}.")
    return {}
