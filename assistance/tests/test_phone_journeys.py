"""On a 390-pixel-wide phone, axe-core on every page: a guest finds bill assistance, checks
eligibility with an amount typed as people type it, applies (a wrong file first, the others
kept), adds a person, and later adds the document a clerk asks for; a customer behind previews a
payment plan and asks for it."""

import datetime as dt

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.demo_logins import DEMO_LOGINS, DEMO_STAFF_TOTP_KEY
from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory
from assistance.models import AssistanceApplication, PaymentPlan
from billing.calendar import local_today
from billing.tests.factories import post
from kernel.testing.browser import assert_accessible, new_page, sign_in, staff_sign_in, tick
from kernel.testing.files import pdf_bytes, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_guest_finds_assistance_applies_from_a_phone_and_adds_a_document_later(
    phone_page, browser, live_server, tmp_path
):
    page = phone_page
    call_command("seed_demo", accounts=3)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    (tmp_path / "id.png").write_bytes(png_bytes())
    (tmp_path / "paystub.pdf").write_bytes(b"a photo saved with the wrong name")
    (tmp_path / "notice.pdf").write_bytes(pdf_bytes())
    (tmp_path / "stub.pdf").write_bytes(pdf_bytes())

    page.goto("/")
    assert_accessible(page)
    page.get_by_role("link", name="Bill assistance and payment plans").click()
    assert_accessible(page)
    page.get_by_role("link", name="Check if you are likely eligible").click()
    page.get_by_label("How many people live in your household?").fill("2")
    page.get_by_label("Gross monthly household income, in dollars").fill("$2,100.00")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="You are likely eligible")).to_be_visible()
    expect(page.get_by_text("A photo ID.")).to_be_visible()  # what the application will ask for
    assert_accessible(page)

    page.get_by_role("link", name="Sign in to apply").click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Apply for bill assistance")).to_be_visible()
    assert_accessible(page)
    expect(page.locator("#id_members-1-name")).to_have_count(0)  # one person row to start
    page.locator("#id_members-0-name").fill("Lee Tran")
    page.locator("#id_members-0-relationship").fill("self")
    page.get_by_role("button", name="Add a person").click()
    page.locator("#id_members-1-name").fill("Kim Tran")
    page.locator("#id_members-1-relationship").fill("child")
    expect(page.get_by_text("Household size: 2 people")).to_be_visible()
    page.locator("#id_incomes-0-kind").select_option("wages")
    page.locator("#id_incomes-0-monthly_amount").fill("2,100")
    page.get_by_label("Phone number for the assessment call").fill("503-555-0100")
    page.locator("#id_photo_id").set_input_files(str(tmp_path / "id.png"))
    page.locator("#id_income_proof").set_input_files(str(tmp_path / "paystub.pdf"))
    page.locator("#id_late_notice").set_input_files(str(tmp_path / "notice.pdf"))
    tick(
        page,
        "I attest that the people listed are everyone who lives in my household, and that the income is true "
        "and complete.",
    )
    page.get_by_label("Type your full name to sign").fill("Lee Tran")
    page.get_by_role("button", name="Submit my application").click()

    expect(page.get_by_text("paystub.pdf is not a PDF, JPEG or PNG file that can be opened.")).to_be_visible()
    expect(page.get_by_text("Attached: Photo ID, id.png")).to_be_visible()
    expect(page.get_by_text("Attached: Late notice or door hanger, notice.pdf")).to_be_visible()
    expect(page.locator("#id_members-1-name")).to_have_value("Kim Tran")
    assert_accessible(page)
    page.locator("#id_income_proof").set_input_files(str(tmp_path / "stub.pdf"))
    page.get_by_role("button", name="Submit my application").click()
    expect(page.get_by_role("heading", name="Your bill assistance application")).to_be_visible()
    expect(page.get_by_text("the credit would be $50.00")).to_be_visible()
    expect(page.get_by_text("A decision typically takes 21 days")).to_be_visible()
    assert_accessible(page)
    application = AssistanceApplication.objects.get(service_account=account)
    assert application.household_size == 2
    assert sorted(application.documents.values_list("original_name", flat=True)) == [
        "id.png",
        "notice.pdf",
        "stub.pdf",
    ]

    clerk = new_page(browser, live_server.url)
    _, clerk_email, clerk_password = DEMO_LOGINS[1]
    staff_sign_in(clerk, clerk_email, clerk_password, DEMO_STAFF_TOTP_KEY)
    clerk.goto(f"/admin/assistance/assistanceapplication/{application.pk}/change/")
    expect(clerk.get_by_text("deleted 1095 days after the decision")).to_be_visible()
    assert_accessible(clerk)
    clerk.get_by_role("link", name="Ask for documents…").click()
    assert_accessible(clerk)
    clerk.get_by_label("What the customer should send").fill("Kim's school enrollment letter.")
    clerk.get_by_role("button", name="Ask the applicant").click()
    expect(clerk.get_by_text("The applicant was emailed what to send.")).to_be_visible()
    expect(
        clerk.get_by_text("Kim's school enrollment letter.", exact=True)
    ).to_be_visible()  # the request, on record
    clerk.context.close()

    page.reload()
    expect(page.get_by_role("heading", name="We need another document")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("What is it?").select_option("income_proof")
    page.locator("#id_file").set_input_files(str(tmp_path / "notice.pdf"))
    page.get_by_role("button", name="Add the document").click()
    expect(page.get_by_text("Thank you: the document is added and the clerk is told.")).to_be_visible()
    assert_accessible(page)
    assert application.documents.count() == 4


def test_a_customer_behind_previews_a_plan_on_a_phone_then_asks_for_it(phone_page):
    page = phone_page
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    today = local_today()
    post(account, "charge", "150.00", today - dt.timedelta(days=40), today - dt.timedelta(days=12))

    sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/dashboard/")
    expect(page.get_by_role("link", name="Bill assistance and payment plans")).to_be_visible()
    assert_accessible(page)
    page.goto(f"/service-accounts/{account.pk}/")
    expect(page.get_by_role("heading", name="Help with paying")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="ask for a payment plan").click()
    page.get_by_label("Number of monthly installments").select_option("3")
    page.get_by_role("button", name="Show the installments").click()
    expect(page.get_by_role("heading", name="Before you ask")).to_be_visible()
    expect(page.get_by_text("$50.00").first).to_be_visible()
    assert_accessible(page)
    assert not PaymentPlan.objects.exists()  # seen, not yet asked

    page.get_by_role("button", name="Ask for this plan: 3 installments").click()
    expect(page.get_by_role("heading", name="Your request is being reviewed")).to_be_visible()
    assert_accessible(page)
    assert PaymentPlan.objects.get().status == "requested"
    page.goto(f"/service-accounts/{account.pk}/")
    expect(page.get_by_text("Pending", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="ask for a payment plan")).to_have_count(0)
    assert_accessible(page)
