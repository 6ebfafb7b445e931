import datetime as dt
from decimal import Decimal

import pytest

from accounts.tests.factories import ServiceAccountFactory
from billing.selectors import account_aging, account_open_items, account_past_due
from billing.tests.factories import post

pytestmark = pytest.mark.django_db
D = dt.date


def unpaid(account, as_of):
    return {item.entry_id: item.unpaid for item in account_open_items(service_account=account, as_of=as_of)}


def test_payments_apply_to_the_oldest_due_charge_first():
    account = ServiceAccountFactory()
    newer = post(account, "charge", "50.00", D(2026, 2, 1), D(2026, 2, 20))
    older = post(account, "charge", "40.00", D(2026, 3, 1), D(2026, 1, 20))  # posted later, due earlier
    post(account, "payment", "60.00", D(2026, 3, 5))

    assert unpaid(account, D(2026, 3, 31)) == {newer.pk: Decimal("30.00")}
    assert older.pk not in unpaid(account, D(2026, 3, 31))


def test_same_due_date_applies_by_posting_date_then_id():
    account = ServiceAccountFactory()
    fee = post(account, "late_fee", "5.00", D(2026, 3, 2), D(2026, 3, 20))
    charge = post(account, "charge", "50.00", D(2026, 3, 1), D(2026, 3, 20))
    later_same_day = post(account, "charge", "10.00", D(2026, 3, 1), D(2026, 3, 20))
    post(account, "credit", "55.00", D(2026, 3, 3))

    # charge (3/1, first id) is paid in full, then 5.00 of the second 3/1 charge; the fee
    # posted 3/2 comes last.
    assert unpaid(account, D(2026, 3, 31)) == {later_same_day.pk: Decimal("5.00"), fee.pk: Decimal("5.00")}
    assert charge.pk not in unpaid(account, D(2026, 3, 31))


def test_only_rows_posted_on_or_before_the_cut_off_count():
    account = ServiceAccountFactory()
    charge = post(account, "charge", "80.00", D(2026, 3, 1), D(2026, 3, 20))
    post(account, "payment", "80.00", D(2026, 6, 21))

    assert unpaid(account, D(2026, 6, 20)) == {charge.pk: Decimal("80.00")}
    assert unpaid(account, D(2026, 6, 21)) == {}


def test_a_reversed_payment_reopens_what_it_paid():
    from billing.services.ledger import ledger_reverse

    account = ServiceAccountFactory()
    charge = post(account, "charge", "70.00", D(2026, 3, 1), D(2026, 3, 20))
    payment = post(account, "payment", "70.00", D(2026, 3, 10))
    ledger_reverse(entry=payment, posted_on=D(2026, 3, 15), source_key="nsf:1", description="Returned check")

    assert unpaid(account, D(2026, 3, 31)) == {charge.pk: Decimal("70.00")}


def test_a_reversed_fee_is_no_longer_owed_and_does_not_absorb_payments():
    from billing.services.ledger import ledger_reverse

    account = ServiceAccountFactory()
    fee = post(account, "late_fee", "10.00", D(2026, 3, 1), D(2026, 3, 1))
    charge = post(account, "charge", "50.00", D(2026, 3, 1), D(2026, 3, 20))
    ledger_reverse(entry=fee, posted_on=D(2026, 3, 5), source_key="waive:1", description="Fee waived")
    post(account, "payment", "20.00", D(2026, 3, 6))

    assert unpaid(account, D(2026, 3, 31)) == {charge.pk: Decimal("30.00")}


def test_past_due_starts_the_day_after_the_due_date():
    account = ServiceAccountFactory()
    post(account, "charge", "45.10", D(2026, 6, 1), D(2026, 6, 20))

    assert account_past_due(service_account=account, as_of=D(2026, 6, 20)) == Decimal("0.00")
    assert account_past_due(service_account=account, as_of=D(2026, 6, 21)) == Decimal("45.10")


@pytest.mark.parametrize(
    ("as_of", "bucket"),
    [
        (D(2026, 6, 20), "current"),
        (D(2026, 6, 21), "1-30"),
        (D(2026, 7, 20), "1-30"),
        (D(2026, 7, 21), "31-60"),
        (D(2026, 8, 19), "31-60"),
        (D(2026, 8, 20), "61-90"),
        (D(2026, 9, 18), "61-90"),
        (D(2026, 9, 19), "over 90"),
    ],
)
def test_aging_buckets_on_their_boundary_days(as_of, bucket):
    account = ServiceAccountFactory()
    post(account, "charge", "45.10", D(2026, 6, 1), D(2026, 6, 20))

    aging = account_aging(service_account=account, as_of=as_of)

    assert aging[bucket] == Decimal("45.10")
    assert sum(aging.values()) == Decimal("45.10")


def test_overpayment_leaves_nothing_open_and_is_used_by_the_next_charge():
    account = ServiceAccountFactory()
    post(account, "charge", "40.00", D(2026, 3, 1), D(2026, 3, 20))
    post(account, "payment", "100.00", D(2026, 3, 10))
    later = post(account, "charge", "70.00", D(2026, 4, 1), D(2026, 4, 20))

    assert unpaid(account, D(2026, 3, 31)) == {}
    assert unpaid(account, D(2026, 4, 30)) == {later.pk: Decimal("10.00")}
