"""Letters a utility can mail: to the mailing address in the envelope window, every unpaid
charge listed, the amount and the date to pay by, what happens if unpaid, the offers, a return
stub; one PDF per run sorted by ZIP code behind a cover sheet."""

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.models import User
from accounts.tests.factories import AccountLinkFactory, ServiceAccountFactory, UserFactory
from billing.layout import LAYOUT
from billing.scanline import scan_line
from billing.tests.factories import post
from certification.models import Notice
from certification.services.collections import collections_run
from certification.services.notices import notices_past_due, notices_precertification
from kernel.testing.pdf_pages import find_text, page_count, page_png, page_text

pytestmark = pytest.mark.django_db
D = dt.date


def owing(number, zip_code="97045", months=(4, 5), **fields):
    account = ServiceAccountFactory(account_number=number, service_zip=zip_code, **fields)
    for month in months:
        name = D(2026, month, 1).strftime("%B")
        post(
            account,
            "charge",
            "48.50",
            D(2026, month + 1, 1),
            D(2026, month + 1, 20),
            description=f"Bill for {name} 2026",
        )
    return account


def test_past_due_letters_go_to_the_mailing_address_sorted_by_zip_behind_a_cover_sheet(settings):
    settings.PORTAL_BASE_URL = "https://pay.example-utility.org"
    owing("500001-01", zip_code="97222")
    owing(
        "500002-01",
        mailing_name="Acme Rentals",
        mailing_address="PO Box 77",
        mailing_city="Portland",
        mailing_state="OR",
        mailing_zip="97208-0077",
    )
    owing("500003-01", zip_code="97045")

    run = notices_past_due(as_of=D(2026, 7, 25))

    pdf = Path(run.batch_file).read_bytes()
    if os.environ.get("PORTAL_PNG_DIR"):
        Path(os.environ["PORTAL_PNG_DIR"], "letter.png").write_bytes(page_png(pdf, page=1))
    cover = page_text(pdf, page=0)
    assert "Past-due notice" in cover and "Letters in this batch\r\n3" in cover and "white" in cover
    # Sorted for the mail: 97045, 97208-0077 (the landlord's mailing ZIP), 97222.
    firsts = [page_text(pdf, page=n) for n in range(1, page_count(pdf))]
    order = [
        number
        for text in firsts
        for number in ("500003-01", "500002-01", "500001-01")
        if f"account {number}" in text
    ]
    assert order == ["500003-01", "500002-01", "500001-01"]

    landlord = next(n for n in range(1, page_count(pdf)) if "account 500002-01" in page_text(pdf, page=n))
    for line in ["Acme Rentals", "PO Box 77", "Portland, OR 97208-0077"]:
        found = find_text(pdf, line, page=landlord)
        assert found and LAYOUT.mailing_window.holds(found.left, found.top), line
        assert LAYOUT.mailing_window.holds(found.right, found.bottom), line
    text = page_text(pdf, page=landlord)
    for expected in [
        "Bill for April 2026",
        "May 20, 2026",
        "Bill for May 2026",
        "June 20, 2026",
        "$97.00",
        "Please pay $97.00 by August 8, 2026.",  # 14 days after the letter
        "certified to the",
        "payment plans and bill assistance",
        "https://pay.example-utility.org",
        "Service address",
        "OR 97045",
    ]:
        assert expected in text, expected
    assert "127.0.0.1" not in text
    stub = scan_line(account_number="500002-01", amount=Decimal("97.00")).strip()
    found = find_text(pdf, stub, page=landlord)
    assert found and found.bottom < LAYOUT.stub_height


def test_a_letter_is_in_the_language_of_the_login_on_the_account():
    account = owing("500011-01", months=(1, 2))
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(language="es")
    AccountLinkFactory(user=user, service_account=account)

    run = notices_precertification(year=2026, today=D(2026, 4, 25))

    text = page_text(Path(run.batch_file).read_bytes(), page=1)
    assert "Cargos sin pagar" in text and "Por favor, pague" in text
    assert "Factura de enero de 2026" in text and "Bill for" not in text
    assert "junio" in text.lower()


def test_late_notices_and_door_hangers_name_their_paper_and_the_door_hanger_hides_the_access_code(settings):
    settings.COLLECTION_PATH = "shutoff"
    settings.COLLECTIONS_START_DATE = D(2026, 1, 1)
    late_payer = owing("500021-01", months=(6,))  # due July 20: late
    long_late = owing(  # due May 20 and June 20: a door hanger (and no late notice the same day)
        "500022-01",
        mailing_name="Acme Rentals",
        mailing_address="PO Box 77",
        mailing_city="Portland",
        mailing_state="OR",
        mailing_zip="97208-0077",
    )

    result = collections_run(as_of=D(2026, 7, 25))

    assert result.door_hangers == 1
    folder = Path(settings.NOTICES_ROOT)
    late = (folder / "late-2026-07-25.pdf").read_bytes()
    hanger = (folder / "door-hangers-2026-07-25.pdf").read_bytes()
    assert "gold" in page_text(late, page=0) and "Letters in this batch\r\n1" in page_text(late, page=0)
    assert "green" in page_text(hanger, page=0)
    late_text, hanger_text = page_text(late, page=1), page_text(hanger, page=1)
    assert (
        "account 500021-01" in late_text and "Late fee" in late_text and "Amount to pay $53.50" in late_text
    )
    assert "August 18, 2026" in late_text  # the day before its door hanger would come (July 20 + 30)
    # The door hanger: two bills, their late fees and its own fee, for the people at the door.
    assert "account 500022-01" in hanger_text and "Amount to pay $137.00" in hanger_text
    assert "turned off on or after August 4, 2026" in hanger_text
    assert late_payer.access_code_display in late_text
    assert long_late.access_code_display not in hanger_text
    assert "PO Box 77" not in hanger_text  # hung at the service address, not mailed to the landlord
    assert long_late.service_address in hanger_text


def test_a_second_run_the_next_day_sends_no_letter_again(settings):
    settings.COLLECTION_PATH = "shutoff"
    settings.COLLECTIONS_START_DATE = D(2026, 1, 1)
    owing("500031-01", months=(6,))

    first = collections_run(as_of=D(2026, 7, 25))
    second = collections_run(as_of=D(2026, 7, 26))

    assert (first.late_fees, second.late_fees) == (1, 0)
    assert Notice.objects.filter(kind=Notice.Kind.LATE).count() == 1
    assert not (Path(settings.NOTICES_ROOT) / "late-2026-07-26.pdf").exists()
