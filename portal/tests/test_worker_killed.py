"""A real Celery worker SIGKILLed in the middle of the bill run and of the certification sweep
(the autopay run's is in autopay/tests): running it again finishes the work, with no
duplicate and nothing missed. The worker is stopped at a known point: one account's balance row
is held, so the worker has committed the chunks before it and waits inside the next."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.tests.factories import ServiceAccountFactory
from billing.models import Bill, BillingAccount, LedgerEntry, Service
from billing.services.bills import bills_run
from billing.services.ledger import billing_accounts_ensure
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory, post
from certification.models import Certification
from certification.services.sweep import certification_sweep
from kernel.testing.workers import (
    balance_row_held,
    someone_waits_on_a_lock,
    tasks_queued,
    worker_kill_when,
    worker_process,
)

pytestmark = pytest.mark.django_db(transaction=True)
D = dt.date
ACCOUNTS = 30
CHUNK = 5


def kill_when_blocked(worker, done_before: callable, log_path) -> None:
    """Killed once `done_before()` holds and the worker waits on the held balance row."""
    blocked = worker_kill_when(worker, lambda: done_before() and someone_waits_on_a_lock())
    assert blocked, log_path.read_text()[-3000:]


def test_bill_run_worker_killed_mid_run_then_run_again_bills_everyone_once(tmp_path):
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("20")
    )
    accounts = [ServiceAccountFactory() for _ in range(ACCOUNTS)]
    for account in accounts:
        AccountServiceFactory(service_account=account, service=Service.SEWER)
    billing_accounts_ensure(service_account_ids=[a.pk for a in accounts])
    held = sorted(a.pk for a in accounts)[2 * CHUNK + 1]  # in the third chunk
    log_path = tmp_path / "worker.log"

    with balance_row_held(held), worker_process(log_path) as worker:
        with tasks_queued():
            bills_run(
                period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False, fan_out=True, chunk_size=CHUNK
            )
        kill_when_blocked(worker, lambda: Bill.objects.count() >= 2 * CHUNK, log_path)

    billed_before = Bill.objects.count()
    assert billed_before == 2 * CHUNK  # the chunk the worker died in left nothing behind
    assert LedgerEntry.objects.filter(kind="charge").count() == 2 * CHUNK

    result = bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)

    assert (result.created, result.already_billed) == (ACCOUNTS - 2 * CHUNK, 2 * CHUNK)
    assert Bill.objects.count() == ACCOUNTS
    assert LedgerEntry.objects.filter(kind="charge").count() == ACCOUNTS
    assert set(BillingAccount.objects.values_list("balance", flat=True)) == {Decimal("20.00")}


def test_sweep_worker_killed_mid_sweep_then_run_again_certifies_everyone_once(tmp_path):
    accounts = [ServiceAccountFactory() for _ in range(ACCOUNTS)]
    for account in accounts:
        post(account, "charge", "40.00", D(2026, 2, 1), D(2026, 2, 20))
    held = sorted(a.pk for a in accounts)[2 * CHUNK + 1]
    year = (
        dt.date.today().year if dt.date.today() > D(dt.date.today().year, 6, 20) else dt.date.today().year - 1
    )
    if year != 2026:
        pytest.fail("the charges above are dated for the 2026 sweep; move them with the calendar")
    log_path = tmp_path / "worker.log"

    with balance_row_held(held), worker_process(log_path, CERTIFICATION_SWEEP_CHUNK=str(CHUNK)) as worker:
        from certification.tasks import certification_sweep_task

        with tasks_queued():
            certification_sweep_task.delay(year=2026)
        kill_when_blocked(worker, lambda: Certification.objects.count() >= 2 * CHUNK, log_path)

    assert Certification.objects.count() == 2 * CHUNK
    assert LedgerEntry.objects.filter(kind="tax_roll_transfer").count() == 2 * CHUNK

    result = certification_sweep(year=2026, today=D(2026, 6, 21))

    assert (len(result.certified), result.already) == (ACCOUNTS - 2 * CHUNK, 2 * CHUNK)
    assert Certification.objects.count() == ACCOUNTS
    assert LedgerEntry.objects.filter(kind="tax_roll_transfer").count() == ACCOUNTS
    assert set(BillingAccount.objects.values_list("balance", flat=True)) == {Decimal("0.00")}
