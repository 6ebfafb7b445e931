"""In Chromium, axe-core on every page: a customer sees a month of high use marked on the account
page and the bill, sets their alert threshold, finds the downloads, and opens pay by text."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory
from accounts.tests.texts import confirmed, standin
from billing.models import MeterRead, Service, UsageAlert, UsageAlertSetting
from billing.tests.factories import AccountServiceFactory, BillFactory
from billing.tests.stripe_browser import VISA, saved_card
from kernel.testing.browser import assert_accessible, sign_in, tick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = dt.date


def test_a_customer_sees_high_use_and_sets_the_alert(page):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    AccountServiceFactory(service_account=account, service=Service.WATER)
    today = dt.date.today().replace(day=1)
    for back in range(1, 13):
        month = (today - dt.timedelta(days=28 * back)).replace(day=1)
        MeterRead.objects.get_or_create(
            service_account=account, period=month, defaults={"consumption_ccf": Decimal("8")}
        )
    last = (today - dt.timedelta(days=1)).replace(day=1)
    MeterRead.objects.filter(service_account=account, period=last).update(consumption_ccf=Decimal("16"))
    UsageAlert.objects.create(
        service_account=account,
        kind="high_use",
        period=last,
        consumption_ccf=Decimal("16"),
        usual_ccf=Decimal("8"),
    )
    bill = BillFactory(
        service_account=account, period=last, issued_on=today, due_date=today + dt.timedelta(days=19)
    )

    sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/dashboard/")
    page.goto(f"/service-accounts/{account.pk}/")
    expect(page.get_by_text("High use", exact=True)).to_be_visible()
    assert_accessible(page)
    page.goto(f"/service-accounts/{account.pk}/bills/{bill.pk}/")
    expect(page.get_by_text("High water use this month: 16.00 CCF, 200% of your usual.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="What to check for leaks, and your alert settings").click()
    assert_accessible(page)
    page.get_by_label("Alert me at this percent of my usual use").fill("200")
    page.get_by_role("button", name="Save my alert settings").click()
    expect(page.get_by_text("Your water-use alert settings are saved.")).to_be_visible()
    expect(page.get_by_role("link", name="Green Button: Download My Data (XML)")).to_be_visible()
    assert_accessible(page)
    assert UsageAlertSetting.objects.get(service_account=account).percent == 200
    page.goto(f"/service-accounts/{account.pk}/pay-by-text/")
    expect(page.get_by_text("add and confirm a mobile number")).to_be_visible()
    assert_accessible(page)

    # With a confirmed number and a saved card: pay by text turned on.
    standin("/_standin/reset", {})
    confirmed(user)
    card = saved_card(user, VISA)
    page.reload()
    tick(page, str(card))
    tick(page, "I have read and accept this authorization.")
    page.get_by_role("button", name="Turn pay by text on").click()
    expect(page.get_by_text("Pay by text is on, with your Visa ending 4242.")).to_be_visible()
    assert_accessible(page)
