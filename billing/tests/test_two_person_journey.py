"""Two people for money, in the browser, with axe-core on every staff page visited: a clerk keys
a mail batch and cannot post it, a second clerk posts it; finance asks for a refund above the
limit and a supervisor approves it from the queue."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, STAFF_TOTP_KEY, ServiceAccountFactory, staff_user
from billing.models import BillingAccount, PaymentBatch, Refund
from billing.tests.factories import post
from billing.tests.stripe_browser import card_payment
from kernel.testing.browser import assert_accessible, new_page, staff_sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_staff(browser, live_server, role: str, email: str):
    staff_user(role, email=email)
    page = new_page(browser, live_server.url)
    staff_sign_in(page, email, PASSWORD, STAFF_TOTP_KEY)
    assert_accessible(page)
    return page


def test_a_clerk_keys_a_batch_and_another_posts_it(browser, live_server):
    account = ServiceAccountFactory(account_number="300500-01")
    post(account, "charge", "100.00", dt.date(2026, 5, 1), dt.date(2026, 5, 20))
    keyer = signed_in_staff(browser, live_server, "Clerks", "keyer@utility.example")

    keyer.goto("/admin/billing/paymentbatch/add/")
    assert_accessible(keyer)
    keyer.get_by_label("Kind").select_option("mail")
    keyer.get_by_label("Deposit date").fill("2026-06-03")
    keyer.get_by_label("Control count").fill("1")
    keyer.get_by_label("Control total").fill("40.00")
    keyer.get_by_role("combobox", name="Service account, row 1").click()  # search as you type
    keyer.locator(".select2-search__field").fill("300500")
    keyer.get_by_role("option", name=re.compile("300500-01")).click()
    keyer.locator("#id_payments-0-amount").fill("40.00")
    keyer.locator("#id_payments-0-check_number").fill("5001")
    keyer.get_by_role("button", name="Save and continue editing").click()
    expect(keyer.get_by_text("was added successfully")).to_be_visible()
    assert_accessible(keyer)
    expect(keyer.locator("input[name=control_total]")).to_have_count(0)  # fixed once opened
    batch = PaymentBatch.objects.get()

    keyer.get_by_role("link", name="Post…").click()
    expect(keyer.get_by_text("You keyed this batch, so someone else must post it")).to_be_visible()
    expect(keyer.get_by_role("button", name="Post the batch")).to_have_count(0)  # said before, not after
    assert_accessible(keyer)

    poster = signed_in_staff(browser, live_server, "Clerks", "poster@utility.example")
    poster.goto(f"/admin/billing/paymentbatch/{batch.pk}/post/")
    expect(poster.get_by_text("Control: 1 payment(s) totalling $40.00.")).to_be_visible()
    expect(poster.get_by_text("keyed by keyer@utility.example")).to_be_visible()
    assert_accessible(poster)
    poster.get_by_role("button", name="Post the batch").click()
    expect(poster.get_by_text(re.compile(r"Mail batch 2026-06-03 .*: posted\."))).to_be_visible()
    assert_accessible(poster)
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("60.00")


def test_finance_asks_for_a_large_refund_and_a_supervisor_approves_it_from_the_queue(browser, live_server):
    payment = card_payment("400.00")
    finance = signed_in_staff(browser, live_server, "Finance", "finance@utility.example")

    finance.goto(f"/admin/billing/payment/{payment.pk}/change/")
    assert_accessible(finance)
    finance.get_by_role("link", name="Refund", exact=True).click()
    assert_accessible(finance)
    finance.get_by_label("Amount").fill("300.00")
    finance.get_by_label("Reason").fill("Paid twice")
    finance.get_by_role("button", name="Confirm").click()
    expect(
        finance.get_by_text("come to $300.00, more than $250.00: it waits for a supervisor's approval")
    ).to_be_visible()
    assert_accessible(finance)
    refund = Refund.objects.get(payment=payment)
    assert refund.status == "awaiting_approval"

    supervisor = signed_in_staff(browser, live_server, "Supervisors", "supervisor@utility.example")
    supervisor.goto("/admin/billing/refund/")
    expect(supervisor.get_by_text("1 refund(s) wait for approval")).to_be_visible()
    assert_accessible(supervisor)
    supervisor.get_by_role("link", name="see them").click()
    supervisor.get_by_role("link", name=re.compile(payment.confirmation_number)).click()
    assert_accessible(supervisor)
    supervisor.get_by_role("link", name="Approve…").click()
    expect(supervisor.get_by_text("Asked for by finance@utility.example")).to_be_visible()
    assert_accessible(supervisor)
    supervisor.get_by_role("button", name="Approve and refund").click()
    expect(supervisor.get_by_text(re.compile(r"Approved: .* refunded\."))).to_be_visible()
    assert_accessible(supervisor)
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.reviewed_by.email == "supervisor@utility.example"
