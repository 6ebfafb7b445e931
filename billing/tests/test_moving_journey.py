"""A customer moving within the service area asks from the portal; a clerk opens the new account,
closes the old one with its final bill and moves the credit; the customer sees it done. axe-core
on every page, the customer's and the clerk's."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import ServiceAccount
from accounts.tests.factories import PASSWORD, STAFF_TOTP_KEY, AccountLinkFactory, staff_user
from billing.calendar import local_today
from billing.models import Bill, Service, ServiceRequest
from billing.selectors import account_balance
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory, post
from kernel.testing.browser import assert_accessible, new_page, sign_in, staff_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_move_asked_online_and_worked_by_a_clerk(page, browser, live_server):
    today = local_today()
    RateScheduleFactory(
        service=Service.SEWER, effective_date=dt.date(2020, 1, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    link = AccountLinkFactory(
        service_account__customer_name="Rosa Martinez", service_account__service_address="12 Elm St"
    )
    old = link.service_account
    AccountServiceFactory(service_account=old, service=Service.SEWER, units=Decimal("1"))
    post(old, "payment", "200.00", today)  # paid ahead: a credit to move

    sign_in(page, link.user.email, PASSWORD)
    page.wait_for_url("**/dashboard/")
    page.get_by_role("link", name="Start, stop or move service").click()
    assert_accessible(page)
    page.get_by_role("link", name="Move service").click()
    assert_accessible(page)
    page.get_by_role("button", name="Send the request").click()  # nothing filled in
    expect(page.get_by_text("Please correct the", exact=False)).to_be_visible()
    assert_accessible(page)
    assert not ServiceRequest.objects.exists()
    page.get_by_label("Last day of service").fill(today.isoformat())
    page.get_by_label("Address where service starts (street)").fill("5 Cedar Ct")
    page.get_by_label("City").fill("Oregon City")
    page.get_by_label("ZIP code").fill("97045")
    page.get_by_label("First day of service").fill(today.isoformat())
    page.get_by_label("Name for the account").fill("Rosa Martinez")
    page.get_by_label("Phone").fill("503-555-0101")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("We received your request.")).to_be_visible()
    expect(page.get_by_role("cell", name="Received")).to_be_visible()
    assert_accessible(page)

    clerk = new_page(browser, live_server.url)
    staff_user("Clerks", email="clerk@utility.example")
    staff_sign_in(clerk, "clerk@utility.example", PASSWORD, STAFF_TOTP_KEY, next_url="/staff/")
    clerk.get_by_role("link", name="Start, stop and move requests").click()
    assert_accessible(clerk)
    clerk.get_by_role("link", name="Move to another address we serve", exact=False).click()
    assert_accessible(clerk)
    clerk.get_by_role("button", name="Open account at 5 Cedar Ct").click()  # no tax lot yet
    expect(clerk.get_by_text("This field is required.")).to_be_visible()
    assert_accessible(clerk)
    clerk.get_by_label("Tax lot of the new address").fill("3S1E04")
    clerk.get_by_role("button", name="Open account at 5 Cedar Ct").click()
    expect(clerk.get_by_text("is open from", exact=False)).to_be_visible()
    assert_accessible(clerk)
    clerk.get_by_role("button", name="Close account", exact=False).click()
    expect(clerk.get_by_text("is closed; the final bill is", exact=False)).to_be_visible()
    assert_accessible(clerk)
    clerk.get_by_role("button", name="Move to account", exact=False).click()
    expect(clerk.get_by_text("Moved:", exact=False)).to_be_visible()
    assert_accessible(clerk)

    request = ServiceRequest.objects.get()
    new = ServiceAccount.objects.get(pk=request.new_account_id)
    assert request.status == "done" and new.service_starts_on == today
    assert Bill.objects.get(service_account=old).stopped_on == today
    assert account_balance(service_account=old) == 0 and account_balance(service_account=new) < 0

    page.reload()
    expect(page.get_by_role("cell", name="Done")).to_be_visible()
    page.get_by_role("link", name="Final bill").click()
    expect(page.get_by_text("Final bill: service stopped on", exact=False)).to_be_visible()
    assert_accessible(page)
    page.goto("/dashboard/")
    expect(page.get_by_role("link", name=f"Account {new.account_number}")).to_be_visible()
