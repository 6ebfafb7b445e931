"""In Chromium, axe-core on every page: a customer adds a mobile number, types back the code the
stand-in received, and turns the bill-ready text on."""

import pytest
from playwright.sync_api import expect

from accounts.models import NotificationPreference
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.texts import NUMBER, standin, texts_to
from kernel.testing.browser import assert_accessible, sign_in, tick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_confirms_a_number_and_turns_a_text_alert_on(page):
    standin("/_standin/reset", {})
    user = UserFactory()
    sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/dashboard/")
    page.goto("/login-settings/")
    page.get_by_role("link", name="Text messages").click()
    assert_accessible(page)

    page.get_by_label("Mobile number").fill("503 555 0100")
    page.get_by_role("button", name="Text me a code").click()
    expect(page.get_by_text("We texted a code to (503) 555-0100.").first).to_be_visible()
    assert_accessible(page)
    code = texts_to(NUMBER)[-1].split("code is ")[1][:6]
    page.get_by_label("The six-digit code we texted you").fill(code)
    page.get_by_role("button", name="Confirm my number").click()
    expect(page.get_by_text("Your mobile number is confirmed.")).to_be_visible()
    assert_accessible(page)

    tick(page, "My bill is ready")
    page.get_by_role("button", name="Save my text choices").click()
    expect(page.get_by_text("Your text choices are saved.")).to_be_visible()
    assert_accessible(page)
    assert NotificationPreference.objects.get(user=user, kind="bill_ready").text_enabled
