import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.tests.factories import ServiceAccountFactory
from billing.models import BillingAccount, Service
from billing.services.bills import bills_run
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory, post

pytestmark = pytest.mark.django_db
D = dt.date


def test_bill_file_has_the_promised_columns_sorted_by_account_number(tmp_path):
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.5")
    )
    second = ServiceAccountFactory(account_number="200000-01")
    first = ServiceAccountFactory(account_number="100000-01")
    for account in (second, first):
        AccountServiceFactory(service_account=account, service=Service.SEWER)
    post(first, "charge", "10.00", D(2026, 5, 1), D(2026, 5, 20))
    post(first, "payment", "4.00", D(2026, 6, 10))
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    BillingAccount.objects.filter(pk=second.pk).update(paperless=True)
    output = tmp_path / "bills.csv"

    call_command("export_bills", "--period", "2026-06", "--output", str(output))

    # Python's csv module conventions: CRLF line ends, quoted only where needed.
    assert output.read_bytes() == (
        b"account_number,period,due_date,previous_balance,payments_and_credits,new_charges,total_due\r\n"
        b"100000-01,2026-06,2026-07-20,10.00,4.00,48.50,54.50\r\n"
        b"200000-01,2026-06,2026-07-20,0.00,0.00,48.50,48.50\r\n"
    )
    call_command("export_bills", "--period", "2026-06", "--output", str(output), "--exclude-paperless")
    assert "200000-01" not in output.read_text()


def test_a_bill_file_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(tmp_path):
    import csv

    from billing.tests.factories import BillFactory

    BillFactory(service_account=ServiceAccountFactory(account_number="=1+2"), new_charges=Decimal("-5.00"))
    output = tmp_path / "bills.csv"

    call_command("export_bills", "--period", "2026-06", "--output", str(output))

    (row,) = list(csv.reader(output.read_text().splitlines()))[1:]
    assert row[0] == "'=1+2"
    assert row[5:] == ["-5.00", "-5.00"]  # a credit stays a number


def test_with_mailing_the_bill_file_says_where_each_bill_goes(tmp_path):
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.5")
    )
    owner = ServiceAccountFactory(
        account_number="100000-01",
        customer_name="Lee Wu",
        service_address="14 Elm St",
        service_city="Oregon City",
    )
    rented = ServiceAccountFactory(
        account_number="100001-01",
        customer_name="Pat Doe",
        mailing_name="Acme Rentals, c/o Pat Doe",
        mailing_address="PO Box 77",
        mailing_city="Portland",
        mailing_state="OR",
        mailing_zip="97208-0077",
    )
    for account in (owner, rented):
        AccountServiceFactory(service_account=account, service=Service.SEWER)
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    output = tmp_path / "bills.csv"

    call_command("export_bills", "--period", "2026-06", "--output", str(output), "--mailing")

    assert output.read_text().splitlines() == [
        "account_number,period,due_date,previous_balance,payments_and_credits,new_charges,total_due,"
        "mail_name,mail_address,mail_city,mail_state,mail_zip",
        "100000-01,2026-06,2026-07-20,0.00,0.00,48.50,48.50,Lee Wu,14 Elm St,Oregon City,OR,97045",
        '100001-01,2026-06,2026-07-20,0.00,0.00,48.50,48.50,"Acme Rentals, c/o Pat Doe",PO Box 77,Portland,OR,97208-0077',
    ]
