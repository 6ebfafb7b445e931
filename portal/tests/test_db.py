"""The set-based helpers in kernel.db: what they write is what Django would have written."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.tests.factories import ServiceAccountFactory
from billing.models import Payment, PaymentBatch
from kernel.db import id_list, insert_values, rows_update

pytestmark = pytest.mark.django_db


def test_rows_update_saves_each_instance_its_own_values_and_no_other_field():
    account = ServiceAccountFactory()
    payments = [
        Payment.objects.create(
            service_account=account,
            amount=Decimal("10.00"),
            channel="mail",
            method="check",
            received_on=dt.date(2026, 6, 1),
        )
        for _n in range(3)
    ]
    when = dt.datetime(2026, 6, 2, 12, 30, tzinfo=dt.UTC)
    for n, payment in enumerate(payments):
        payment.status = ["succeeded", "failed", "succeeded"][n]
        payment.failure_message = f"note {n}" if n == 1 else ""
        payment.settled_at = when + dt.timedelta(minutes=n)
        payment.amount = Decimal("99.99")  # changed in memory, not named: not saved

    assert rows_update(Payment, payments, ["status", "failure_message", "settled_at"]) == 3

    saved = {p.pk: p for p in Payment.objects.all()}
    assert [(saved[p.pk].status, saved[p.pk].failure_message, saved[p.pk].settled_at) for p in payments] == [
        ("succeeded", "", when),
        ("failed", "note 1", when + dt.timedelta(minutes=1)),
        ("succeeded", "", when + dt.timedelta(minutes=2)),
    ]
    assert {p.amount for p in saved.values()} == {Decimal("10.00")}
    assert rows_update(Payment, [], ["status"]) == 0


def test_insert_values_fills_every_default_django_would():
    columns, expressions, params = insert_values(
        PaymentBatch,
        {"kind": "%(kind)s", "deposit_date": "%(day)s", "control_total": "%(total)s", "control_count": "2"},
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO billing_paymentbatch ({', '.join(columns)}) SELECT {', '.join(expressions)} RETURNING id",  # noqa: S608
            {**params, "kind": "mail", "day": dt.date(2026, 6, 1), "total": Decimal("20.00")},
        )
        (pk,) = cursor.fetchone()
    batch = PaymentBatch.objects.get(pk=pk)
    assert (batch.status, batch.note, batch.control_count, batch.created_by) == ("open", "", 2, None)
    assert batch.created_at is not None


def test_id_list_finds_the_ids_given_and_none_for_none():
    accounts = [ServiceAccountFactory() for _n in range(3)]
    from accounts.models import ServiceAccount

    assert set(ServiceAccount.objects.filter(pk__in=id_list([accounts[0].pk, accounts[2].pk]))) == {
        accounts[0],
        accounts[2],
    }
    assert not ServiceAccount.objects.filter(pk__in=id_list([])).exists()
