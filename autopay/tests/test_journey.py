"""A customer sets up autopay with a new card, replaces the card, and cancels; axe-core on every page."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory
from autopay.models import AutopayEnrollment
from billing.models import SavedCard
from billing.tests.stripe_browser import fill_card
from kernel.testing.browser import assert_accessible, confirm_password

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_enrol_replace_the_card_and_cancel(page, live_server):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    page.goto("/auth/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")
    page.get_by_role("link", name=f"Account {account.account_number}", exact=True).click()
    page.get_by_role("link", name="Set up or change automatic payments").click()
    # Seeing autopay asks for nothing more; adding a card asks for the password again.
    expect(page.get_by_role("heading", name=f"Autopay for account {account.account_number}")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Confirm your password to add a new card").click()
    confirm_password(page, PASSWORD)
    expect(page.get_by_role("heading", name=f"Autopay for account {account.account_number}")).to_be_visible()

    fill_card(page, "4242424242424242")
    page.get_by_label("Day of the month to charge").select_option("25")
    page.get_by_text("I have read and accept these terms.").click()
    page.get_by_role("button", name="Set up autopay").click()
    expect(page.get_by_text("Autopay is set up: day 25")).to_be_visible()
    expect(page.get_by_text("Visa ending 4242").first).to_be_visible()
    assert_accessible(page)
    first = AutopayEnrollment.objects.get(status="active")
    assert first.authorization.user == user and first.authorization.ip_address == "127.0.0.1"

    # The day and the card change without cancelling: a new card, and the 5th.
    page.get_by_text("A new card").click()
    fill_card(page, "4242424242424242")  # the same number: a new expiry and code
    page.get_by_label("Day of the month to charge").select_option("5")
    page.get_by_text("I have read and accept these terms.").click()
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_text("Autopay is changed. The next charge is on")).to_be_visible()
    assert_accessible(page)
    enrollment = AutopayEnrollment.objects.get(status="active")
    assert enrollment.pk == first.pk and enrollment.draft_day == 5
    assert enrollment.card != first.card
    assert SavedCard.objects.get(pk=first.card.pk).removed_at is None  # kept for one-time payments

    page.get_by_text("Yes, stop autopay: I will pay my bills myself.").click()
    page.get_by_role("button", name="Cancel autopay").click()
    expect(page.get_by_text("Autopay is cancelled")).to_be_visible()
    expect(page.get_by_role("button", name="Set up autopay")).to_be_visible()
    assert_accessible(page)
    assert [m.subject for m in mail.outbox] == [
        "Autopay is set up",
        "Your autopay was changed",
        "Autopay is cancelled",
    ]
