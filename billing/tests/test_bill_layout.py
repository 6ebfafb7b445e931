"""The printed bill: where the addresses and the scan line sit for a #10 double-window envelope,
what it says about past-due and certified charges, and a stub the lockbox reads back."""

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.tests.factories import ServiceAccountFactory
from billing.layout import LAYOUT, remit_to_lines
from billing.models import Bill, Payment, Service
from billing.pdf import bill_pdf
from billing.scanline import scan_line, scan_line_read
from billing.services.bills import bills_run
from billing.tests.factories import AccountServiceFactory, MeterReadFactory, RateScheduleFactory, post
from kernel.testing.pdf_pages import find_all_text, find_text, page_png, page_text

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def landlord_bill():
    """A water and sewer account whose owner lives elsewhere; a charge certified last June, one
    past due now, and a payment since the last bill. Billed for June 2026 on July 1."""
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    RateScheduleFactory(
        service=Service.WATER,
        effective_date=D(2025, 7, 1),
        monthly_charge_per_unit=Decimal("18.00"),
        charge_per_ccf=Decimal("3.85"),
    )
    account = ServiceAccountFactory(
        account_number="100234-01",
        customer_name="Pat Doe",
        service_address="12 Elm St",
        service_city="Oregon City",
        mailing_name="Acme Rentals c/o Pat Doe",
        mailing_address="PO Box 77",
        mailing_city="Portland",
        mailing_state="OR",
        mailing_zip="97208-0077",
    )
    AccountServiceFactory(service_account=account, service=Service.SEWER)
    AccountServiceFactory(service_account=account, service=Service.WATER)
    MeterReadFactory(service_account=account, period=D(2026, 6, 1), consumption_ccf=Decimal("10"))
    old = post(
        account, "charge", "60.00", D(2025, 3, 1), D(2025, 3, 20), description="Bill for February 2025"
    )
    post(account, "tax_roll_transfer", "-60.00", D(2025, 6, 21), reverses=old, description="Certified")
    post(account, "charge", "52.00", D(2026, 5, 1), D(2026, 5, 20), description="Bill for April 2026")
    post(account, "payment", "20.00", D(2026, 6, 10), description="Payment")
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    bill = Bill.objects.get(service_account=account)
    return {"account": account, "bill": bill, "pdf": bill_pdf(bill=bill)}


def test_the_addresses_sit_in_the_windows_of_a_double_window_envelope(landlord_bill):
    pdf = landlord_bill["pdf"]
    if os.environ.get("PORTAL_PNG_DIR"):  # for a person to look at: PORTAL_PNG_DIR=/tmp make test
        Path(os.environ["PORTAL_PNG_DIR"], "bill.png").write_bytes(page_png(pdf))

    for line in ["Acme Rentals c/o Pat Doe", "PO Box 77", "Portland, OR 97208-0077"]:
        found = find_text(pdf, line)
        assert found, line
        assert LAYOUT.mailing_window.holds(found.left, found.top), (line, found)
        assert LAYOUT.mailing_window.holds(found.right, found.bottom), (line, found)
    for line in remit_to_lines():
        found = find_text(pdf, line)
        assert found and LAYOUT.return_window.holds(found.left, found.top), (line, found)
        assert LAYOUT.return_window.holds(found.right, found.bottom), (line, found)
    # The utility's name, long as it is, wraps inside the return window (its last word too).
    places = find_all_text(pdf, settings.UTILITY_NAME.split()[-1])
    assert any(
        LAYOUT.return_window.holds(p.left, p.top) and LAYOUT.return_window.holds(p.right, p.bottom)
        for p in places
    ), places
    # The service address is printed too, below the stub, with its state.
    service = find_text(pdf, "Oregon City, OR 97045")
    assert service and service.top > LAYOUT.stub_height


def test_the_stub_carries_a_scan_line_the_lockbox_reads_back(landlord_bill, tmp_path, capsys):
    bill, account, pdf = landlord_bill["bill"], landlord_bill["account"], landlord_bill["pdf"]
    assert bill.total_due == Decimal("137.00")  # 52.00 - 20.00 + 48.50 + 18.00 + 10 × 3.85
    expected = scan_line(account_number="100234-01", amount=Decimal("137.00"))
    found = find_text(pdf, expected.strip())
    assert found, f"scan line {expected!r} not printed"
    assert LAYOUT.scan_line.holds(found.left, found.top) and found.bottom < LAYOUT.stub_height
    assert scan_line_read(expected) == ("10023401", Decimal("137.00"))
    assert scan_line_read(expected.replace("137", "187")) is None  # a misread fails its check digit

    lockbox = tmp_path / "lockbox.csv"
    lockbox.write_text(
        "account_number,amount,check_number,date,scan_line\n"
        f",137.00,5501,2026-07-15,{expected.strip()}\n"
        f",10.00,5502,2026-07-15,{expected.strip().replace('137', '187')}\n"
    )
    call_command("import_lockbox", str(lockbox))

    out = capsys.readouterr().out
    (payment,) = Payment.objects.filter(channel="lockbox")
    assert (payment.service_account, payment.amount, payment.check_number) == (
        account,
        Decimal("137.00"),
        "5501",
    )
    assert "does not read" in out  # the misread stub waits for a clerk


