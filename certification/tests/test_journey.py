"""The customer sees the certified charges and the timeline; finance downloads the export in
admin; axe-core on the customer pages."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.demo_logins import DEMO_LOGINS, DEMO_STAFF_TOTP_KEY
from certification.models import Certification
from certification.services.exports import certification_csv
from kernel.testing.browser import assert_accessible, new_page, sign_in, staff_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_sees_certified_charges_and_finance_downloads_the_list(page, browser, live_server):
    call_command("seed_demo", accounts=20)
    certification = Certification.objects.get(service_account__account_number="100001-01")

    _, email, password = DEMO_LOGINS[0]
    sign_in(page, email, password)
    page.wait_for_url("**/dashboard/")
    page.get_by_role("link", name="Account 100001-01", exact=True).click()
    expect(page.get_by_role("heading", name="Charges certified to the tax roll")).to_be_visible()
    expect(page.get_by_text(f"${certification.total_certified:,.2f}")).to_be_visible()
    expect(
        page.get_by_role("heading", name="What happens if the past-due amount stays unpaid")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=f"Dispute the {certification.year} certification").click()
    expect(
        page.get_by_role("heading", name=f"Dispute the {certification.year} certified charges")
    ).to_be_visible()
    assert_accessible(page)

    finance = new_page(browser, live_server.url, accept_downloads=True)
    _, finance_email, finance_password = DEMO_LOGINS[2]
    staff_sign_in(finance, finance_email, finance_password, DEMO_STAFF_TOTP_KEY)
    assert_accessible(finance)
    finance.goto("/admin/certification/certification/")
    assert_accessible(finance)
    with finance.expect_download() as download:
        finance.get_by_role("link", name=f"Download {certification.year} for the tax collector (CSV)").click()
    assert download.value.path().read_bytes() == certification_csv(year=certification.year)
