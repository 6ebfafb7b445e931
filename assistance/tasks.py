from celery import shared_task

from billing.calendar import local_today


@shared_task(acks_late=True)
def payment_plans_check() -> dict:
    """Daily: end plans with a missed installment, close the ones paid off. Safe to run twice."""
    from assistance.services.plans import plans_check

    return plans_check(as_of=local_today())