def test_the_bill_says_what_is_past_due_what_was_paid_and_what_went_to_the_tax_roll(landlord_bill):
    text = page_text(landlord_bill["pdf"])
    for expected in [
        "Past-due charges",
        "Bill for April 2026",
        "$52.00",
        "Last payment received",
        "$20.00 on 06/10/2026",
        "$60.00 of unpaid charges was certified to the Clackamas County tax roll",
        "1 unit × $48.50",
        "1 unit × $18.00; 10 CCF × $3.85",
        "Access code",
    ]:
        assert expected in text, expected
    assert "-$0.00" not in text
    assert "Bill for February 2025" not in text  # certified: never shown as owed to the utility


def test_the_bill_page_says_the_same(landlord_bill, client):
    from django.urls import reverse

    from accounts.tests.factories import AccountLinkFactory

    account, bill = landlord_bill["account"], landlord_bill["bill"]
    client.force_login(AccountLinkFactory(service_account=account).user)

    body = client.get(reverse("bill_detail", args=[account.pk, bill.pk])).content.decode()

    for expected in ["Past-due charges", "Bill for April 2026", "$20.00 on June 10, 2026", "1 unit × $48.50"]:
        assert expected in body, expected
    assert "certified to the Clackamas County tax roll" in body
    assert "-$0.00" not in body


def test_a_number_the_scan_line_cannot_carry_prints_none_and_the_bill_still_draws():
    from billing.scanline import scan_line as line

    assert line(account_number="01.2345.00", amount=Decimal("5")) == ""
    assert line(account_number="1234567890123-01", amount=Decimal("5")) == ""  # 15 characters
    assert scan_line_read(line(account_number="AB-1234", amount=Decimal("5.25"))) == (
        "AB1234",
        Decimal("5.25"),
    )


def test_a_lockbox_row_whose_number_and_scan_line_disagree_waits_for_a_clerk(landlord_bill, tmp_path, capsys):
    other = ServiceAccountFactory(account_number="100999-01")
    good = scan_line(account_number="100234-01", amount=Decimal("137.00")).strip()
    lockbox = tmp_path / "lockbox.csv"
    lockbox.write_text(
        "account_number,amount,check_number,date,scan_line\n"
        f"100999-01,137.00,6601,2026-07-15,{good}\n"  # a typo'd number, the stub says otherwise
        f"100777-01,137.00,6602,2026-07-15,{good}\n"  # a number nobody has: the stub finds it
    )

    call_command("import_lockbox", str(lockbox))

    out = capsys.readouterr().out
    assert "name different accounts" in out
    (payment,) = Payment.objects.filter(channel="lockbox")
    assert (payment.service_account, payment.check_number) == (landlord_bill["account"], "6602")
    assert not Payment.objects.filter(service_account=other).exists()


def test_the_bill_shows_the_ledger_as_it_stood_when_it_was_issued(landlord_bill):
    """A check dated before the bill but posted after it (a lockbox file a week later) is not
    folded into that bill's figures."""
    from billing.selectors import bill_statement

    bill = landlord_bill["bill"]
    before = bill_statement(bill=bill)
    post(landlord_bill["account"], "payment", "15.00", D(2026, 6, 28), description="Payment")

    assert bill_statement(bill=bill) == before


def test_a_withdrawn_certification_leaves_the_note(landlord_bill):
    from billing.models import LedgerEntry
    from billing.selectors import bill_statement
    from billing.services.ledger import ledger_reverse

    account = landlord_bill["account"]
    transfer = LedgerEntry.objects.get(service_account=account, kind="tax_roll_transfer")
    ledger_reverse(
        entry=transfer, posted_on=D(2026, 7, 10), source_key="test:withdrawn", description="Withdrawn"
    )
    MeterReadFactory(service_account=account, period=D(2026, 7, 1), consumption_ccf=Decimal("8"))
    bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)

    assert (
        bill_statement(bill=Bill.objects.get(service_account=account, period=D(2026, 7, 1))).certified_total
        == 0
    )
