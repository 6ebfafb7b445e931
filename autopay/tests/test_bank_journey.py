"""A customer pays from a new bank account (a wrong routing number first) and watches it go through
the prenote, the NACHA file, settlement and a return; another schedules a card payment and sees it
made; a third adds a bank account in Login settings and pays autopay from it. axe-core on every
page."""

import datetime as dt

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory
from autopay.models import AutopayEnrollment, BankPayment
from autopay.services.bank import ach_returns_import, bank_payments_settle, nacha_export
from autopay.services.scheduled import scheduled_payments_run
from billing.tests.factories import post
from billing.tests.stripe_browser import VISA, saved_card
from kernel.testing.browser import assert_accessible, confirm_password, tick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = dt.date


@pytest.fixture
def signed_in(page, live_server, time_machine):
    """December 1, 2026; $120.00 due December 20; signed in on the account page."""
    time_machine.move_to(dt.datetime(2026, 12, 1, 18, tzinfo=dt.UTC), tick=True)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "120.00", D(2026, 11, 1), D(2026, 12, 20))
    page.goto("/auth/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")
    page.get_by_role("link", name=f"Account {account.account_number}", exact=True).click()
    return {"user": user, "account": account}


def test_pay_from_a_new_bank_account_through_to_a_return(page, signed_in, tmp_path):
    account = signed_in["account"]
    page.get_by_role("link", name="Pay from a bank account").click()
    expect(
        page.get_by_role("heading", name=f"Pay account {account.account_number} from a bank account")
    ).to_be_visible()
    assert_accessible(page)
    expect(page.get_by_text("its first payment is made on December 7, 2026 or later")).to_be_visible()

    page.get_by_label("Amount to pay, in dollars").fill("120.00")
    page.get_by_label("Name on the bank account").fill("Pat Doe")
    page.get_by_label("Routing number (9 digits)").fill("091000018")  # one digit wrong
    page.get_by_label("Account number", exact=True).fill("123456789")
    page.get_by_label("Account number again").fill("123456789")
    tick(page, "I have read and accept this authorization.")
    page.get_by_role("button", name="Authorize the payment").click()
    expect(page.get_by_text("That routing number is not valid")).to_be_visible()
    assert_accessible(page)
    assert not BankPayment.objects.exists()

    page.get_by_label("Routing number (9 digits)").fill("091000019")
    page.get_by_label("Account number", exact=True).fill("123456789")
    page.get_by_label("Account number again").fill("123456789")
    tick(page, "I have read and accept this authorization.")
    page.get_by_role("button", name="Authorize the payment").click()
    expect(page.get_by_role("heading", name="Bank payment authorized")).to_be_visible()
    expect(page.get_by_text("Checking account ending 6789")).to_be_visible()
    expect(page.get_by_text("December 7, 2026").first).to_be_visible()
    assert_accessible(page)
    confirmation = BankPayment.objects.get().payment.confirmation_number

    page.get_by_role("link", name="Back to the account").click()
    expect(page.get_by_text(f"credited on December 7, 2026 (confirmation {confirmation})")).to_be_visible()
    assert_accessible(page)

    # The bank's side: the prenote, the wait, the debit in its file, settlement.
    nacha_export(on=D(2026, 12, 2), path=tmp_path / "prenote.ach")
    bank_payments_settle(on=D(2026, 12, 7))
    built = nacha_export(on=D(2026, 12, 7), path=tmp_path / "debit.ach")
    assert [d.payment.confirmation_number for d in built.debits] == [confirmation]
    bank_payments_settle(on=D(2026, 12, 7))
    page.reload()
    expect(page.get_by_text("Bank payments on their way")).to_have_count(0)
    page.get_by_role("link", name="Pay from a bank account").click()
    expect(page.get_by_text("Nothing is due right now; a payment is kept as a credit")).to_be_visible()
    expect(
        page.get_by_text("From your Checking account ending 6789: debited on December 2, 2026.")
    ).to_be_visible()

    returns = tmp_path / "returns.csv"
    returns.write_text(
        f"trace_number,return_code,date\n{BankPayment.objects.get().trace_number},R01,2026-12-09\n"
    )
    ach_returns_import(path=returns)
    page.get_by_role("link", name=f"Account {account.account_number}").click()
    page.get_by_role("link", name="Pay from a bank account").click()
    expect(page.get_by_text("Amount due: $120.00")).to_be_visible()
    # R01 (insufficient funds) keeps the account: it is offered again.
    expect(page.get_by_label("Checking account ending 6789")).to_be_visible()
    assert_accessible(page)
    assert "returned the payment of $120.00" in mail.outbox[-1].body


