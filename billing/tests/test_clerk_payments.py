"""Payments clerks post: batches with a control total, returned checks, lockbox files, phone
payments, refunds by finance; and invoices paid online."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import ServiceAccountFactory, staff_user
from billing.models import Invoice, LedgerEntry, Payment, PaymentBatch, Refund
from billing.services.batches import payment_batch_post
from billing.services.refunds import payment_return_check
from billing.tests import stripe_browser
from billing.tests.factories import balance, post
from kernel.errors import ApplicationError
from kernel.models import AuditEvent

D = dt.date


def owing(amount="100.00", **kwargs):
    account = ServiceAccountFactory(**kwargs)
    post(account, "charge", amount, D(2026, 5, 1), D(2026, 5, 20))
    return account


def batch_with(*amounts, control_total, control_count, accounts=None):
    batch = PaymentBatch.objects.create(
        kind="mail",
        deposit_date=D(2026, 6, 3),
        control_total=Decimal(control_total),
        control_count=control_count,
    )
    accounts = accounts or [owing() for _ in amounts]
    for account, amount in zip(accounts, amounts, strict=True):
        Payment.objects.create(
            service_account=account,
            amount=Decimal(amount),
            channel="mail",
            method="check",
            check_number="1001",
            received_on=D(2026, 6, 3),
            batch=batch,
        )
    return batch, accounts


@pytest.mark.django_db
def test_a_batch_that_does_not_add_up_posts_nothing():
    batch, accounts = batch_with("40.00", "25.00", control_total="70.00", control_count=2)

    with pytest.raises(ApplicationError, match=r"2 payment\(s\) entered totalling \$65.00"):
        payment_batch_post(batch=batch, user=staff_user("Clerks"))

    assert [balance(a) for a in accounts] == [Decimal("100.00"), Decimal("100.00")]
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    batch.refresh_from_db()
    assert batch.status == "open"


@pytest.mark.django_db
def test_a_batch_that_adds_up_posts_every_payment_once():
    batch, accounts = batch_with("40.00", "25.00", control_total="65.00", control_count=2)

    payment_batch_post(batch=batch, user=staff_user("Clerks"))

    assert [balance(a) for a in accounts] == [Decimal("60.00"), Decimal("75.00")]
    with pytest.raises(ApplicationError, match="posted already"):
        payment_batch_post(batch=batch, user=staff_user("Clerks"))
    assert LedgerEntry.objects.filter(kind="payment").count() == 2


@pytest.mark.django_db
def test_clerk_posts_a_batch_from_admin(client):
    call_command("seed_demo", accounts=2)
    clerk = User.objects.get(email="clerk@example.com")
    client.force_login(clerk)
    batch, accounts = batch_with("40.00", control_total="40.00", control_count=1)

    response = client.post(
        reverse("admin:billing_paymentbatch_changelist"),
        {"action": "post_batches", "_selected_action": [batch.pk]},
        follow=True,
    )

    assert "posted." in response.content.decode()
    assert balance(accounts[0]) == Decimal("60.00")
    (event,) = AuditEvent.objects.filter(action="batch.post")
    assert (event.actor, event.object_id) == (clerk, str(batch.pk))
    assert event.changes == {"status": ["open", "posted"], "count": 1, "total": "40.00"}


@pytest.mark.django_db
def test_returned_check_is_reversed_with_a_fee():
    batch, (account,) = batch_with("40.00", control_total="40.00", control_count=1)
    payment_batch_post(batch=batch, user=staff_user("Clerks"))
    payment = Payment.objects.get(batch=batch)

    payment_return_check(payment=payment, returned_on=D(2026, 6, 10), fee=Decimal("25.00"))
    payment_return_check(payment=payment, returned_on=D(2026, 6, 10), fee=Decimal("25.00"))  # twice: once

    assert balance(account) == Decimal("125.00")
    payment.refresh_from_db()
    assert payment.status == "returned"
    assert LedgerEntry.objects.filter(kind="reversal", reverses=payment.ledger_entry).count() == 1
    (event,) = AuditEvent.objects.filter(action="payment.return")  # the replay recorded nothing
    assert event.changes["fee"] == "25.00" and event.account_number == account.account_number


@pytest.mark.django_db
def test_lockbox_file_posts_matches_and_lists_exceptions_once(tmp_path, capsys):
    first = owing(account_number="100001-01")
    second = owing(account_number="100002-01")
    path = tmp_path / "lockbox.csv"
    path.write_text(
        "account_number,amount,check_number,date\n"
        "100001-01,40.00,5001,2026-06-02\n"
        "100002-01,100.00,5002,2026-06-02\n"
        "999999-01,12.34,5003,2026-06-02\n"
    )

    call_command("import_lockbox", str(path), "--exceptions", str(tmp_path / "exceptions.csv"))

    out = capsys.readouterr().out
    assert "2 payment(s) posted, totalling $140.00" in out
    assert "line 4: account 999999-01 not found: check 5003 for $12.34" in out
    assert "999999-01" in (tmp_path / "exceptions.csv").read_text()
    assert (balance(first), balance(second)) == (Decimal("60.00"), Decimal("0.00"))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_lockbox", str(path))
    assert balance(first) == Decimal("60.00")

    # The exception waits on the staff home; a clerk posts it to the account found on the check.
    from billing.models import LockboxException

    (held,) = LockboxException.objects.all()
    assert (held.amount, held.check_number, held.status) == (Decimal("12.34"), "5003", "open")
    clerk = Client()
    clerk.force_login(staff_user("Clerks"))
    home = clerk.get(reverse("staff_home")).content.decode()
    assert "Lockbox checks to resolve" in home
    url = reverse("staff_lockbox_exceptions")
    page = clerk.get(url).content.decode()
    assert "account 999999-01 not found" in page
    wrong = clerk.post(
        url, {"exception": held.pk, "resolve": "post", "account_number": "999998-01"}, follow=True
    )
    assert "No account numbered 999998-01" in wrong.content.decode()
    blank = clerk.post(url, {"exception": held.pk, "resolve": "return", "note": " "}, follow=True)
    assert "Say how the check went back" in blank.content.decode()
    assert LockboxException.objects.get().status == "open"
    matched = clerk.post(
        url, {"exception": held.pk, "resolve": "post", "account_number": "10000101"}, follow=True
    )
    assert "waits in Payment batches to post" in matched.content.decode()
    held.refresh_from_db()
    assert held.status == "posted" and held.payment.service_account == first
    assert balance(first) == Decimal("60.00")  # the clerk chose the account: someone else posts it
    other = staff_user("Clerks")
    payment_batch_post(batch=held.payment.batch, user=other)
    assert balance(first) == Decimal("47.66")
    again = clerk.post(
        url, {"exception": held.pk, "resolve": "post", "account_number": "100002-01"}, follow=True
    )
    assert "matched to an account already" in again.content.decode()
    assert balance(second) == Decimal("0.00")
    finance = Client()
    finance.force_login(staff_user("Finance"))
    assert finance.get(url).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_clerk_takes_a_card_by_phone_and_the_caller_gets_the_receipt(client):
    call_command("seed_demo", accounts=2)
    clerk = User.objects.get(email="clerk@example.com")
    account = owing(account_number="300001-01", email="caller@example.com")
    client.force_login(clerk)
    assert client.get(reverse("phone_payment")).status_code == 200

    started = client.post(
        reverse("phone_payment_start"),
        {"token": str(uuid.uuid4()), "account_number": "300001-01", "amount": "30.00", "save_card": True},
        content_type="application/json",
    ).json()
    setup = stripe_browser.confirm_card_setup(started["client_secret"], "4242424242424242")
    result = client.post(
        started["charge_url"], {"setup_intent": setup["id"]}, content_type="application/json"
    ).json()

    assert result["status"] == "succeeded"
    payment = Payment.objects.get(service_account=account)
    assert (payment.channel, payment.created_by) == ("phone", clerk)
    assert not clerk.saved_cards.exists()
    assert balance(account) == Decimal("70.00")
    assert mail.outbox[-1].to == ["caller@example.com"]
    (event,) = AuditEvent.objects.filter(action="payment.phone")
    assert (event.actor_email, event.account_number, event.changes["amount"]) == (
        "clerk@example.com",
        "300001-01",
        "30.00",
    )


@pytest.mark.django_db
def test_customers_cannot_open_the_phone_payment_page(client):
    from accounts.tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(reverse("phone_payment")).status_code in (302, 403)


@pytest.mark.django_db(transaction=True)
def test_finance_refunds_part_of_a_card_payment_through_stripe(client):
    call_command("seed_demo", accounts=2)
    account = owing(account_number="300002-01")
    client.post(reverse("quick_pay"), {"account_number": "300002-01", "service_zip": account.service_zip})
    started = client.post(
        reverse("payment_start_quick"),
        {"token": str(uuid.uuid4()), "amount": "100.00", "email": "p@example.com"},
        content_type="application/json",
    ).json()
    setup = stripe_browser.confirm_card_setup(started["client_secret"], "4242424242424242")
    client.post(started["charge_url"], {"setup_intent": setup["id"]}, content_type="application/json")
    payment = Payment.objects.get(service_account=account)
    assert balance(account) == Decimal("0.00")

    client.force_login(User.objects.get(email="finance@example.com"))
    too_much = client.post(
        reverse("admin:billing_payment_refund", args=[payment.pk]), {"amount": "150.00", "reason": "Overpaid"}
    )
    assert "At most $100.00" in too_much.content.decode()
    response = client.post(
        reverse("admin:billing_payment_refund", args=[payment.pk]), {"amount": "30.00", "reason": "Overpaid"}
    )

    assert response.status_code == 302
    refund = Refund.objects.get(payment=payment)
    assert refund.status == "succeeded" and refund.stripe_refund_id.startswith("re_")
    assert balance(account) == Decimal("30.00")
    assert refund.ledger_entry.amount == Decimal("30.00")
    (event,) = AuditEvent.objects.filter(action="refund.create")
    assert event.actor_email == "finance@example.com"
    assert event.changes == {"payment": payment.confirmation_number, "amount": "30.00", "reason": "Overpaid"}


@pytest.mark.django_db(transaction=True)
def test_an_assessment_bill_is_paid_online_by_number_and_zip(client):
    invoice = Invoice.objects.create(
        number="A-2026-0042",
        kind="assessment",
        payer_name="Tomas Lee",
        payer_zip="97045",
        amount=Decimal("250.00"),
        due_date=D(2026, 8, 1),
    )
    wrong = client.post(reverse("invoice_pay_lookup"), {"number": "A-2026-0042", "payer_zip": "97222"})
    assert "do not match" in wrong.content.decode()
    page = client.post(
        reverse("invoice_pay_lookup"), {"number": "a-2026-0042", "payer_zip": "97045"}, follow=True
    )
    assert "T**** L**" in page.content.decode()

    started = client.post(
        reverse("payment_start_invoice"),
        {"token": str(uuid.uuid4()), "amount": "250.00", "email": "t@example.com"},
        content_type="application/json",
    ).json()
    setup = stripe_browser.confirm_card_setup(started["client_secret"], "4242424242424242")
    result = client.post(
        started["charge_url"], {"setup_intent": setup["id"]}, content_type="application/json"
    ).json()

    assert result["status"] == "succeeded"
    from billing.services.payments import invoice_amount_open

    assert invoice_amount_open(invoice=invoice) == Decimal("0.00")
    assert not LedgerEntry.objects.filter(kind="payment").exists()  # invoices are not on an account's ledger


@pytest.mark.django_db
def test_an_invoice_changes_only_until_it_is_paid_and_each_change_is_audited(client):
    from kernel.testing.admin_forms import admin_form_data

    invoice = Invoice.objects.create(
        number="AR-77", kind="receivable", payer_name="Ace Plumbing", payer_zip="97045",
        amount=Decimal("120.00"), due_date=D(2026, 8, 1),
    )  # fmt: skip
    client.force_login(staff_user("Clerks"))
    url = reverse("admin:billing_invoice_change", args=[invoice.pk])
    form = admin_form_data(client.get(url).content.decode())

    zero = client.post(url, {**form, "amount": "0"})
    changed = client.post(url, {**form, "amount": "125.00"})

    assert "more than zero" in zero.content.decode()
    assert changed.status_code == 302
    (event,) = AuditEvent.objects.filter(action="invoice.change")
    assert event.changes == {"amount": ["120.00", "125.00"]}
    Payment.objects.create(
        invoice=invoice,
        amount=Decimal("125.00"),
        channel="online",
        status="succeeded",
        received_on=D(2026, 7, 9),
    )
    client.post(url, {**form, "amount": "1.00"})
    invoice.refresh_from_db()
    assert invoice.amount == Decimal("125.00")
    assert 'name="amount"' not in client.get(url).content.decode()
