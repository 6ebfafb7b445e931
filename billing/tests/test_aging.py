"""The aging report against a computation of its own, written here apart from the portal's, over
generated histories with partial payments, credits, fees, reversals and tax-roll transfers; and
the page, the CSV, the XLSX and the command agreeing to the cent."""

import csv
import datetime as dt
import io
import random
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ServiceAccountFactory, staff_user
from billing.models import LedgerEntry
from billing.reports import aging_report
from billing.tests.factories import paid, post
from kernel.models import AuditEvent

pytestmark = pytest.mark.django_db
D = dt.date
CENT = Decimal("0.01")


def generated_history(seed: int, accounts: int = 12) -> list:
    """Monthly bills due on the 20th with late fees, payments in part and in full, credits, a
    returned payment, a charge corrected by a reversal and a charge sent to the tax roll."""
    rng = random.Random(seed)
    made = []
    for n in range(accounts):
        account = ServiceAccountFactory(account_number=f"{500000 + seed * 100 + n}-01")
        charges = []
        for month in range(1, 11):
            posted = D(2026, month, 1)
            charge = post(
                account,
                "charge",
                f"{rng.randint(30, 90)}.{rng.randint(0, 99):02d}",
                posted,
                D(2026, month, 20),
            )
            charges.append(charge)
            if rng.random() < 0.3:
                post(account, "late_fee", "5.00", D(2026, month, 25), D(2026, month + 1, 10))
            roll = rng.random()
            if roll < 0.4:
                paid = post(
                    account, "payment", f"{rng.randint(10, 120)}.{rng.randint(0, 99):02d}", D(2026, month, 15)
                )
                if rng.random() < 0.1:
                    post(
                        account, "reversal", str(-paid.amount), D(2026, month, 18), reverses=paid
                    )  # returned
            elif roll < 0.5:
                post(account, "credit", f"{rng.randint(1, 40)}.00", D(2026, month, 12))
        if rng.random() < 0.3:
            wrong = charges[rng.randrange(len(charges))]
            post(account, "reversal", str(-wrong.amount), D(2026, 10, 5), reverses=wrong)  # billed in error
        if rng.random() < 0.3:
            old = charges[0]
            post(account, "tax_roll_transfer", str(-old.amount), D(2026, 6, 21), reverses=old)
        made.append(account)
    return made


def expected_aging(account, as_of: dt.date) -> list[Decimal]:
    """The rules in words: rows posted by the date; a row that names another settles it; the rest
    of the money paid or credited goes to the oldest unpaid charges and fees; each unpaid part by
    days past due; leftover credit negative in current."""
    rows = list(LedgerEntry.objects.filter(service_account=account, posted_on__lte=as_of).order_by("id"))
    owed = {r.id: r.amount for r in rows if r.reverses_id is None and r.amount > 0}
    pool = Decimal("0")
    for r in rows:
        if r.reverses_id is not None:
            if r.reverses_id in owed:
                owed[r.reverses_id] += r.amount
            else:  # a payment's reversal: the payment no longer counts
                pool -= r.amount
        elif r.amount < 0:
            pool -= r.amount
    for pk in [pk for pk, amount in owed.items() if amount < 0]:
        pool -= owed.pop(pk)  # reversed beyond itself: the excess is credit
    by_age = sorted(
        (r for r in rows if r.id in owed), key=lambda r: (r.due_date or r.posted_on, r.posted_on, r.id)
    )
    buckets = [Decimal("0")] * 5
    for r in by_age:
        unpaid = owed[r.id]
        taken = min(pool, unpaid)
        pool -= taken
        unpaid -= taken
        if unpaid <= 0:
            continue
        days = (as_of - (r.due_date or r.posted_on)).days
        index = 0 if days <= 0 else 1 if days <= 30 else 2 if days <= 60 else 3 if days <= 90 else 4
        buckets[index] += unpaid
    buckets[0] -= pool
    return buckets


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_report_matches_the_rules_computed_apart_on_generated_histories(seed):
    accounts = generated_history(seed)
    for as_of in (D(2026, 3, 31), D(2026, 6, 30), D(2026, 11, 30)):
        report = aging_report(as_of=as_of)
        got = {row.account_number: list(row.buckets) for row in report.rows}
        for account in accounts:
            want = expected_aging(account, as_of)
            balance = LedgerEntry.objects.filter(service_account=account, posted_on__lte=as_of).aggregate(
                t=Sum("amount")
            )["t"] or Decimal("0")
            assert sum(want) == balance  # the buckets add up to the balance
            if any(want):
                assert got[account.account_number] == want, (account.account_number, as_of)
            else:
                assert account.account_number not in got
        assert [r.account_number for r in report.rows] == sorted(got)
    # The history reaches every kind of bucket the rules have: long overdue, and credit.
    final = aging_report(as_of=D(2026, 11, 30)).rows
    assert any(row.buckets[4] > 0 for row in final) and any(row.buckets[1] > 0 for row in final)


