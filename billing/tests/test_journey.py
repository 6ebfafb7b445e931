"""The demo customer checks a bill in Chromium and downloads its PDF; axe-core on every page."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.demo_logins import DEMO_LOGINS
from billing.models import Bill
from kernel.testing.browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_opens_a_bill_and_downloads_its_pdf(page, live_server):
    call_command("seed_demo", accounts=6)
    _, email, password = DEMO_LOGINS[0]
    latest = Bill.objects.filter(service_account__account_number="100000-01").order_by("-period").first()

    page.goto("/auth/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")
    expect(page.get_by_role("link", name="Account 100001-01", exact=True)).to_be_visible()
    expect(page.get_by_text("Past due").first).to_be_visible()  # the second demo account is behind
    assert_accessible(page)

    page.get_by_role("link", name="Account 100000-01", exact=True).click()
    expect(page.get_by_role("heading", name="What you owe")).to_be_visible()
    expect(page.get_by_role("heading", name="Water use, last 13 months")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="All bills").click()
    expect(page.get_by_role("heading", name="Bills for account 100000-01")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=f"{latest.period:%B %Y}", exact=True).click()
    expect(page.get_by_role("heading", name=f"{latest.period:%B %Y} bill")).to_be_visible()
    expect(page.get_by_text(f"${latest.total_due:,.2f}").first).to_be_visible()
    assert_accessible(page)

    href = page.get_by_role("link", name="Download the bill (PDF)").get_attribute("href")
    response = page.context.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    page.goto(f"/service-accounts/{latest.service_account_id}/transactions/")
    expect(page.get_by_role("heading", name="Payments and charges")).to_be_visible()
    assert_accessible(page)