def test_schedule_a_card_payment_and_see_it_made(page, signed_in):
    account = signed_in["account"]
    saved_card(signed_in["user"], VISA)
    page.get_by_role("link", name="Schedule a payment or see scheduled ones").click()
    expect(
        page.get_by_role("heading", name=f"Scheduled payments for account {account.account_number}")
    ).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Amount to pay, in dollars").fill("120.00")
    page.get_by_label("Date to pay").fill("2026-12-15")
    tick(page, "Visa ending 4242")
    tick(page, "I have read and accept this authorization.")
    page.get_by_role("button", name="Schedule the payment").click()
    expect(page.get_by_text("Your payment of $120.00 is scheduled for December 15, 2026.")).to_be_visible()
    expect(page.get_by_role("link", name="Cancel the payment of December 15, 2026")).to_be_visible()
    assert_accessible(page)

    assert scheduled_payments_run(on=D(2026, 12, 15)).paid == 1
    page.reload()
    expect(page.get_by_role("cell", name="Paid", exact=False)).to_be_visible()
    expect(page.get_by_role("link", name="Cancel the payment of December 15, 2026")).to_have_count(0)
    assert_accessible(page)


def test_add_a_bank_account_in_login_settings_and_pay_autopay_from_it(page, signed_in):
    account = signed_in["account"]
    page.get_by_role("link", name="Login settings").click()
    page.get_by_role("link", name="Saved cards and bank accounts").click()
    expect(page.get_by_role("heading", name="Saved cards and bank accounts")).to_be_visible()
    assert_accessible(page)
    # The password is asked before the numbers are typed, so nothing typed is lost.
    page.get_by_role("link", name="Confirm your password to add a bank account").click()
    confirm_password(page, PASSWORD)
    page.get_by_label("Name on the bank account").fill("Pat Doe")
    page.get_by_label("Routing number (9 digits)").fill("091000019")
    page.get_by_label("Account number", exact=True).fill("123456789")
    page.get_by_label("Account number again").fill("123456789")
    page.get_by_role("button", name="Add the bank account").click()
    expect(page.get_by_text("Your Checking account ending 6789 is added.")).to_be_visible()
    expect(page.get_by_role("button", name="Remove Checking account ending 6789")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="My accounts").click()
    page.get_by_role("link", name=f"Account {account.account_number}", exact=True).click()
    page.get_by_role("link", name="Set up or change automatic payments").click()
    tick(page, "Checking account ending 6789 (being checked with your bank)")
    page.get_by_label("Day of the month to charge").select_option("15")
    expect(page.get_by_text("If I chose a bank account: I authorize")).to_be_visible()
    tick(page, "I have read and accept these terms.")
    page.get_by_role("button", name="Set up autopay").click()
    expect(page.get_by_text("Autopay is set up: day 15")).to_be_visible()
    expect(page.get_by_text("Checking account ending 6789").first).to_be_visible()
    assert_accessible(page)
    enrollment = AutopayEnrollment.objects.get(status="active")
    assert enrollment.bank_account.account_last4 == "6789" and enrollment.card is None

    page.get_by_role("link", name=f"Account {account.account_number}").click()
    expect(page.get_by_text("we debit your Checking account ending 6789 on day 15")).to_be_visible()
    # While autopay uses it, the account cannot be removed: the page says what uses it.
    page.get_by_role("link", name="Login settings").click()
    page.get_by_role("link", name="Saved cards and bank accounts").click()
    expect(page.get_by_text(f"Used for: autopay for account {account.account_number}")).to_be_visible()
    expect(page.get_by_role("button", name="Remove Checking account ending 6789")).to_have_count(0)
    assert_accessible(page)
