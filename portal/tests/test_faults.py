"""Faults: Redis down, Stripe unreachable, the database connection lost in the middle of a
payment. Each with the real services: a "down" service is a free local port, where nothing listens."""

import copy
import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

import psycopg2
import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory
from billing.models import LedgerEntry, Payment
from billing.services.payments import payments_reconcile
from billing.stripe_gateway import UNREACHABLE
from billing.tests import stripe_browser
from billing.tests.factories import balance, post
from billing.tests.stripe_browser import THREE_D_SECURE, VISA, charge, start
from portal.devservices import free_port

pytestmark = pytest.mark.django_db(transaction=True)
D = dt.date


@pytest.fixture
def customer():
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "120.00", D(2026, 5, 1), D(2026, 5, 20))
    return {"user": user, "account": account}


@contextmanager
def redis_down():
    """The cache and the Celery broker pointed at a Redis that is not there; back after."""
    from portal.celery import app

    dead = f"redis://127.0.0.1:{free_port()}/0"
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = dead
    live_broker = app.conf.broker_url

    def reset_producers():
        app._pool = None
        app.amqp._producer_pool = None

    with override_settings(CACHES=caches):
        app.conf.broker_url = dead
        app.conf.task_always_eager = False  # tasks really go to the broker
        reset_producers()
        try:
            yield
        finally:
            app.conf.broker_url = live_broker
            app.conf.task_always_eager = True
            reset_producers()


def test_with_redis_down_pages_serve_and_payments_post_and_the_receipt_follows_when_it_returns(customer):
    account = customer["account"]
    client = Client()
    with redis_down():
        # Sign-in (its rate limit counts in Redis), the dashboard, a guest's quick-pay look-up.
        response = client.post(
            reverse("account_login"), {"login": customer["user"].email, "password": PASSWORD}
        )
        assert response.status_code == 302 and response["Location"] == reverse("dashboard")
        assert client.get(reverse("dashboard")).status_code == 200
        lookup = Client().post(
            reverse("quick_pay"),
            {"account_number": account.account_number, "service_zip": account.service_zip},
        )
        assert lookup.status_code == 302

        _, started = start(client, account, "40.00")
        result = charge(client, started.json(), VISA).json()

        assert result["status"] == "succeeded"
        assert balance(account) == Decimal("80.00")
        assert mail.outbox == []  # the receipt could not be queued
        payment = Payment.objects.get(service_account=account)
        assert payment.receipt_sent_at is None

    # Redis is back: the 15-minute reconciliation sends what was never queued, once.
    assert payments_reconcile(older_than=dt.timedelta(0))["receipts"] == 1
    assert payments_reconcile(older_than=dt.timedelta(0))["receipts"] == 0
    assert [m.subject for m in mail.outbox] == [f"Payment received: {payment.confirmation_number}"]


def test_with_stripe_unreachable_the_customer_is_told_and_nothing_is_paid(client, customer):
    account = customer["account"]
    client.force_login(customer["user"])
    with override_settings(STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}"):
        token, response = start(client, account, "30.00")

    assert response.status_code == 503
    assert response.json()["error"] == UNREACHABLE
    assert balance(account) == Decimal("120.00")
    payment = Payment.objects.get(client_token=token)
    assert payment.status == Payment.Status.PENDING and not payment.stripe_setup_intent_id

    # Never submitted: the reconciliation retires it after a day, nothing charged.
    Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at - dt.timedelta(days=2))
    assert payments_reconcile(older_than=dt.timedelta(0))["canceled"] == 1
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.CANCELED
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_stripe_unreachable_after_the_bank_check_is_settled_by_reconciliation(client, customer):
    account = customer["account"]
    client.force_login(customer["user"])
    token, started = start(client, account, "25.00")
    result = charge(client, started.json(), THREE_D_SECURE).json()
    stripe_browser.confirm_card_payment(result["client_secret"], success=True)  # the bank said yes

    with override_settings(STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}"):
        done = client.post(result["complete_url"])

    assert done.status_code == 503 and done.json()["error"] == UNREACHABLE
    assert Payment.objects.get(client_token=token).status == Payment.Status.REQUIRES_ACTION
    assert balance(account) == Decimal("120.00")  # not recorded as paid on the browser's word

    assert payments_reconcile(older_than=dt.timedelta(0))["settled"] == 1
    assert Payment.objects.get(client_token=token).status == Payment.Status.SUCCEEDED
    assert balance(account) == Decimal("95.00")
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


@contextmanager
def connection_lost_at(statement_start: str):
    """Terminate this test's own PostgreSQL connection just before a statement that starts with
    `statement_start` runs: what a network cut or a database restart looks like to Django."""
    params = connection.get_connection_params()
    killed = []

    def cut(execute, sql, params_, many, context):
        if not killed and sql.lstrip().startswith(statement_start):
            pid = connection.connection.info.backend_pid
            with psycopg2.connect(**params) as other, other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            killed.append(pid)
        return execute(sql, params_, many, context)

    connection.ensure_connection()
    with connection.execute_wrapper(cut):
        yield killed


