"""A real Celery worker process is killed in the middle of a draft run; the run again finishes
the work with no double charge and no enrollment missed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings

from accounts.tests.factories import AccountLinkFactory, UserFactory
from autopay.models import AutopayDraft
from autopay.services.drafts import CHARGING_STALE_AFTER, autopay_run
from autopay.services.enrollment import autopay_enroll, card_save, card_setup_start
from billing.models import Payment, Service
from billing.services.bills import bills_run
from billing.tests import stripe_browser
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory
from kernel.testing.workers import tasks_queued, worker_kill_when, worker_process

ENROLLMENTS = 12


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_run_then_run_again_drafts_everyone_once(tmp_path):
    RateScheduleFactory(
        service=Service.SEWER, effective_date=dt.date(2025, 7, 1), monthly_charge_per_unit=Decimal("20")
    )
    user = UserFactory()
    secret = card_setup_start(user=user)
    card = card_save(
        user=user, setup_intent_id=stripe_browser.confirm_card_setup(secret, "4242424242424242")["id"]
    )
    for _ in range(ENROLLMENTS):
        account = AccountLinkFactory(user=user).service_account
        AccountServiceFactory(service_account=account, service=Service.SEWER)
        enrollment = autopay_enroll(user=user, service_account=account, card=card, draft_day=5)
        type(enrollment).objects.filter(pk=enrollment.pk).update(starts_on=dt.date(2026, 6, 30))
    bills_run(period=dt.date(2026, 6, 1), issued_on=dt.date(2026, 7, 1), notify=False)

    # The worker process: the same code, the test database, Stripe paced to 4 requests a second
    # so the run is still going when it is killed.
    with worker_process(tmp_path / "worker.log", STRIPE_MAX_REQUESTS_PER_SECOND="4") as worker:
        with tasks_queued():
            autopay_run(on=dt.date(2026, 7, 5), fan_out=True, chunk_size=ENROLLMENTS)
        # Killed once Stripe has charged some of the chunk (each PaymentIntent is kept as Stripe
        # answers) and before the chunk is settled.
        charged = Payment.objects.filter(channel="autopay", stripe_payment_intent_id__isnull=False)
        some_paid = worker_kill_when(worker, lambda: charged.count() >= 3)
    assert some_paid, (tmp_path / "worker.log").read_text()[-2000:]
    assert charged.count() < ENROLLMENTS, "the worker finished before it could be killed"

    # Later (a claim left by the dead worker is stale by then), the run again.
    import time_machine

    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + CHARGING_STALE_AFTER + dt.timedelta(minutes=1)):
        autopay_run(on=dt.date(2026, 7, 5))

    drafts = list(AutopayDraft.objects.all())
    assert len(drafts) == ENROLLMENTS
    assert all(d.status == "succeeded" for d in drafts)
    assert Payment.objects.filter(status="succeeded").count() == ENROLLMENTS
    for draft in drafts:
        assert len(stripe_browser.payment_intents_for("autopay_draft_id", str(draft.pk))) == 1, draft.pk
    assert settings.STRIPE_MAX_REQUESTS_PER_SECOND > 4  # this process was not slowed
