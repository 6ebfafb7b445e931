"""The assistance credits report, by program year: the page's CSV gives each approved
application's account and what was waived."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, staff_user
from assistance.services.applications import application_approve
from assistance.tests.factories import submit
from billing.tests.factories import post
from kernel.testing.files import csv_rows

pytestmark = pytest.mark.django_db
D = dt.date


def test_assistance_credits_list_each_approved_application_of_the_program_year(time_machine):
    time_machine.move_to(dt.datetime(2026, 6, 22, 18, tzinfo=dt.UTC), tick=False)
    clerk = staff_user("Clerks")
    other = AccountLinkFactory(service_account__account_number="600201-01")
    post(other.service_account, "charge", "80.00", D(2026, 6, 1), D(2026, 6, 20))
    post(other.service_account, "late_fee", "5.00", D(2026, 6, 21), D(2026, 7, 10))
    application_approve(
        application=submit(other.user, other.service_account), by=clerk, documents_verified=True
    )
    finance = Client()
    finance.force_login(staff_user("Finance"))

    credits = csv_rows(
        finance.get(reverse("report_table", args=["assistance-credits"]), {"year": "2026", "format": "csv"})
    )
    (row,) = credits[1:]
    assert row[1] == "600201-01" and row[5] == "5.00" and Decimal(row[4]) > 0
    assert (
        csv_rows(
            finance.get(
                reverse("report_table", args=["assistance-credits"]), {"year": "2025", "format": "csv"}
            )
        )[1:]
        == []
    )
