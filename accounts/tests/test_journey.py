"""A new customer's first visit, in Chromium: sign up, verify, sign in, link, see the dashboard."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD as FACTORY_PASSWORD
from accounts.tests.factories import ServiceAccountFactory, UserFactory
from kernel.testing.browser import assert_accessible, current_totp_code, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "River-Otter-2026!"


def test_new_customer_signs_up_verifies_links_an_account_and_sees_it(page, live_server, settings):
    settings.PORTAL_BASE_URL = live_server.url  # the emailed link points at the portal's address
    account = ServiceAccountFactory(
        account_number="100555-01", customer_name="Rosa Martinez", service_zip="97045"
    )

    page.goto("/")
    assert_accessible(page)
    page.get_by_role("link", name="Create a login").first.click()
    assert_accessible(page)

    # A weak password first: the page names the rule that failed.
    page.get_by_label("Email").fill("rosa@example.com")
    page.get_by_label("Password", exact=True).fill("weakpassword")
    page.get_by_label("Password (again)").fill("weakpassword")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_text("at least one upper-case letter")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/auth/confirm-email/")
    assert_accessible(page)

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/auth/confirm-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    assert_accessible(page)
    page.get_by_role("button", name="Confirm").click()

    # Verified, but not yet signed in: the login page follows.
    page.wait_for_url("**/auth/login/")
    expect(page.get_by_text("You have confirmed")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email").fill("rosa@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")
    expect(page.get_by_text("No accounts linked yet")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Link an account").last.click()
    assert_accessible(page)
    page.get_by_label("Account number").fill("100555-01")
    page.get_by_label("Service ZIP code").fill("97222")
    page.get_by_label("Access code").fill(account.access_code_display.lower())
    page.get_by_role("button", name="Link account").click()
    expect(page.get_by_text("do not match our records")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Service ZIP code").fill("97045")
    page.get_by_role("button", name="Link account").click()
    page.wait_for_url("**/dashboard/")
    expect(page.get_by_role("link", name="Account 100555-01", exact=True)).to_be_visible()
    expect(page.get_by_text("Rosa Martinez")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Account 100555-01", exact=True).click()
    page.wait_for_url(f"**/service-accounts/{account.pk}/")
    assert_accessible(page)


def test_pages_work_on_a_phone_sized_screen(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto("/auth/login/")
    # The navigation folds behind a Menu button on a narrow screen.
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    menu.click()
    expect(page.get_by_role("link", name="Create a login")).to_be_visible()
    assert_accessible(page)
    context.close()


def test_accessibility_check_fails_on_an_unlabelled_field(page):
    page.set_content("<html lang='en'><body><main><h1>Form</h1><input type='text'></main></body></html>")
    with pytest.raises(AssertionError, match="label"):
        assert_accessible(page)


def test_customer_turns_on_two_step_verification_and_then_needs_the_code(page, live_server):
    user = UserFactory()
    sign_in(page, user.email, FACTORY_PASSWORD)
    page.wait_for_url("**/dashboard/")

    page.get_by_role("link", name="Login settings").click()
    assert_accessible(page)
    for name in ["Email addresses", "Change your password"]:
        page.get_by_role("link", name=name).click()
        assert_accessible(page)
        page.go_back()

    page.get_by_role("link", name="Two-step verification").click()
    assert_accessible(page)
    page.get_by_role("link", name="Activate").first.click()
    # Changing two-step settings asks for the password again.
    page.wait_for_url("**/auth/reauthenticate/**")
    assert_accessible(page)
    page.get_by_label("Password").fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/auth/2fa/totp/activate/")
    assert_accessible(page)
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(current_totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    assert_accessible(page)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, user.email, FACTORY_PASSWORD)
    page.wait_for_url("**/auth/2fa/authenticate/")
    assert_accessible(page)
    page.get_by_label("Code").fill(current_totp_code(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")
