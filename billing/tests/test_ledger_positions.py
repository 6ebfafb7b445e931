"""The open items read from the newest rows (ledger_positions) equal the ones the whole ledger gives
(open_items over every row), on generated histories with every kind of row the ledger takes."""

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

import pytest

from accounts.tests.factories import ServiceAccountFactory
from billing.calendar import add_months, days_past_due
from billing.models import Bill, LedgerEntry
from billing.selectors import (
    LEDGER_ROW_FIELDS,
    LedgerRow,
    account_summary,
    bill_statement,
    ledger_positions,
    open_items,
    past_due_total,
)
from billing.services.bills import bills_run
from billing.services.ledger import Posting, ledger_post, ledger_reverse
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory

pytestmark = pytest.mark.django_db

START = dt.date(2021, 7, 1)


def money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def generate_history(account, rng: random.Random, *, months: int) -> None:
    """Monthly bills, late fees and adjustments; payments short, in full and over; credits;
    waived and partly waived charges, returned payments, reversals of reversals, transfers to
    the tax roll; due dates out of posting order and rows dated ahead."""
    serial = 0
    debits, payments, reversals = [], [], []

    def post(kind, amount, posted_on, due_date=None, reverses=None):
        nonlocal serial
        serial += 1
        (entry,) = ledger_post(
            postings=[
                Posting(
                    service_account_id=account.pk,
                    kind=kind,
                    amount=amount,
                    posted_on=posted_on,
                    due_date=due_date,
                    source_key=f"gen:{account.pk}:{serial}",
                    reverses_id=reverses.pk if reverses else None,
                )
            ]
        )
        return entry

    habit = rng.choice(["pays", "pays late", "short", "stops", "overpays", "erratic"])
    for month in range(months):
        billed = add_months(START, month + 1)
        due = billed + dt.timedelta(days=rng.choice([19, 19, 19, 5, 45]))
        debits.append(post("charge", money(rng, 20, 140), billed, due))
        if rng.random() < 0.15:
            debits.append(post("late_fee", money(rng, 5, 25), billed + dt.timedelta(days=3), billed))
        if rng.random() < 0.05:
            post("adjustment", money(rng, 1, 30), billed + dt.timedelta(days=2))
        if rng.random() < 0.05:
            post("adjustment", -money(rng, 1, 30), billed + dt.timedelta(days=2))
        paid_on = billed + dt.timedelta(days=rng.randint(1, 40))
        owed = debits[-1].amount
        if habit == "pays" or (habit == "stops" and month < months // 2):
            payments.append(post("payment", -owed, paid_on))
        elif habit == "pays late" and month % 3 == 2:
            payments.append(post("payment", -owed * 3, paid_on))
        elif habit == "short":
            payments.append(post("payment", -(owed / 2).quantize(Decimal("0.01")), paid_on))
        elif habit == "overpays":
            payments.append(post("payment", -(owed + money(rng, 1, 60)), paid_on))
        elif habit == "erratic" and rng.random() < 0.6:
            payments.append(post("payment", -money(rng, 5, 200), paid_on))
        if rng.random() < 0.05:
            post("credit", -money(rng, 5, 50), paid_on)
        later = paid_on + dt.timedelta(days=rng.randint(1, 20))
        if rng.random() < 0.08 and debits:
            charge = rng.choice(debits)
            left = charge.amount + sum(r.amount for r in charge.reversals.all())
            if left > Decimal("0.02"):
                part = rng.choice([None, (left / 2).quantize(Decimal("0.01"))])
                reversal = ledger_reverse(
                    entry=charge,
                    posted_on=later,
                    source_key=f"gen:{account.pk}:w{serial}",
                    description="",
                    amount=part,
                )
                serial += 1
                reversals.append(reversal)
        if rng.random() < 0.06 and payments:
            payment = payments.pop(rng.randrange(len(payments)))
            reversals.append(
                ledger_reverse(
                    entry=payment, posted_on=later, source_key=f"gen:{account.pk}:r{serial}", description=""
                )
            )
            serial += 1
        if rng.random() < 0.04 and reversals:
            # A waiver or a returned payment undone: the reversal's reversal stands on its own.
            reversal = reversals.pop(rng.randrange(len(reversals)))
            ledger_reverse(
                entry=reversal, posted_on=later, source_key=f"gen:{account.pk}:u{serial}", description=""
            )
            serial += 1
        if rng.random() < 0.03 and debits:
            charge = debits[0]
            left = charge.amount + sum(r.amount for r in charge.reversals.all())
            if left > 0:
                post("tax_roll_transfer", -left, later, reverses=charge)


def full_ledger(account_ids, *, as_of, created_by=None):
    """What every row gives: (balance, open items) by account."""
    rows = defaultdict(list)
    entries = LedgerEntry.objects.filter(service_account_id__in=account_ids)
    if created_by is not None:
        entries = entries.filter(created_at__lte=created_by)
    for values in entries.values_list("service_account_id", *LEDGER_ROW_FIELDS):
        rows[values[0]].append(LedgerRow(*values[1:]))
    return {
        pk: (
            sum((r.amount for r in rows[pk] if r.posted_on <= as_of), Decimal("0")),
            open_items(rows[pk], as_of=as_of),
        )
        for pk in account_ids
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_open_items_from_the_newest_rows_equal_the_whole_ledgers(seed):
    rng = random.Random(seed)
    accounts = [ServiceAccountFactory() for _ in range(24)]
    for account in accounts:
        generate_history(account, rng, months=rng.choice([2, 13, 30, 61]))
    ids = [a.pk for a in accounts]
    owing = 0
    for as_of in [dt.date(2021, 9, 10), dt.date(2023, 1, 31), dt.date(2026, 8, 20), dt.date(2027, 1, 1)]:
        expected = full_ledger(ids, as_of=as_of)
        positions = ledger_positions(account_ids=ids, as_of=as_of)
        for pk in ids:
            assert (positions[pk].balance, positions[pk].open_items) == expected[pk], (seed, pk, as_of)
            owing += bool(expected[pk][1])
    assert owing > 10  # the histories leave real open items to find, not only paid-up accounts


def test_a_long_unpaid_history_is_read_in_full_when_the_first_rows_do_not_cover_it():
    account = ServiceAccountFactory()
    rng = random.Random(9)
    for month in range(30):
        billed = add_months(START, month + 1)
        ledger_post(
            postings=[
                Posting(
                    service_account_id=account.pk,
                    kind="charge",
                    amount=money(rng, 20, 90),
                    posted_on=billed,
                    due_date=billed + dt.timedelta(days=19),
                    source_key=f"long:{month}",
                )
            ]
        )
    as_of = dt.date(2026, 1, 1)
    (position,) = ledger_positions(account_ids=[account.pk], as_of=as_of).values()
    assert len(position.open_items) == 30
    assert (position.balance, position.open_items) == full_ledger([account.pk], as_of=as_of)[account.pk]
    summary = account_summary(service_account=account, as_of=as_of)
    assert summary.open_items == position.open_items and summary.balance == position.balance


def statement_from_the_whole_ledger(bill):
    """A bill's figures and past-due lines from every row the run could see."""
    rows = [
        LedgerRow(*values)
        for values in LedgerEntry.objects.filter(
            service_account_id=bill.service_account_id, created_at__lte=bill.created_at
        ).values_list(*LEDGER_ROW_FIELDS)
    ]
    previous = (
        Bill.objects.filter(service_account_id=bill.service_account_id, period__lt=bill.period)
        .order_by("-period")
        .values_list("issued_on", flat=True)
        .first()
    ) or bill.period - dt.timedelta(days=1)
    items = open_items(rows, as_of=bill.issued_on)
    return {
        "previous_balance": sum((r.amount for r in rows if r.posted_on <= previous), Decimal("0")),
        "total_due": sum((r.amount for r in rows if r.posted_on <= bill.issued_on), Decimal("0")),
        "past_due_amount": past_due_total(items, as_of=bill.issued_on),
        "past_due_lines": [
            (i.due_date, i.unpaid) for i in items if days_past_due(i.due_date, bill.issued_on) > 0
        ],
    }


def test_bills_and_their_statements_equal_what_the_whole_ledger_gives():
    """The bill run reads only the rows since the last bill and the newest debits; its previous
    balance, total and past due, and the bill page's past-due lines, are the whole ledger's."""
    rng = random.Random(5)
    RateScheduleFactory(effective_date=dt.date(2020, 1, 1))
    accounts = [AccountServiceFactory().service_account for _ in range(30)]
    for account in accounts:
        generate_history(account, rng, months=rng.choice([3, 13, 40]))
    for period in [dt.date(2026, 8, 1), dt.date(2026, 9, 1)]:
        result = bills_run(period=period, issued_on=add_months(period, 1), notify=False)
        assert result.created == len(accounts)
    checked = 0
    for bill in Bill.objects.filter(service_account__in=accounts):
        expected = statement_from_the_whole_ledger(bill)
        statement = bill_statement(bill=bill)
        got = {
            "previous_balance": bill.previous_balance,
            "total_due": bill.total_due,
            "past_due_amount": bill.past_due_amount,
            "past_due_lines": [(line.due_date, line.unpaid) for line in statement.past_due],
        }
        assert got == expected, bill.service_account.account_number
        checked += bool(expected["past_due_lines"])
    assert checked > 5
