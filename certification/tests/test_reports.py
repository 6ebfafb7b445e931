"""The certification report, by year: the page's CSV and XLSX give each certified account."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, staff_user
from billing.tests.factories import post
from certification.services.sweep import certification_sweep
from kernel.testing.files import csv_rows

pytestmark = pytest.mark.django_db
D = dt.date


def test_the_certification_report_lists_the_years_certified_accounts(time_machine):
    time_machine.move_to(dt.datetime(2026, 6, 22, 18, tzinfo=dt.UTC), tick=False)
    link = AccountLinkFactory(service_account__account_number="600200-01", service_account__tax_lot="3S1E01")
    post(link.service_account, "charge", "300.00", D(2026, 2, 1), D(2026, 2, 20))
    certification_sweep(year=2026)
    finance = Client()
    finance.force_login(staff_user("Finance"))

    certified = csv_rows(
        finance.get(reverse("report_table", args=["certification"]), {"year": "2026", "format": "csv"})
    )
    assert (
        certified[1][:2] == ["3S1E01", "600200-01"]
        and certified[1][3] == "300.00"
        and certified[1][6] == "Certified"
    )
    xlsx = finance.get(reverse("report_table", args=["certification"]), {"year": "2026", "format": "xlsx"})
    assert xlsx["Content-Disposition"] == 'attachment; filename="certification-2026.xlsx"'
    bad = finance.get(reverse("report_table", args=["certification"]), {"year": "26", "format": "csv"})
    assert bad["Content-Type"].startswith("text/html") and "Enter a year like" in bad.content.decode()