def test_the_page_csv_xlsx_and_command_agree_to_the_cent(tmp_path):
    from openpyxl import load_workbook

    generated_history(7, accounts=6)
    as_of = D(2026, 9, 30)
    report = aging_report(as_of=as_of)
    assert report.rows

    call_command("export_aging", "--as-of", "2026-09-30", "--output", str(tmp_path / "aging.csv"))
    call_command(
        "export_aging", "--as-of", "2026-09-30", "--output", str(tmp_path / "aging.xlsx"), "--format", "xlsx"
    )
    lines = list(csv.reader(io.StringIO((tmp_path / "aging.csv").read_text())))
    assert lines[0] == [
        "account_number",
        "current",
        "days_1_30",
        "days_31_60",
        "days_61_90",
        "over_90",
        "total",
    ]
    assert [line[0] for line in lines[1:]] == [row.account_number for row in report.rows]
    for line, row in zip(lines[1:], report.rows, strict=True):
        assert [Decimal(v) for v in line[1:]] == [*row.buckets, row.total]
        assert all(v == f"{Decimal(v):.2f}" for v in line[1:])  # two decimals
    sheet = load_workbook(tmp_path / "aging.xlsx").active
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["B"].width > 8
    values = list(sheet.iter_rows(values_only=True))
    assert values[-1][0] == "Total" and values[-1][7] == f"=SUM(H2:H{len(report.rows) + 1})"
    assert sum(Decimal(str(v[7])).quantize(CENT) for v in values[1:-1]) == report.total
    again = tmp_path / "again.xlsx"
    call_command("export_aging", "--as-of", "2026-09-30", "--output", str(again), "--format", "xlsx")
    assert again.read_bytes() == (tmp_path / "aging.xlsx").read_bytes()  # the same rows, the same bytes

    finance = Client()
    finance.force_login(staff_user("Finance"))
    page = finance.get(reverse("report_aging"), {"as_of": "2026-09-30"}).content.decode()
    assert f"${report.total:,.2f}" in page
    download = finance.get(reverse("report_aging"), {"as_of": "2026-09-30", "format": "csv"})
    assert download.content == (tmp_path / "aging.csv").read_bytes()
    assert AuditEvent.objects.filter(action="report.download").count() == 1
    bad = finance.get(reverse("report_aging"), {"as_of": "30/09/2026", "format": "csv"})
    assert bad.status_code == 200 and "is not a date like" in bad.content.decode()  # shown, not sent
    clerk = Client()
    clerk.force_login(staff_user("Clerks"))
    assert clerk.get(reverse("report_aging")).status_code == 403


# --- cash receipts ---------------------------------------------------------------------------


def test_cash_receipts_count_each_channel_and_show_returns_and_refunds_apart(tmp_path):
    from billing.reports import cash_csv, cash_receipts
    from billing.services.ledger import ledger_reverse
    from billing.services.refunds import payment_return_check

    account = ServiceAccountFactory()
    post(account, "charge", "900.00", D(2026, 6, 1), D(2026, 6, 20))
    paid(account, "online", "card", "40.00", D(2026, 6, 2))
    paid(account, "quick_pay", "card", "10.00", D(2026, 6, 2))
    paid(account, "autopay", "card", "55.00", D(2026, 6, 2))
    draft = paid(account, "autopay", "bank", "60.00", D(2026, 6, 3))
    paid(account, "online", "bank", "18.00", D(2026, 6, 3))  # from a bank account, online
    paid(account, "phone", "card", "25.00", D(2026, 6, 3))
    check = paid(account, "mail", "check", "30.00", D(2026, 6, 3))
    paid(account, "lobby", "cash", "20.00", D(2026, 6, 4))
    paid(account, "drop_box", "check", "15.00", D(2026, 6, 4))
    paid(account, "lockbox", "check", "35.00", D(2026, 6, 4))
    post(account, "payment", "12.00", D(2026, 6, 4))  # history from the old system
    paid(account, "online", "card", "99.00", D(2026, 7, 1))  # outside the range
    payment_return_check(payment=check, returned_on=D(2026, 6, 5))
    card = paid(account, "online", "card", "50.00", D(2026, 6, 5))
    ledger_reverse(
        entry=card.ledger_entry, posted_on=D(2026, 6, 6), source_key="refund:test", description="Refund"
    )

    report = cash_receipts(start=D(2026, 6, 1), end=D(2026, 6, 30))
    totals = report.totals()

    assert totals["channels"] == [
        Decimal(v)  # card online, card autopay, bank online, phone (clerk), phone line, bank draft, ...
        for v in [
            "100.00",
            "55.00",
            "18.00",
            "25.00",
            "0.00",
            "60.00",
            "30.00",
            "20.00",
            "15.00",
            "35.00",
            "12.00",
        ]
    ]
    assert (totals["received"], totals["returned"], totals["refunded"]) == (
        Decimal("370.00"),
        Decimal("30.00"),
        Decimal("50.00"),
    )
    assert totals["net"] == Decimal("290.00")
    assert report.returned == {(D(2026, 6, 5), "mail"): [1, Decimal("30.00")]}
    assert draft.ledger_entry_id and [r["day"] for r in report.day_rows()] == [
        D(2026, 6, d) for d in (2, 3, 4, 5, 6)
    ]
    rows = list(csv.reader(io.StringIO(cash_csv(report).decode())))
    assert rows[0] == ["date", "kind", "channel", "count", "amount"]
    assert ["2026-06-02", "received", "card_online", "2", "50.00"] in rows
    assert ["2026-06-03", "received", "bank_online", "1", "18.00"] in rows
    assert ["2026-06-05", "returned", "mail", "1", "-30.00"] in rows
    assert sum(Decimal(r[4]) for r in rows[1:]) == totals["net"]  # the file adds up to the net

    finance = Client()
    finance.force_login(staff_user("Finance"))
    page = finance.get(reverse("report_cash"), {"start": "2026-06-01", "end": "2026-06-30"}).content.decode()
    assert "$370.00" in page and "$290.00" in page and "Bank account online" in page
    xlsx = finance.get(reverse("report_cash"), {"start": "2026-06-01", "end": "2026-06-30", "format": "xlsx"})
    assert xlsx["Content-Disposition"] == 'attachment; filename="cash-2026-06-01-2026-06-30.xlsx"'
    backwards = finance.get(
        reverse("report_cash"), {"start": "2026-06-30", "end": "2026-06-01"}
    ).content.decode()
    assert "The first day is after the last" in backwards