def test_the_database_lost_in_the_middle_of_a_payment_is_a_503_and_nothing_is_half_written(client, customer):
    account = customer["account"]
    client.force_login(customer["user"])
    token, started = start(client, account, "50.00")
    setup = stripe_browser.confirm_card_setup(started.json()["client_secret"], VISA)

    with connection_lost_at("WITH added AS") as killed:  # ledger_post's write
        response = client.post(
            started.json()["charge_url"], {"setup_intent": setup["id"]}, content_type="application/json"
        )

    assert killed, "the connection was not cut"
    assert response.status_code == 503
    assert "Nothing was saved" in response.json()["error"]
    payment = Payment.objects.get(client_token=token)  # a new connection
    assert payment.status != Payment.Status.SUCCEEDED and payment.stripe_payment_intent_id
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    assert balance(account) == Decimal("120.00")

    # Stripe took the money; the reconciliation posts it, once.
    payments_reconcile(older_than=dt.timedelta(0))
    assert Payment.objects.get(client_token=token).status == Payment.Status.SUCCEEDED
    assert balance(account) == Decimal("70.00")
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_a_page_whose_database_goes_away_gets_the_503_page(client, customer):
    client.force_login(customer["user"])
    client.get(reverse("dashboard"))
    with connection_lost_at("WITH acct AS") as killed:  # the dashboard's read of balances and open items
        response = client.get(reverse("dashboard"))

    assert killed, "the connection was not cut"
    assert response.status_code == 503
    assert "We cannot reach our records just now" in response.content.decode()
    assert response["Retry-After"] == "120"
    assert client.get(reverse("dashboard")).status_code == 200  # the next request reconnects


@pytest.fixture
def billable():
    """Six sewer accounts, each with one linked login that wants bill-ready emails."""
    from billing.models import Service
    from billing.tests.factories import AccountServiceFactory, RateScheduleFactory

    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    accounts = [AccountServiceFactory(service=Service.SEWER).service_account for _ in range(6)]
    for account in accounts:
        AccountLinkFactory(service_account=account)
    return accounts


def ready_emails() -> list[str]:
    return sorted(
        message.to[0] for message in mail.outbox if message.subject.startswith("Your June 2026 bill")
    )


def hand_over_and_wait(expected: int) -> None:
    """Redis is back: the every-minute flush hands the waiting tasks to a real worker."""
    import time

    from celery.contrib.testing.worker import start_worker

    from kernel.outbox import outbox_flush
    from portal.celery import app

    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            flushed = outbox_flush(grace_seconds=0)
            assert flushed["waiting"] == 0
            deadline = time.monotonic() + 30
            while len(ready_emails()) < expected and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.5)  # room for a duplicate to show up, were there one
    finally:
        app.conf.task_always_eager = True


def test_run_billing_with_redis_down_issues_every_bill_exits_0_and_the_emails_go_when_it_returns(billable):
    from io import StringIO

    from django.core.management import call_command

    from billing.models import Bill

    out = StringIO()
    with redis_down():
        call_command(
            "run_billing",
            "--period",
            "2026-06",
            "--issue-date",
            "2026-07-01",
            "--chunk-size",
            "2",
            stdout=out,
        )

    assert Bill.objects.filter(period=D(2026, 6, 1)).count() == 6
    assert "6 created" in out.getvalue()
    assert "The bill-ready emails of 6 bill(s) wait for the queue" in out.getvalue()
    assert ready_emails() == []

    hand_over_and_wait(expected=6)

    logins = sorted(account.users.get().email for account in billable)
    assert ready_emails() == logins  # every email, each once
    from kernel.outbox import outbox_flush, outbox_waiting

    assert outbox_waiting() == 0
    assert outbox_flush(grace_seconds=0)["sent"] == 0


def test_redis_stopped_in_the_middle_of_a_bill_run_loses_no_email(billable):
    """The first chunk's emails are queued while Redis answers; then it stops. The rest wait in
    the outbox and go once it is back: every login hears once."""
    from contextlib import ExitStack

    from billing.services.bills import bills_run

    chunks_done = []
    with ExitStack() as outage:

        def after_chunk(count):
            chunks_done.append(count)
            if len(chunks_done) == 1:
                outage.enter_context(redis_down())  # Redis stops after the first chunk

        result = bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), chunk_size=2, progress=after_chunk)
        from kernel.outbox import outbox_waiting

        assert result.created == 6
        assert outbox_waiting(task="billing.tasks.bills_notify_ready") == 4  # chunks two and three

    hand_over_and_wait(expected=6)

    assert ready_emails() == sorted(account.users.get().email for account in billable)


def test_a_task_that_cannot_be_sent_is_set_aside_and_the_rest_go():
    from django.db import transaction

    from kernel.models import OutboxTask
    from kernel.outbox import outbox_enqueue, outbox_flush, outbox_waiting

    with redis_down():
        with transaction.atomic():
            outbox_enqueue("billing.tasks.no_such_task_after_a_rename", [1])
            outbox_enqueue("billing.tasks.bills_notify_ready", [[]])
        assert outbox_waiting() == 1  # the broken one is set aside at once, not counted as waiting

    result = outbox_flush(grace_seconds=0)

    broken = OutboxTask.objects.get(task="billing.tasks.no_such_task_after_a_rename")
    assert broken.failed_at and "ImportError" in broken.last_error and broken.queued_at is None
    assert OutboxTask.objects.get(task="billing.tasks.bills_notify_ready").queued_at is not None
    assert result == {"sent": 1, "waiting": 0}
