from celery import shared_task
from django.conf import settings

from billing.calendar import local_today


@shared_task(acks_late=True)
def past_due_notices_task() -> int:
    """Monthly: past-due letters and emails. Once per account and date."""
    from certification.services.notices import notices_past_due

    return len(notices_past_due(as_of=local_today()).letters)


@shared_task(acks_late=True)
def precertification_notices_task() -> int:
    """Yearly in April (PRECERTIFICATION_NOTICE_DAY): the notice before certification. Once per account and year."""
    from certification.services.notices import notices_precertification

    today = local_today()
    if today.strftime("%m-%d") != settings.PRECERTIFICATION_NOTICE_DAY:
        return 0
    return len(notices_precertification(year=today.year).letters)


@shared_task(acks_late=True)
def certification_sweep_task(year: int | None = None) -> int:
    """June 21, just after midnight: this year's sweep (or `year`'s). A second run changes nothing."""
    from certification.services.sweep import certification_sweep

    if settings.COLLECTION_PATH != "certify":
        return 0
    return len(certification_sweep(year=year or local_today().year).certified)


@shared_task(acks_late=True)
def collections_task() -> dict:
    """Daily, for a utility that shuts service off: late fees, door hangers, the field crew's list."""
    from certification.services.collections import collections_run

    if settings.COLLECTION_PATH != "shutoff":
        return {}
    return collections_run(as_of=local_today()).summary()
