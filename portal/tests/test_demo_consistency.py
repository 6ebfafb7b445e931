"""The demo year is lived in date order: every bill agrees with the ledger of its issue date, and
no bill after the June sweep counts certified charges as owed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from billing.models import Bill, LedgerEntry
from billing.selectors import ledger_rows_for_account, open_items, past_due_total

pytestmark = pytest.mark.django_db


def test_every_demo_bill_equals_the_ledger_on_its_issue_date(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 30, 20, tzinfo=dt.UTC), tick=False)
    call_command("seed_demo", accounts=40)

    transfers = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.TAX_ROLL_TRANSFER)
    assert transfers.exists(), "the demo year should include a June sweep that certified someone"
    assert set(transfers.values_list("posted_on", flat=True)) == {dt.date(2026, 6, 21)}
    bills = list(Bill.objects.order_by("service_account_id", "period"))
    assert len(bills) > 400
    for bill in bills:
        rows = ledger_rows_for_account(service_account_id=bill.service_account_id)
        balance = sum((r.amount for r in rows if r.posted_on <= bill.issued_on), Decimal("0"))
        assert bill.total_due == balance, (bill, bill.total_due, balance)
        items = open_items(rows, as_of=bill.issued_on)
        assert bill.past_due_amount == past_due_total(items, as_of=bill.issued_on), bill

    # The October bill of a certified account: what was certified is not in what it asks for.
    certified = transfers.values_list("service_account_id", flat=True).first()
    october = Bill.objects.get(service_account_id=certified, period=dt.date(2026, 10, 1))
    moved = -transfers.filter(service_account_id=certified).aggregate(total=Sum("amount"))["total"]
    owed_without_sweep = (
        LedgerEntry.objects.filter(service_account_id=certified, posted_on__lte=october.issued_on)
        .exclude(kind=LedgerEntry.Kind.TAX_ROLL_TRANSFER)
        .aggregate(total=Sum("amount"))["total"]
    )
    assert moved > 0 and october.total_due == owed_without_sweep - moved
