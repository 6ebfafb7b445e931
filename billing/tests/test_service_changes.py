"""Opening an account with a number the portal assigns, and closing one with a final bill for
the days served."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import ServiceAccount
from accounts.tests.factories import AccountLinkFactory, ServiceAccountFactory, staff_user
from billing.models import AccountService, Bill, BillingAccount, Service
from billing.services.bills import bills_run
from billing.services.service_changes import service_account_close, service_account_open
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory, post
from kernel.errors import ApplicationError
from kernel.models import AuditEvent

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def rates():
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    RateScheduleFactory(
        service=Service.WATER,
        effective_date=D(2025, 7, 1),
        monthly_charge_per_unit=Decimal("18.00"),
        charge_per_ccf=Decimal("3.85"),
    )


def test_an_opened_account_gets_the_next_number_and_its_services():
    ServiceAccountFactory(account_number="100199-01")
    clerk = staff_user("Clerks")

    account = service_account_open(
        by=clerk,
        customer_name="Rosa Martinez",
        service_address="12 Elm St",
        service_city="Oregon City",
        service_state="or",
        service_zip="97045",
        tax_lot="2S2E01",
        sewer_units=Decimal("1"),
        water=True,
    )

    assert account.account_number == "100200-01" and account.service_state == "OR"
    assert set(AccountService.objects.filter(service_account=account).values_list("service", flat=True)) == {
        "sewer",
        "water",
    }
    assert AuditEvent.objects.filter(action="account.open", account_number="100200-01").exists()
    with pytest.raises(ApplicationError, match="at least one service"):
        service_account_open(
            by=clerk,
            customer_name="X",
            service_address="1 A St",
            service_city="C",
            service_state="OR",
            service_zip="97045",
            tax_lot="T",
        )
    with pytest.raises(ApplicationError, match="cannot open"):
        service_account_open(
            by=staff_user("Finance"),
            customer_name="X",
            service_address="1 A St",
            service_city="C",
            service_state="OR",
            service_zip="97045",
            tax_lot="T",
            water=True,
        )


def test_the_final_bill_prorates_the_last_month_adds_the_final_read_and_closes_the_account(
    rates, time_machine
):
    time_machine.move_to(dt.datetime(2026, 8, 12, 18, tzinfo=dt.UTC), tick=False)
    account = ServiceAccountFactory(account_number="300800-01", email="rosa@example.com")
    AccountServiceFactory(service_account=account, service=Service.SEWER)
    AccountServiceFactory(service_account=account, service=Service.WATER)
    from billing.tests.factories import MeterReadFactory

    MeterReadFactory(service_account=account, period=D(2026, 6, 1), consumption_ccf=Decimal("9"))
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)  # June billed; July not yet
    post(account, "payment", "101.15", D(2026, 7, 15))  # the June bill, paid
    clerk = staff_user("Clerks")

    with pytest.raises(ApplicationError, match="final meter read"):
        service_account_close(service_account=account, stop_on=D(2026, 8, 10), by=clerk)
    bill = service_account_close(
        service_account=account,
        stop_on=D(2026, 8, 10),
        final_read=Decimal("14"),
        by=clerk,
        forwarding={
            "mailing_name": "Rosa Martinez",
            "mailing_address": "PO Box 5",
            "mailing_city": "Salem",
            "mailing_state": "OR",
            "mailing_zip": "97301",
        },
    )

    # July in full (48.50 + 18.00), August 1-10 of 31 days (15.65 + 5.81) and 14 CCF × 3.85 (53.90).
    lines = [(line.description, line.amount) for line in bill.lines.order_by("position")]
    assert lines == [
        ("Sewer service, July 2026", Decimal("48.50")),
        ("Water service, July 2026", Decimal("18.00")),
        ("Sewer service, August 1-10, 2026 (10 of 31 days)", Decimal("15.65")),
        ("Water service, August 1-10, 2026 (10 of 31 days)", Decimal("59.71")),
    ]
    assert bill.new_charges == Decimal("141.86") and bill.total_due == Decimal("141.86")  # June was paid
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("141.86")
    account.refresh_from_db()
    assert account.status == "closed" and account.mail_to[1] == "PO Box 5"
    assert "final bill" in mail.outbox[-1].subject.lower() and "$141.86" in mail.outbox[-1].body
    assert AuditEvent.objects.filter(action="account.close", account_number="300800-01").exists()
    # Closed accounts are not billed again, and a second close is refused.
    assert bills_run(period=D(2026, 8, 1), issued_on=D(2026, 9, 1), notify=False).created == 0
    with pytest.raises(ApplicationError, match="closed already"):
        service_account_close(
            service_account=account, stop_on=D(2026, 8, 10), final_read=Decimal("1"), by=clerk
        )


def test_a_stop_date_inside_a_billed_month_or_in_the_future_is_refused(rates, time_machine):
    time_machine.move_to(dt.datetime(2026, 7, 12, 18, tzinfo=dt.UTC), tick=False)
    account = AccountServiceFactory(service=Service.SEWER).service_account
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    clerk = staff_user("Clerks")
    with pytest.raises(ApplicationError, match="billed through 06/30/2026"):
        service_account_close(service_account=account, stop_on=D(2026, 6, 15), by=clerk)
    with pytest.raises(ApplicationError, match="in the future"):
        service_account_close(service_account=account, stop_on=D(2026, 7, 20), by=clerk)
    assert not Bill.objects.filter(service_account=account, period=D(2026, 7, 1)).exists()


def test_the_staff_pages_open_and_close_accounts(rates, time_machine):
    time_machine.move_to(dt.datetime(2026, 7, 12, 18, tzinfo=dt.UTC), tick=False)
    client = Client()
    client.force_login(staff_user("Clerks"))
    bad = client.post(reverse("staff_account_open"), {"customer_name": "Lee", "service_zip": "9704"})
    assert bad.status_code == 200 and "Enter 5 digits" in bad.content.decode()
    response = client.post(
        reverse("staff_account_open"),
        {
            "customer_name": "Lee Wu",
            "service_address": "14 Oak",
            "service_city": "Gladstone",
            "service_state": "OR",
            "service_zip": "97027",
            "tax_lot": "T1",
            "sewer_units": "1",
            "service_starts_on": "2026-07-01",
        },
    )
    account = ServiceAccount.objects.get(customer_name="Lee Wu")
    assert response["Location"] == reverse("staff_account", args=[account.pk])
    # The same form posted twice (a double click) opens one account and shows it.
    form = {
        "customer_name": "Kim Ho",
        "service_address": "15 Oak",
        "service_city": "Gladstone",
        "service_state": "OR",
        "service_zip": "97027",
        "tax_lot": "T2",
        "sewer_units": "1",
        "service_starts_on": "2026-07-01",
        "token": "0b6a4c1e-8f3d-4d2a-9c7e-5a1b2c3d4e5f",
    }
    first = client.post(reverse("staff_account_open"), form)
    second = client.post(reverse("staff_account_open"), form)
    assert ServiceAccount.objects.filter(customer_name="Kim Ho").count() == 1
    assert first["Location"] == second["Location"]
    AccountLinkFactory(service_account=account)

    half = client.post(
        reverse("staff_account_close", args=[account.pk]),
        {"stop_on": "2026-07-10", "forwarding_address": "PO Box 9"},
    )
    assert "needs the street, city, state and ZIP code" in half.content.decode()
    client.post(reverse("staff_account_close", args=[account.pk]), {"stop_on": "2026-07-10"})
    account.refresh_from_db()
    assert account.status == "closed"
    assert Bill.objects.get(service_account=account).new_charges == Decimal("15.65")  # 10 of 31 days of 48.50


def test_a_bill_run_chunk_never_bills_an_account_closed_after_the_run_listed_it(rates, time_machine):
    from billing.services.bills import bills_run_chunk

    time_machine.move_to(dt.datetime(2026, 8, 12, 18, tzinfo=dt.UTC), tick=False)
    account = AccountServiceFactory(service=Service.SEWER).service_account
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    service_account_close(service_account=account, stop_on=D(2026, 8, 2), by=staff_user("Clerks"))

    result = bills_run_chunk(
        account_ids=[account.pk], period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False
    )

    assert result.created == 0
    assert not Bill.objects.filter(service_account=account, period=D(2026, 7, 1)).exists()
