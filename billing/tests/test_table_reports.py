"""The list reports finance reads: adjustments and write-offs, refunds and returns; the page, CSV
and XLSX give the same rows (assistance's and certification's reports are tested in their apps)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ServiceAccountFactory, staff_user
from billing.models import Payment
from billing.services.adjustments import adjustment_request
from billing.services.ledger import ledger_reverse
from billing.services.refunds import payment_return_check
from billing.tests.factories import adjustment_reason, paid, post
from kernel.testing.files import csv_rows

pytestmark = pytest.mark.django_db
D = dt.date


def test_adjustments_and_refunds_and_returns_list_each_with_totals(time_machine):
    time_machine.move_to(dt.datetime(2026, 7, 10, 18, tzinfo=dt.UTC), tick=False)
    account = ServiceAccountFactory(account_number="600100-01")
    post(account, "charge", "300.00", D(2026, 6, 1), D(2026, 6, 20))
    clerk = staff_user("Clerks")
    adjustment_request(
        service_account=account,
        kind="credit",
        amount=Decimal("40.00"),
        reason=adjustment_reason(),
        memo="Leak",
        by=clerk,
    )
    adjustment_request(
        service_account=account,
        kind="write_off",
        amount=Decimal("20.00"),
        reason=adjustment_reason("Bad debt write-off"),
        memo="Estate",
        by=clerk,
    )
    check = paid(account, Payment.Channel.MAIL, Payment.Method.CHECK, "30.00", D(2026, 7, 1))
    payment_return_check(payment=check, returned_on=D(2026, 7, 3))
    card = paid(account, Payment.Channel.ONLINE, Payment.Method.CARD, "50.00", D(2026, 7, 2))
    ledger_reverse(
        entry=card.ledger_entry, posted_on=D(2026, 7, 4), source_key="refund:t", description="Refund"
    )
    finance = Client()
    finance.force_login(staff_user("Finance"))
    span = {"start": "2026-07-01", "end": "2026-07-31"}

    adjustments = csv_rows(
        finance.get(reverse("report_table", args=["adjustments"]), {**span, "format": "csv"})
    )
    assert adjustments[0][:5] == ["posted_on", "account_number", "kind", "reason", "amount"]
    assert sorted((r[2], r[4]) for r in adjustments[1:]) == [
        ("Credit (lowers what is owed)", "-40.00"),
        ("Write-off (bad debt)", "-20.00"),
    ]
    returns = csv_rows(
        finance.get(reverse("report_table", args=["refunds-and-returns"]), {**span, "format": "csv"})
    )
    assert [(r[2], r[4]) for r in returns[1:]] == [("Returned check", "30.00"), ("Card refund", "50.00")]
    page = finance.get(reverse("report_table", args=["refunds-and-returns"]), span).content.decode()
    assert "$80.00" in page  # the total
    june = csv_rows(
        finance.get(
            reverse("report_table", args=["adjustments"]),
            {"start": "2026-06-01", "end": "2026-06-30", "format": "csv"},
        )
    )
    assert june == [adjustments[0]]  # nothing posted in June
    assert finance.get(reverse("report_table", args=["no-such-report"])).status_code == 404


def test_the_finance_home_shows_receivables_by_age_receipts_autopay_and_certified_totals(time_machine):
    from billing.reports import aging_report

    time_machine.move_to(dt.datetime(2026, 7, 10, 18, tzinfo=dt.UTC), tick=False)
    account = ServiceAccountFactory()
    post(account, "charge", "200.00", D(2026, 3, 1), D(2026, 3, 20))
    post(account, "charge", "90.00", D(2026, 6, 1), D(2026, 6, 20))
    paid(account, Payment.Channel.ONLINE, Payment.Method.CARD, "25.00", D(2026, 7, 2))
    finance = Client()
    finance.force_login(staff_user("Finance"))

    page = finance.get(reverse("finance_home")).content.decode()

    assert "Receivables today</dt><dd>$265.00" in page
    assert "Received this month</dt><dd>$25.00" in page
    may = aging_report(as_of=D(2026, 5, 31))
    assert '<th scope="row">05/31/2026</th>' in page and f"${may.total:,.2f}" in page
    assert "Autopay enrollment" in page and "Certified to the tax roll, by year" in page
    assert page.count('class="portal-chart"') == 2
    assert Client().get(reverse("finance_home")).status_code == 302  # staff only


def test_the_payments_list_filters_by_date_and_shows_the_total_of_what_it_lists():
    account = ServiceAccountFactory()
    paid(account, Payment.Channel.ONLINE, Payment.Method.CARD, "25.00", D(2026, 7, 2))
    paid(account, Payment.Channel.MAIL, Payment.Method.CHECK, "40.00", D(2026, 7, 3))
    paid(account, Payment.Channel.LOBBY, Payment.Method.CASH, "10.00", D(2026, 8, 1))
    finance = Client()
    finance.force_login(staff_user("Finance"))
    url = reverse("admin:billing_payment_changelist")

    july = finance.get(
        url, {"received_on__gte": "2026-07-01", "received_on__lt": "2026-08-01"}
    ).content.decode()
    everything = finance.get(url).content.decode()

    assert "2 payments listed, $65.00 in all." in july
    assert "3 payments listed, $75.00 in all." in everything
