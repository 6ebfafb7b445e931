"""Paying a bill in Chromium with localstripe's Stripe.js card form; axe-core on every page."""

import datetime as dt
import logging
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory
from billing.models import BillingAccount, Payment
from billing.tests.factories import post
from billing.tests.stripe_browser import fill_card
from kernel.testing.browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_pays_part_of_a_bill_by_card_and_sees_the_balance_drop(page, live_server):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "88.40", dt.date(2026, 5, 1), dt.date(2026, 5, 20))

    page.goto("/auth/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")
    page.get_by_role("link", name=f"Account {account.account_number}", exact=True).click()
    expect(page.get_by_text("$88.40").first).to_be_visible()
    page.get_by_role("link", name="Pay now").click()
    expect(page.get_by_role("heading", name=f"Pay account {account.account_number}")).to_be_visible()
    assert_accessible(page)

    # First a card the bank declines: the reason is shown and another card can be tried.
    page.get_by_label("Amount to pay, in dollars").fill("40.00")
    fill_card(page, "4000000000000341")
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_role("alert")).to_contain_text("declined")
    assert_accessible(page)

    fill_card(page, "4242424242424242")
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url("**/receipt/")
    expect(page.get_by_role("heading", name="Thank you. Your payment is complete.")).to_be_visible()
    expect(page.get_by_text("Visa ending in 4242")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=f"Back to account {account.account_number}").click()
    expect(page.get_by_text("$48.40").first).to_be_visible()
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("48.40")
    assert Payment.objects.filter(status="succeeded").count() == 1
    assert Payment.objects.filter(status="failed").count() == 1


CARD = "4242424242424242"


def test_no_card_number_or_security_code_reaches_the_portal_its_database_or_its_logs(
    page, live_server, caplog
):
    """The customer pays on the portal's own page, saving the card; then every request the page
    sent to the portal, every text column and every log line is searched for the card's digits."""
    from django.db import connection

    caplog.set_level(logging.DEBUG)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "30.00", dt.date(2026, 5, 1), dt.date(2026, 5, 20))
    sent_to_portal = []
    page.on(
        "request",
        lambda request: (
            sent_to_portal.append(f"{request.url} {request.post_data or ''}")
            if request.url.startswith(live_server.url)
            else None
        ),
    )
    page.goto("/auth/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")
    page.goto(f"/service-accounts/{account.pk}/pay/")
    page.get_by_label("Amount to pay, in dollars").fill("10.00")
    fill_card(page, CARD)
    page.get_by_text("Save this card for later payments and autopay").click()  # USWDS styles the label
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url("**/receipt/")
    expect(page.get_by_text("Visa ending in 4242")).to_be_visible()
    assert_accessible(page)
    assert Payment.objects.get(status="succeeded").save_card

    assert any("/pay/" in line for line in sent_to_portal)  # the page did talk to the portal
    for line in sent_to_portal:
        assert CARD not in line and "cvc" not in line.lower(), line
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s OR "{column}"::text LIKE %s',  # noqa: S608
                [f"%{CARD}%", "%cvc%123%"],
            )
            assert cursor.fetchone()[0] == 0, f"{table}.{column} holds card data"
    assert caplog.text  # the run was logged (the test would pass vacuously otherwise)
    assert CARD not in caplog.text


def test_three_d_secure_dialog_then_receipt(page, live_server):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "25.00", dt.date(2026, 5, 1), dt.date(2026, 5, 20))
    page.goto("/auth/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")

    page.goto(f"/service-accounts/{account.pk}/pay/")
    fill_card(page, "4000002500003155")
    page.get_by_role("button", name="Pay now").click()
    # localstripe's stand-in for the bank's 3-D Secure page: once, when the card is confirmed.
    # The charge that follows is not checked again.
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url("**/receipt/")
    assert Payment.objects.get().status == "succeeded"
    expect(page.get_by_role("heading", name="Thank you. Your payment is complete.")).to_be_visible()
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("0.00")


def test_customer_pays_with_a_saved_card_and_the_bank_checks_once(page, live_server):
    from billing.tests.stripe_browser import saved_card

    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "60.00", dt.date(2026, 5, 1), dt.date(2026, 5, 20))
    saved_card(user, "4242424242424242")
    checked = saved_card(user, "4000002760003184")  # a card whose bank checks every payment
    page.goto("/auth/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")

    page.goto(f"/service-accounts/{account.pk}/pay/")
    expect(page.locator("#card-element")).to_be_hidden()  # a saved card is chosen: no card field
    assert_accessible(page)
    page.get_by_label("Amount to pay, in dollars").fill("25.00")
    page.get_by_text(f"Visa ending 3184 (expires {checked.exp_month}/{checked.exp_year})").click()
    page.get_by_role("button", name="Pay now").click()
    page.get_by_role("button", name="Complete authentication").click()  # the one check
    page.wait_for_url("**/receipt/")
    expect(page.get_by_text("Visa ending in 3184")).to_be_visible()
    assert_accessible(page)

    page.goto(f"/service-accounts/{account.pk}/pay/")
    page.get_by_label("Amount to pay, in dollars").fill("35.00")
    page.get_by_text("Visa ending 4242").click()
    page.get_by_role("button", name="Pay now").click()  # one step: no card to type
    page.wait_for_url("**/receipt/")
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("0.00")
    assert list(Payment.objects.order_by("pk").values_list("status", "card_last4")) == [
        ("succeeded", "3184"),
        ("succeeded", "4242"),
    ]
