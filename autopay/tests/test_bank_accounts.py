"""Paying from a bank account online: the account checked by a prenote, the debit as a WEB entry in
the NACHA file, pending until it settles, and the bank's returns."""

import datetime as dt
from decimal import Decimal

import pytest
from ach.parser import Parser
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, UserFactory
from autopay.models import BankAccount, BankPayment, PaymentAuthorization
from autopay.services.bank import (
    NoDrafts,
    ach_returns_import,
    bank_payments_settle,
    nacha_build,
    nacha_export,
)
from billing.models import Payment
from billing.services.payments import amount_owed
from billing.tests.factories import balance, post
from kernel.crypto import decrypt

pytestmark = pytest.mark.django_db
D = dt.date
ROUTING = "091000019"


@pytest.fixture
def customer(client, tuesday):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "120.00", D(2026, 11, 1), D(2026, 12, 20))
    client.force_login(user)
    return {"user": user, "account": account}


def new_account_form(**overrides):
    return {
        "token": "3f0c7a52-64c4-4b35-9d55-6c1f1d8f8a10",
        "amount": "120.00",
        "method": "new-bank",
        "holder_name": "Pat Doe",
        "routing_number": ROUTING,
        "account_number": "123456789",
        "account_number_again": "123456789",
        "account_type": "checking",
        "accept_terms": "on",
        **overrides,
    }


def parsed(text: str) -> dict:
    return Parser(text).as_dict()


