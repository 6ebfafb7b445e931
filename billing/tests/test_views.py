import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from accounts.tests.factories import AccountLinkFactory, UserFactory
from billing.models import Bill, BillingAccount, Service
from billing.services.bills import bills_run
from billing.tests.factories import AccountServiceFactory, MeterReadFactory, RateScheduleFactory, post

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def billed(client, time_machine):
    """A signed-in customer with a water account billed for June 2026, and someone else's bill.

    Today is July 5, 2026: the June bill is not yet due; the April charge is past due.
    """
    time_machine.move_to(dt.datetime(2026, 7, 5, 12, tzinfo=dt.UTC), tick=False)
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    RateScheduleFactory(
        service=Service.WATER,
        effective_date=D(2025, 7, 1),
        monthly_charge_per_unit=Decimal("18.00"),
        charge_per_ccf=Decimal("3.85"),
    )
    user = UserFactory()
    mine = AccountLinkFactory(user=user).service_account
    theirs = AccountLinkFactory().service_account
    for account in (mine, theirs):
        AccountServiceFactory(service_account=account, service=Service.SEWER)
        AccountServiceFactory(service_account=account, service=Service.WATER)
        MeterReadFactory(service_account=account, period=D(2026, 6, 1), consumption_ccf=Decimal("9"))
    post(mine, "charge", "30.00", D(2026, 4, 1), D(2026, 4, 20), description="Opening balance")
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    client.force_login(user)
    return {
        "mine": mine,
        "theirs": theirs,
        "my_bill": Bill.objects.get(service_account=mine),
        "their_bill": Bill.objects.get(service_account=theirs),
    }


def test_account_page_shows_what_is_owed_and_what_is_past_due(client, billed):
    response = client.get(reverse("service_account_detail", args=[billed["mine"].pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "$131.15" in body  # 30.00 + 48.50 + 18.00 + 9 × 3.85
    assert "$30.00 is past due" in body
    assert "July 20, 2026" in body
    assert "Water use, last 13 months" in body
    assert "<svg" in body and "June 2026" in body  # the chart and its table


def test_bill_page_lists_the_lines_and_totals(client, billed):
    bill = billed["my_bill"]
    response = client.get(reverse("bill_detail", args=[billed["mine"].pk, bill.pk]))
    body = response.content.decode()
    assert "Sewer service, June 2026" in body
    assert "Water service, June 2026" in body
    assert "$52.65" in body  # water: 18.00 + 34.65
    assert "$131.15" in body


def test_bill_pdf_renders_and_holds_the_amounts(client, billed):
    bill = billed["my_bill"]
    response = client.get(reverse("bill_pdf", args=[billed["mine"].pk, bill.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in [
        billed["mine"].account_number,
        billed["mine"].service_address,
        "June 2026",
        "$131.15",
        "July 20, 2026",
        "$30.00",  # past due
        "PO Box 6940",  # the remit-to address, in the envelope's upper window
        "Amount enclosed",
        f"Access code {billed['mine'].access_code_display}",  # what linking asks for
    ]:
        assert expected in text, expected


def test_bill_pdf_is_drawn_once_and_then_served_from_the_stored_file(client, billed):
    from billing.pdf import bill_pdf_path

    bill = billed["my_bill"]
    url = reverse("bill_pdf", args=[billed["mine"].pk, bill.pk])
    first = client.get(url).content
    path = bill_pdf_path(bill=bill)
    assert path.read_bytes() == first
    # The stored file is what the customer gets from now on, whatever the template would draw.
    path.write_bytes(first + b"%stored")
    assert client.get(url).content == first + b"%stored"
    assert not list(path.parent.glob("*.part"))


def test_transactions_page_lists_the_ledger_newest_first(client, billed):
    response = client.get(reverse("transaction_list", args=[billed["mine"].pk]))
    body = response.content.decode()
    assert body.index("Bill for June 2026") < body.index("Opening balance")


@pytest.mark.parametrize("name", ["service_account_detail", "bill_list", "transaction_list"])
def test_another_customers_account_pages_are_not_found(client, billed, name):
    assert client.get(reverse(name, args=[billed["theirs"].pk])).status_code == 404


@pytest.mark.parametrize("name", ["bill_detail", "bill_pdf"])
def test_another_customers_bill_is_not_found_under_any_account(client, billed, name):
    their_bill = billed["their_bill"]
    assert client.get(reverse(name, args=[billed["theirs"].pk, their_bill.pk])).status_code == 404
    # Their bill id under my own account id is not found either.
    assert client.get(reverse(name, args=[billed["mine"].pk, their_bill.pk])).status_code == 404


def test_guest_is_sent_to_sign_in_for_a_bill_pdf(billed):
    from django.test import Client

    response = Client().get(reverse("bill_pdf", args=[billed["mine"].pk, billed["my_bill"].pk]))
    assert response.status_code == 302
    assert "/auth/login/" in response["Location"]


def test_paperless_choice_is_saved_per_account(client, billed):
    account = billed["mine"]
    client.post(reverse("paperless_update", args=[account.pk]), {"paperless": "on"})
    assert BillingAccount.objects.get(pk=account.pk).paperless is True
    client.post(reverse("paperless_update", args=[account.pk]), {})
    assert BillingAccount.objects.get(pk=account.pk).paperless is False
    assert (
        client.post(reverse("paperless_update", args=[billed["theirs"].pk]), {"paperless": "on"}).status_code
        == 404
    )
    assert BillingAccount.objects.get(pk=billed["theirs"].pk).paperless is False


def test_dashboard_uses_the_same_number_of_queries_however_long_the_history(
    client, billed, django_assert_max_num_queries
):
    url = reverse("dashboard")
    with django_assert_max_num_queries(8):
        client.get(url)
    for month in range(1, 13):
        post(billed["mine"], "payment", "1.00", D(2025, month, 5))
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert "$119.15" in response.content.decode()


def test_bill_page_and_account_page_use_a_fixed_number_of_queries(
    client, billed, django_assert_max_num_queries
):
    account, bill = billed["mine"], billed["my_bill"]
    urls = [
        reverse("bill_detail", args=[account.pk, bill.pk]),
        reverse("service_account_detail", args=[account.pk]),
    ]
    # Fixed whatever the history: each app's section adds a few (assistance: its plan and application),
    # and the high-use marks one.
    for url in urls:
        with django_assert_max_num_queries(18):
            client.get(url)
    for month in range(1, 13):
        post(account, "payment", "1.00", D(2025, month, 5))
        post(account, "charge", "1.00", D(2025, month, 1), D(2025, month, 20))
    for url in urls:
        with django_assert_max_num_queries(18):
            assert client.get(url).status_code == 200
