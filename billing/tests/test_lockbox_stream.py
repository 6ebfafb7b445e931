"""The lockbox file streamed and posted set-based: big files, scan lines, every problem at once,
confirmation numbers drawn in SQL."""

import re
from decimal import Decimal

import pytest

from accounts.tests.factories import ServiceAccountFactory
from billing.models import LedgerEntry, LockboxException, Payment, PaymentBatch
from billing.models.payments import CONFIRMATION_ALPHABET
from billing.scanline import scan_line
from billing.services import batches
from billing.services.batches import lockbox_import
from billing.tests.factories import balance
from kernel.csvimport import CsvImportError

pytestmark = pytest.mark.django_db

HEADER = "account_number,amount,check_number,date,scan_line\n"
CONFIRMATION = re.compile(rf"^P[{CONFIRMATION_ALPHABET}]{{9}}$")


def accounts(count: int) -> list:
    return [ServiceAccountFactory(account_number=f"{400000 + n:06d}-01") for n in range(count)]


def test_a_file_of_thousands_of_checks_posts_each_to_its_account_and_holds_the_rest_in_line_order(tmp_path):
    payers = accounts(50)
    path = tmp_path / "lockbox.csv"
    with path.open("w") as handle:
        handle.write(HEADER)
        for n in range(12_000):
            # Every 1,000th row names an account that does not exist.
            number = "999999-01" if n % 1000 == 999 else payers[n % 50].account_number
            handle.write(f"{number},{1 + n % 7}.25,{70000 + n},2026-06-{1 + n % 28:02d},\n")

    result = lockbox_import(path=path)

    posted = [n for n in range(12_000) if n % 1000 != 999]
    expected_total = sum((Decimal(f"{1 + n % 7}.25") for n in posted), Decimal("0"))
    assert (result.posted, result.total) == (len(posted), expected_total)
    assert [text.split(":")[0] for text in result.exceptions] == [
        f"line {n + 2}" for n in range(999, 12_000, 1000)
    ]
    assert (
        result.exceptions[0]
        == "line 1001: account 999999-01 not found: check 70999 for $6.25 dated 2026-06-20"
    )
    batch = PaymentBatch.objects.get()
    assert (batch.control_count, batch.control_total, batch.status) == (len(posted), expected_total, "posted")
    assert str(batch.deposit_date) == "2026-06-28"
    payments = Payment.objects.filter(batch=batch)
    assert payments.count() == len(posted)
    assert payments.filter(status="succeeded", ledger_entry__isnull=False, channel="lockbox").count() == len(
        posted
    )
    numbers = list(payments.values_list("confirmation_number", flat=True))
    assert len(set(numbers)) == len(numbers) and all(CONFIRMATION.match(n) for n in numbers)
    first = payments.get(check_number="70000")
    assert (first.service_account, first.amount, str(first.received_on)) == (
        payers[0],
        Decimal("1.25"),
        "2026-06-01",
    )
    assert first.ledger_entry.description == "Bank lockbox payment, check 70000"
    assert (
        first.ledger_entry.amount == Decimal("-1.25")
        and first.ledger_entry.source_key == f"payment:{first.pk}"
    )
    # Each account is paid what its rows add up to.
    paid = sum((Decimal(f"{1 + n % 7}.25") for n in posted if n % 50 == 3), Decimal("0"))
    assert balance(payers[3]) == -paid
    assert LockboxException.objects.count() == 12
    assert LedgerEntry.objects.count() == len(posted)


def test_scan_lines_name_the_account_when_the_number_is_blank_or_unknown_and_each_miss_says_why(tmp_path):
    (payer, other) = accounts(2)
    good = scan_line(account_number=payer.account_number, amount=Decimal("30.00"))
    for_other = scan_line(account_number=other.account_number, amount=Decimal("30.00"))
    unknown = scan_line(account_number="777777-01", amount=Decimal("30.00"))
    path = tmp_path / "lockbox.csv"
    path.write_text(
        HEADER
        + f",10.00,1,2026-06-02,{good}\n"  # blank number: the scan line names it
        + f"123456-99,11.00,2,2026-06-02,{good}\n"  # unknown number: the scan line names it
        + f"{payer.account_number},12.00,3,2026-06-02,{for_other}\n"  # the two disagree
        + ",13.00,4,2026-06-02,not a scan line\n"
        + f",14.00,5,2026-06-02,{unknown}\n"
        + ",15.00,6,2026-06-02,\n"
    )

    result = lockbox_import(path=path)

    assert (result.posted, result.total) == (2, Decimal("21.00"))
    assert balance(payer) == Decimal("-21.00")
    assert not LedgerEntry.objects.filter(service_account=other).exists()
    assert [text.split(": check")[0] for text in result.exceptions] == [
        f"line 4: account {payer.account_number} and scan line {for_other.strip()!r} name different accounts",
        "line 5: account (scan line 'not a scan line' does not read) not found",
        f"line 6: account (scan line {unknown.strip()!r} reads but matches no account) not found",
        "line 7: account (blank) not found",
    ]
    assert list(LockboxException.objects.order_by("line").values_list("line", "account_text")) == [
        (4, payer.account_number),
        (5, "not a scan line"),
        (6, unknown.strip()),
        (7, ""),
    ]


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_kept(tmp_path):
    (payer,) = accounts(1)
    path = tmp_path / "lockbox.csv"
    rows = [f"{payer.account_number},10.00,{n},2026-06-02,\n" for n in range(5000)]
    rows[10] = f"{payer.account_number},ten,11,2026-06-02,\n"
    rows[4000] = f"{payer.account_number},-5.00,4001,June 2,\n"
    rows.append("999999-01,1.00,9,2026-06-02,\n")  # would be held, but nothing is kept
    path.write_text(HEADER + "".join(rows))

    with pytest.raises(CsvImportError) as raised:
        lockbox_import(path=path)

    assert raised.value.errors == [
        "line 12: amount 'ten' is not a positive amount like 45.10",
        "line 4002: amount '-5.00' is not a positive amount like 45.10",
        "line 4002: date 'June 2' is not a date like 2026-07-01",
    ]
    assert (Payment.objects.count(), PaymentBatch.objects.count(), LockboxException.objects.count()) == (
        0,
        0,
        0,
    )
    assert LedgerEntry.objects.count() == 0


def test_a_confirmation_number_drawn_twice_or_already_taken_is_drawn_again(tmp_path, monkeypatch):
    # Two characters (1,024 numbers) for 300 payments: many draws collide, and one is taken already.
    monkeypatch.setattr(batches, "CONFIRMATION_CHARACTERS", 2)
    (payer,) = accounts(1)
    path = tmp_path / "lockbox.csv"
    path.write_text(HEADER + "".join(f"{payer.account_number},1.00,{n},2026-06-02,\n" for n in range(300)))

    result = lockbox_import(path=path)

    numbers = list(Payment.objects.values_list("confirmation_number", flat=True))
    assert result.posted == 300 and len(numbers) == 300 == len(set(numbers))
    assert all(re.match(rf"^P[{CONFIRMATION_ALPHABET}]{{2}}$", n) for n in numbers)
