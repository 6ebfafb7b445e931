"""Finance in the browser, axe-core on every page: the aging report read and downloaded, then the
certification sweep run dry from the browser, its list read, and confirmed."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, STAFF_TOTP_KEY, AccountLinkFactory, staff_user
from billing.tests.factories import post
from certification.models import Certification
from kernel.testing.browser import assert_accessible, new_page, staff_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_downloads_the_aging_report_and_runs_the_sweep_dry_then_for_real(
    browser, live_server, tmp_path
):
    account = AccountLinkFactory(service_account__account_number="400100-01").service_account
    post(account, "charge", "250.00", dt.date(2026, 2, 1), dt.date(2026, 2, 20))
    post(account, "payment", "40.00", dt.date(2026, 3, 1))
    staff_user("Finance", email="finance@utility.example")
    page = new_page(browser, live_server.url)
    staff_sign_in(page, "finance@utility.example", PASSWORD, STAFF_TOTP_KEY, next_url="/staff/")
    assert_accessible(page)

    page.get_by_role("link", name="Report: accounts receivable aging").click()
    page.get_by_label("As of", exact=False).fill("2026-06-30")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Accounts receivable aging as of 06/30/2026")).to_be_visible()
    expect(page.get_by_role("cell", name="$210.00").first).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / "aging.csv"
    download.value.save_as(saved)
    assert saved.read_text().splitlines()[1] == "400100-01,0.00,0.00,0.00,0.00,210.00,210.00"

    page.goto("/staff/")
    page.get_by_role("link", name="Runs and files", exact=False).click()
    assert_accessible(page)
    page.get_by_role("link", name="Certification sweep").click()
    assert_accessible(page)
    page.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Start").click()  # a dry run: the box starts ticked
    expect(page.get_by_text("1 account(s) would be certified, delinquent $210.00")).to_be_visible()
    expect(page.get_by_text("400100-01", exact=False).first).to_be_visible()
    assert_accessible(page)
    assert not Certification.objects.exists()
    page.get_by_role("button", name="Confirm: certify for real").click()
    expect(page.get_by_text("1 account(s) certified", exact=False)).to_be_visible()
    assert_accessible(page)
    assert Certification.objects.get().delinquent_amount == Decimal("210.00")
