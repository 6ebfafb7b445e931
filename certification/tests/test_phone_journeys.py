"""On a 390-pixel-wide phone, axe-core on every page: a customer disputes a certified charge with
a document."""

import datetime as dt

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory
from billing.calendar import local_today
from billing.tests.factories import post
from certification.models import Dispute
from certification.services.sweep import certification_sweep
from kernel.testing.browser import assert_accessible, sign_in
from kernel.testing.files import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_disputes_a_certified_charge_with_a_document_on_a_phone(phone_page, tmp_path):
    page = phone_page
    call_command("seed_demo", accounts=3)  # the clerks and finance who are told
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    year = local_today().year
    post(account, "charge", "40.00", dt.date(year, 2, 1), dt.date(year, 2, 20))
    post(account, "charge", "30.00", dt.date(year, 3, 1), dt.date(year, 3, 20))
    certification_sweep(year=year, today=dt.date(year, 6, 21))
    (tmp_path / "receipt.png").write_bytes(png_bytes())

    sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/dashboard/")
    page.goto(f"/service-accounts/{account.pk}/")
    assert_accessible(page)
    page.get_by_role("link", name=f"Dispute the {year} certification").click()
    expect(page.get_by_role("heading", name="The certified charges, by month")).to_be_visible()
    assert_accessible(page)
    page.locator("label", has_text="$30.00").click()  # USWDS draws the box on the label
    expect(page.get_by_role("checkbox", name="$30.00")).to_be_checked()
    page.get_by_label("What do you believe is wrong?").fill(
        "I paid March in your lobby; the receipt is attached."
    )
    page.locator("#id_document").set_input_files(str(tmp_path / "receipt.png"))
    page.get_by_role("button", name="Send my dispute").click()
    expect(page.get_by_text("Your dispute is sent")).to_be_visible()
    expect(page.get_by_text("Being investigated since")).to_be_visible()
    assert_accessible(page)

    dispute = Dispute.objects.get()
    assert [item.amount for item in dispute.items.all()] == [30] and dispute.documents.count() == 1
    page.get_by_role("link", name="Being investigated since").click()
    expect(page.get_by_role("heading", name="Your dispute is being investigated")).to_be_visible()
    expect(page.get_by_role("button", name="Send my dispute")).to_have_count(0)
    assert_accessible(page)
