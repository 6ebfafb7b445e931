"""The monthly bill run as Celery runs it: a real worker on the test Redis."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail

from accounts.tests.factories import AccountLinkFactory
from billing.models import Bill, Service
from billing.tasks import bills_run_previous_month
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory
from kernel.testing.workers import wait_for


@pytest.mark.django_db(transaction=True)
def test_beat_entry_bills_the_month_that_just_ended_through_a_real_worker(time_machine, celery_worker):
    time_machine.move_to(dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC), tick=True)  # July 1, 03:00 Pacific
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.5")
    )
    account = AccountServiceFactory(service=Service.SEWER).service_account
    AccountLinkFactory(service_account=account)

    bills_run_previous_month.delay()
    bills_run_previous_month.delay()  # delivered twice: still one bill
    assert wait_for(lambda: len(mail.outbox) >= 1, timeout=20)
    time.sleep(0.5)

    bill = Bill.objects.get(service_account=account)
    assert (bill.period, bill.due_date, bill.new_charges) == (D(2026, 6, 1), D(2026, 7, 20), Decimal("48.50"))
    assert len(mail.outbox) == 1


def test_the_bill_run_is_on_the_beat_schedule_monthly():
    entry = settings.CELERY_BEAT_SCHEDULE["monthly-bill-run"]
    assert entry["task"] == "billing.tasks.bills_run_previous_month"
    schedule = entry["schedule"]
    assert schedule.day_of_month == {1}


D = dt.date
