"""The back office in the browser, with axe-core on every staff page visited: a clerk finds an
account from the staff home, notes a call, asks for a credit above the limit; a supervisor
approves it from the queue and the account page shows it posted."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, STAFF_TOTP_KEY, ServiceAccountFactory, staff_user
from billing.models import Adjustment, BillingAccount
from billing.tests.factories import adjustment_reason, post
from kernel.testing.browser import assert_accessible, new_page, staff_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff_page(browser, live_server, role: str, email: str):
    staff_user(role, email=email)
    page = new_page(browser, live_server.url)
    staff_sign_in(page, email, PASSWORD, STAFF_TOTP_KEY, next_url="/staff/")
    assert_accessible(page)
    return page


def test_search_account_page_note_adjustment_and_a_supervisors_approval(browser, live_server):
    adjustment_reason("Leak credit")
    account = ServiceAccountFactory(account_number="300700-01", customer_name="Rosa Martinez")
    post(
        account,
        "charge",
        "240.00",
        dt.date(2026, 5, 1),
        dt.date(2026, 5, 20),
        description="Bill for April 2026",
    )

    clerk = staff_page(browser, live_server, "Clerks", "clerk@utility.example")
    expect(clerk.get_by_role("link", name="My accounts")).to_have_count(0)
    clerk.get_by_label("Find an account", exact=False).fill("30070001")
    clerk.get_by_role("button", name="Search").click()
    expect(clerk.get_by_role("heading", name="Account 300700-01: Rosa Martinez")).to_be_visible()
    expect(clerk.get_by_text("$240.00").first).to_be_visible()
    assert_accessible(clerk)

    clerk.get_by_label("Who we spoke with").fill("Rosa")
    clerk.get_by_label("What was said or promised").fill(
        "Leak under the house, fixed on 5/28; asks for a credit"
    )
    clerk.get_by_role("button", name="Save the note").click()
    expect(clerk.get_by_text("The note is saved.")).to_be_visible()
    assert_accessible(clerk)

    clerk.get_by_role("link", name="Post an adjustment").click()
    assert_accessible(clerk)
    clerk.get_by_label("Kind").select_option("credit")
    clerk.get_by_label("Amount, in dollars").fill("$150.00")
    clerk.get_by_label("Reason").select_option(label="Leak credit")
    clerk.get_by_label("Memo", exact=False).fill("Leak repaired 5/28, plumber's invoice on file")
    clerk.get_by_role("button", name="Post the adjustment").click()
    expect(clerk.get_by_text("waits for a supervisor's approval")).to_be_visible()
    assert_accessible(clerk)
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("240.00")

    supervisor = staff_page(browser, live_server, "Supervisors", "boss@utility.example")
    supervisor.get_by_role("link", name="Adjustments to approve").first.click()
    expect(supervisor.get_by_text("Leak repaired 5/28")).to_be_visible()
    assert_accessible(supervisor)
    supervisor.get_by_role("button", name="Approve and post").click()
    expect(supervisor.get_by_text("Approved and posted")).to_be_visible()
    assert_accessible(supervisor)

    assert Adjustment.objects.get().status == "posted"
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("90.00")
    clerk.reload()
    expect(clerk.get_by_role("cell", name="Posted", exact=True)).to_be_visible()
    expect(clerk.get_by_text("$90.00").first).to_be_visible()
