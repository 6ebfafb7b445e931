"""Apply with documents, a clerk approves in admin, the customer sees the credit; axe-core on
every customer page."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.demo_logins import DEMO_LOGINS, DEMO_STAFF_TOTP_KEY
from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory
from assistance.models import AssistanceApplication
from kernel.testing.browser import assert_accessible, new_page, sign_in, staff_sign_in
from kernel.testing.files import pdf_bytes, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_apply_clerk_approves_customer_sees_the_credit(page, browser, live_server, tmp_path):
    call_command("seed_demo", accounts=3)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    (tmp_path / "id.png").write_bytes(png_bytes())
    (tmp_path / "paystub.pdf").write_bytes(pdf_bytes())

    sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/dashboard/")
    page.get_by_role("link", name="Bill assistance").click()
    assert_accessible(page)
    page.get_by_role("link", name="Check if you are likely eligible").click()
    page.get_by_label("How many people live in your household?").fill("2")
    page.get_by_label("Gross monthly household income, in dollars").fill("2100")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="You are likely eligible")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Apply now").click()
    assert_accessible(page)
    page.locator("#id_members-0-name").fill("Lee Tran")
    page.locator("#id_members-0-relationship").fill("self")
    page.get_by_role("button", name="Add a person").click()
    page.locator("#id_members-1-name").fill("Kim Tran")
    page.locator("#id_members-1-relationship").fill("child")
    page.locator("#id_incomes-0-kind").select_option("wages")
    page.locator("#id_incomes-0-monthly_amount").fill("2100.00")
    page.get_by_label("Phone number for the assessment call").fill("503-555-0100")
    page.locator("#id_photo_id").set_input_files(str(tmp_path / "id.png"))
    page.locator("#id_income_proof").set_input_files(str(tmp_path / "paystub.pdf"))
    page.locator("label[for=id_attest]").click()  # USWDS draws the box on the label
    page.get_by_label("Type your full name to sign").fill("Lee Tran")
    page.get_by_role("button", name="Submit my application").click()
    expect(page.get_by_role("heading", name="Your bill assistance application")).to_be_visible()
    expect(page.get_by_text("Submitted", exact=True)).to_be_visible()
    assert_accessible(page)
    application = AssistanceApplication.objects.get(service_account=account)
    assert application.household_size == 2

    clerk = new_page(browser, live_server.url)
    _, clerk_email, clerk_password = DEMO_LOGINS[1]
    staff_sign_in(clerk, clerk_email, clerk_password, DEMO_STAFF_TOTP_KEY)
    assert_accessible(clerk)
    clerk.goto("/admin/assistance/assistanceapplication/?status__exact=submitted")
    assert_accessible(clerk)
    clerk.goto(f"/admin/assistance/assistanceapplication/{application.pk}/change/")
    clerk.get_by_role("link", name="Decide…").click()
    expect(clerk.get_by_text("the credit is $50.00")).to_be_visible()  # the case, read before deciding
    assert_accessible(clerk)
    clerk.get_by_label("I verified the photo ID and proof of income", exact=False).check()
    clerk.get_by_role("button", name="Approve the application").click()
    expect(clerk.get_by_text(f"Application {application.pk} approved.")).to_be_visible()
    assert_accessible(clerk)

    page.reload()
    expect(page.get_by_text("Approved: a credit of $50.00")).to_be_visible()
    assert_accessible(page)
    page.goto(f"/service-accounts/{account.pk}/transactions/")
    expect(page.get_by_text("Utility Assistance Program credit")).to_be_visible()
    assert_accessible(page)