def test_a_new_bank_account_is_prenoted_then_debited_then_settled_then_returned(
    client, customer, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.RETURNED_PAYMENT_FEE = "25.00"
    account = customer["account"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pay_by_bank", args=[account.pk]), new_account_form())

    payment = Payment.objects.get(method="bank")
    assert response.status_code == 302
    assert response["Location"] == reverse("bank_payment_done", args=[payment.client_token])
    bank = BankAccount.objects.get()
    assert bank.status == BankAccount.Status.VALIDATING
    assert decrypt(bank.account_number_encrypted) == "123456789"
    assert "123456789" not in bank.account_number_encrypted
    # Prenote in the file dated Wednesday the 2nd; live debits wait three banking days after it.
    assert payment.status == Payment.Status.PENDING and payment.received_on == D(2026, 12, 7)
    authorization = payment.bank_debit.authorization
    assert authorization.kind == PaymentAuthorization.Kind.BANK_PAYMENT
    assert authorization.ip_address == "127.0.0.1" and authorization.user == customer["user"]
    assert "one-time electronic debit" in authorization.text and authorization.terms_version
    (email,) = mail.outbox
    assert "December 7, 2026" in email.body and authorization.text[:60] in email.body.replace("\n", " ")
    # On its way: nobody is asked to pay it again.
    assert amount_owed(service_account=account) == 0
    page = client.get(reverse("service_account_detail", args=[account.pk])).content.decode()
    assert f"credited on December 7, 2026 (confirmation {payment.confirmation_number})" in page

    prenote_file = nacha_export(on=D(2026, 12, 2), path=tmp_path / "dec2.ach")
    (batch,) = parsed(prenote_file.text)["batches"]
    assert batch["batch_header"]["std_ent_cls_code"] == "WEB"
    (entry,) = [e["entry_detail"] for e in batch["entries"]]
    assert entry["transaction_code"] == "28" and int(entry["amount"]) == 0  # a checking prenote
    assert entry["dfi_acnt_num"].strip() == "123456789"
    with pytest.raises(NoDrafts):
        nacha_build(on=D(2026, 12, 4))  # too soon for the live debit, and nothing else is due

    assert bank_payments_settle(on=D(2026, 12, 7)) == 0
    bank.refresh_from_db()
    assert bank.status == BankAccount.Status.VERIFIED
    debit_file = nacha_export(on=D(2026, 12, 7), path=tmp_path / "dec7.ach")
    (batch,) = parsed(debit_file.text)["batches"]
    (entry,) = [e["entry_detail"] for e in batch["entries"]]
    assert entry["transaction_code"] == "27" and int(entry["amount"]) == 12000
    assert entry["disc_data"] == "S "  # WEB payment type: single
    assert int(batch["batch_control"]["debit_amount"]) == 12000
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING  # until its settlement date
    assert balance(account) == Decimal("120.00")
    assert nacha_build(on=D(2026, 12, 7)).text == debit_file.text  # written again: the same bytes

    assert bank_payments_settle(on=D(2026, 12, 7)) == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and balance(account) == 0
    assert payment.ledger_entry.posted_on == D(2026, 12, 7)

    trace = BankPayment.objects.get().trace_number
    returns = tmp_path / "returns.csv"
    returns.write_text(f"trace_number,return_code,date\n{trace},R03,2026-12-09\n")
    mail.outbox.clear()
    result = ach_returns_import(path=returns)
    assert (result.returned, result.deactivated) == (1, 1)
    assert ach_returns_import(path=returns).returned == 0  # a second import changes nothing
    payment.refresh_from_db()
    bank.refresh_from_db()
    assert payment.status == Payment.Status.RETURNED
    assert balance(account) == Decimal("145.00")  # owed again, with the returned-payment fee
    assert bank.status == BankAccount.Status.ENDED
    (email,) = mail.outbox
    assert "returned the payment of $120.00" in email.body and "fee of $25.00" in email.body


def test_a_returned_prenote_ends_the_account_and_cancels_the_payment_waiting_for_it(
    client, customer, tmp_path
):
    client.post(reverse("pay_by_bank", args=[customer["account"].pk]), new_account_form())
    nacha_export(on=D(2026, 12, 2), path=tmp_path / "dec2.ach")
    bank = BankAccount.objects.get()
    returns = tmp_path / "returns.csv"
    returns.write_text(f"trace_number,return_code,date\n{bank.prenote_trace},R04,2026-12-03\n")
    mail.outbox.clear()

    assert ach_returns_import(path=returns).returned == 1

    bank.refresh_from_db()
    assert bank.status == BankAccount.Status.ENDED
    assert Payment.objects.get().status == Payment.Status.CANCELED
    assert "nothing was taken" in mail.outbox[0].body
    with pytest.raises(NoDrafts):
        nacha_build(on=D(2026, 12, 7))
    assert amount_owed(service_account=customer["account"]) == Decimal("120.00")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("routing_number", "091000018", "routing number is not valid"),
        ("account_number_again", "123456780", "two account numbers are not the same"),
        ("account_number", "12ab", "4 to 17 digits"),
        ("accept_terms", "", "Tick the box to authorize the debit"),
        ("amount", "lots", "Enter the amount in dollars and cents"),
        ("amount", "900.00", "more than we can take in one payment"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(client, customer, field, value, message):
    response = client.post(
        reverse("pay_by_bank", args=[customer["account"].pk]), new_account_form(**{field: value})
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Payment.objects.exists() and not BankAccount.objects.exists()
    assert not PaymentAuthorization.objects.exists()


def test_a_second_payment_uses_the_saved_account_and_another_login_cannot(client, customer, tmp_path):
    account = customer["account"]
    client.post(reverse("pay_by_bank", args=[account.pk]), new_account_form(amount="20.00"))
    bank = BankAccount.objects.get()
    second = new_account_form(
        token="a7d1c3a4-9f8e-4c1b-8a37-51a3fd0e4f62", method=f"bank-{bank.pk}", amount="30.00"
    )
    client.post(reverse("pay_by_bank", args=[account.pk]), second)
    client.post(reverse("pay_by_bank", args=[account.pk]), second)  # sent twice: one payment

    assert sorted(Payment.objects.values_list("amount", flat=True)) == [Decimal("20.00"), Decimal("30.00")]
    assert BankAccount.objects.count() == 1

    other = UserFactory()
    other_account = AccountLinkFactory(user=other).service_account
    post(other_account, "charge", "50.00", D(2026, 11, 1), D(2026, 12, 20))
    client.force_login(other)
    response = client.post(
        reverse("pay_by_bank", args=[other_account.pk]),
        new_account_form(
            token="0b5c7d2e-1f3a-4b6c-8d9e-0f1a2b3c4d5e", method=f"bank-{bank.pk}", amount="10.00"
        ),
    )
    assert "Choose how to pay" in response.content.decode()
    assert Payment.objects.count() == 2
    assert client.post(reverse("pay_by_bank", args=[account.pk]), second).status_code == 404
