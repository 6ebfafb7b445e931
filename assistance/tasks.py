from celery import shared_task
from django.utils import timezone

from billing.calendar import local_today


@shared_task(acks_late=True)
def payment_plans_check() -> dict:
    """Daily: end plans with a missed installment, close the ones paid off. Safe to run twice."""
    from assistance.services.plans import plans_check

    return plans_check(as_of=local_today())


@shared_task(acks_late=True)
def assistance_documents_purge() -> dict:
    """Daily: delete documents past their retention and drafts abandoned. Safe to run twice."""
    from assistance.services.documents import documents_purge, drafts_purge

    now = timezone.now()
    return {**documents_purge(now=now), **drafts_purge(now=now)}
