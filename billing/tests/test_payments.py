"""Card payments against localstripe: the steps the pay page's script takes, from the server's side."""

import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, ServiceAccountFactory, UserFactory
from billing.models import LedgerEntry, Payment, SavedCard, StripeEvent
from billing.services.payments import payments_reconcile
from billing.tests import stripe_browser
from billing.tests.factories import PaymentFactory, balance, post
from billing.tests.stripe_browser import DECLINED_AT_CHARGE, THREE_D_SECURE, VISA, charge, start

pytestmark = pytest.mark.django_db(transaction=True)
D = dt.date


def test_card_payment_posts_once_and_sends_a_receipt(client, customer):
    account = customer["account"]
    token, started = start(client, account, "50.00")
    assert started.status_code == 200
    assert Payment.objects.get(client_token=token).status == Payment.Status.PENDING  # recorded before Stripe

    result = charge(client, started.json(), VISA).json()

    assert result["status"] == "succeeded"
    payment = Payment.objects.get(client_token=token)
    assert (payment.status, payment.card_brand, payment.card_last4) == ("succeeded", "visa", "4242")
    assert payment.stripe_payment_intent_id.startswith("pi_")
    assert LedgerEntry.objects.get(source_key=f"payment:{payment.pk}").amount == Decimal("-50.00")
    assert balance(account) == Decimal("70.00")
    receipt = client.get(result["receipt_url"]).content.decode()
    assert payment.confirmation_number in receipt and "ending in 4242" in receipt
    assert len(mail.outbox) == 1
    assert payment.confirmation_number in mail.outbox[0].body
    assert "4242" in mail.outbox[0].body


def test_decline_at_charge_time_says_why_and_posts_nothing(client, customer):
    account = customer["account"]
    token, started = start(client, account, "50.00")

    result = charge(client, started.json(), DECLINED_AT_CHARGE).json()

    assert result["status"] == "failed"
    assert "declined" in result["error"]
    assert result["retry_token"] != token  # another card gets a fresh payment
    assert Payment.objects.get(client_token=token).status == Payment.Status.FAILED
    assert balance(account) == Decimal("120.00")
    _, again = start(client, account, "50.00", token=result["retry_token"])
    assert charge(client, again.json(), VISA).json()["status"] == "succeeded"
    assert balance(account) == Decimal("70.00")


def test_three_d_secure_is_settled_after_the_bank_check(client, customer):
    account = customer["account"]
    token, started = start(client, account, "20.00")

    result = charge(client, started.json(), THREE_D_SECURE).json()

    assert result["status"] == "requires_action"
    assert Payment.objects.get(client_token=token).status == Payment.Status.REQUIRES_ACTION
    assert balance(account) == Decimal("120.00")
    stripe_browser.confirm_card_payment(result["client_secret"], success=True)
    done = client.post(result["complete_url"]).json()
    assert done["status"] == "succeeded"
    assert balance(account) == Decimal("100.00")


def test_failed_bank_check_leaves_the_balance_alone(client, customer):
    account = customer["account"]
    _, started = start(client, account, "20.00")
    result = charge(client, started.json(), THREE_D_SECURE).json()

    stripe_browser.confirm_card_payment(result["client_secret"], success=False)
    done = client.post(result["complete_url"]).json()

    assert done["status"] == "failed"
    assert balance(account) == Decimal("120.00")


def test_double_submit_charges_once(client, customer):
    account = customer["account"]
    token, first = start(client, account, "30.00")
    _, second = start(client, account, "30.00", token=token)  # the same form, sent again
    assert second.json()["client_secret"] == first.json()["client_secret"]
    setup = stripe_browser.confirm_card_setup(first.json()["client_secret"], VISA)

    answers = [
        client.post(
            first.json()["charge_url"], {"setup_intent": setup["id"]}, content_type="application/json"
        ).json()
        for _ in range(3)
    ]

    assert answers[0]["status"] == "succeeded"
    assert {a["status"] for a in answers[1:]} <= {"succeeded", "processing"}
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    assert balance(account) == Decimal("90.00")


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0.50", "smallest payment"), ("420.01", "more than we can take"), ("abc", "dollars and cents")],
)
def test_amounts_outside_what_is_owed_are_refused_before_stripe(client, customer, amount, message):
    _, response = start(client, customer["account"], amount)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Payment.objects.exists()


def test_another_customers_payment_steps_are_not_found(client, customer):
    token, started = start(client, customer["account"], "10.00")
    other = UserFactory()
    client.force_login(other)
    setup = stripe_browser.confirm_card_setup(started.json()["client_secret"], VISA)
    response = client.post(
        started.json()["charge_url"], {"setup_intent": setup["id"]}, content_type="application/json"
    )
    assert response.status_code == 404
    assert client.get(reverse("payment_receipt", args=[token])).status_code == 404
    assert client.post(reverse("payment_start_account", args=[customer["account"].pk]), {}).status_code == 404


def test_saved_card_is_kept_when_the_customer_asks(client, customer):
    _, started = start(client, customer["account"], "10.00", save_card=True)
    charge(client, started.json(), VISA)
    card = SavedCard.objects.get(user=customer["user"])
    assert (card.brand, card.last4, card.exp_year) == ("visa", "4242", 2031)


# --- quick pay --------------------------------------------------------------------------------


def test_quick_pay_finds_the_bill_by_number_and_zip_and_shows_a_masked_name(client):
    account = ServiceAccountFactory(
        account_number="100321-01", service_zip="97045", customer_name="Maria Garcia"
    )
    post(account, "charge", "64.10", D(2026, 5, 1), D(2026, 5, 20))

    wrong = client.post(reverse("quick_pay"), {"account_number": "100321-01", "service_zip": "97222"})
    assert "do not match our records" in wrong.content.decode()
    page = client.post(
        reverse("quick_pay"), {"account_number": "100321 01", "service_zip": "97045"}, follow=True
    )  # typed with a space for the dash: the same number

    body = page.content.decode()
    assert "M**** G*****" in body
    assert "Maria" not in body
    assert "$64.10" in body
    token = str(uuid.uuid4())
    started = client.post(
        reverse("payment_start_quick"),
        {"token": token, "amount": "64.10", "email": "payer@example.com"},
        content_type="application/json",
    ).json()
    assert charge(client, started, VISA).json()["status"] == "succeeded"
    assert balance(account) == Decimal("0.00")
    assert mail.outbox[-1].to == ["payer@example.com"]


def test_quick_pay_without_a_lookup_goes_back_to_the_lookup(client):
    assert client.get(reverse("quick_pay_pay"))["Location"] == reverse("quick_pay")
    response = client.post(reverse("payment_start_quick"), {}, content_type="application/json")
    assert response.status_code == 404


# --- webhooks ---------------------------------------------------------------------------------


def signed(payload: dict, *, secret=None, timestamp=None) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    timestamp = timestamp or int(time.time())
    mac = hmac.new(
        (secret or settings.STRIPE_WEBHOOK_SECRET).encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    )
    return body, f"t={timestamp},v1={mac.hexdigest()}"


def event_for(payment: Payment, event_id="evt_1", kind="payment_intent.succeeded") -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "data": {
            "object": {
                "id": payment.stripe_payment_intent_id,
                "object": "payment_intent",
                "metadata": {"payment_id": str(payment.pk)},
            }
        },
    }


def deliver(client, payload, **kwargs):
    body, signature = signed(payload, **kwargs)
    return client.post(
        reverse("stripe_webhook"), body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def three_d_secure_payment(client, customer) -> Payment:
    token, started = start(client, customer["account"], "40.00")
    result = charge(client, started.json(), THREE_D_SECURE).json()
    stripe_browser.confirm_card_payment(result["client_secret"], success=True)
    return Payment.objects.get(client_token=token), result


def test_webhook_before_the_return_page_posts_once(client, customer):
    payment, result = three_d_secure_payment(client, customer)

    assert deliver(client, event_for(payment)).status_code == 200
    assert client.post(result["complete_url"]).json()["status"] == "succeeded"

    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    assert balance(customer["account"]) == Decimal("80.00")


def test_webhook_after_the_return_page_changes_nothing(client, customer):
    payment, result = three_d_secure_payment(client, customer)
    client.post(result["complete_url"])

    assert deliver(client, event_for(payment)).status_code == 200

    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    assert balance(customer["account"]) == Decimal("80.00")


def test_duplicate_webhook_delivery_answers_200_and_does_nothing(client, customer):
    payment, _ = three_d_secure_payment(client, customer)
    for _ in range(2):
        assert deliver(client, event_for(payment, "evt_dup")).status_code == 200
    assert StripeEvent.objects.filter(event_id="evt_dup").count() == 1
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


@pytest.mark.parametrize(
    "kwargs", [{"secret": "whsec_forged"}, {"timestamp": int(time.time()) - 3600}], ids=["forged", "stale"]
)
def test_forged_or_stale_webhook_gets_400_and_changes_nothing(client, customer, kwargs):
    payment, _ = three_d_secure_payment(client, customer)

    response = deliver(client, event_for(payment, "evt_forged"), **kwargs)

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REQUIRES_ACTION
    assert balance(customer["account"]) == Decimal("120.00")


def test_reconciliation_settles_a_payment_whose_customer_closed_the_tab(client, customer, time_machine):
    payment, _ = three_d_secure_payment(client, customer)  # authenticated, but the page never came back
    time_machine.move_to(dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=20), tick=True)

    counts = payments_reconcile()

    assert counts["settled"] == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert balance(customer["account"]) == Decimal("80.00")


def test_reconcile_payments_command_reports_what_it_did(client, customer, capsys):
    from django.core.management import call_command

    payment, _ = three_d_secure_payment(client, customer)

    call_command("reconcile_payments", "--older-than-minutes", "0")

    assert "1 settled" in capsys.readouterr().out
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_a_payment_token_is_not_found_outside_the_account_login_or_browser_that_started_it(client, customer):
    from django.test import Client

    account = customer["account"]
    other_account = AccountLinkFactory(user=customer["user"]).service_account
    post(other_account, "charge", "80.00", D(2026, 5, 1), D(2026, 5, 20))
    token, first = start(client, account, "50.00")
    secret = first.json()["client_secret"]

    again, same = start(client, account, "50.00", token=token)  # a double submit finds it
    moved = client.post(
        reverse("payment_start_account", args=[other_account.pk]),
        {"token": token, "amount": "50.00"},
        content_type="application/json",
    )
    stranger = Client()
    stranger.force_login(AccountLinkFactory(service_account=account).user)  # also linked to the account
    theirs = stranger.post(
        reverse("payment_start_account", args=[account.pk]),
        {"token": token, "amount": "50.00"},
        content_type="application/json",
    )
    guest = Client()
    guest.post(
        reverse("quick_pay"), {"account_number": account.account_number, "service_zip": account.service_zip}
    )
    as_guest = guest.post(
        reverse("payment_start_quick"),
        {"token": token, "amount": "50.00", "email": "g@example.com"},
        content_type="application/json",
    )

    assert same.status_code == 200 and same.json()["client_secret"] == secret
    for response in (moved, theirs, as_guest):
        assert response.status_code == 404
        assert secret not in response.content.decode()
    assert Payment.objects.filter(client_token=token).count() == 1


def test_a_guest_token_is_not_continued_from_another_browser(client):
    from django.test import Client

    account = ServiceAccountFactory()
    post(account, "charge", "80.00", D(2026, 5, 1), D(2026, 5, 20))
    browsers = [Client(), Client()]
    for browser in browsers:
        browser.post(
            reverse("quick_pay"),
            {"account_number": account.account_number, "service_zip": account.service_zip},
        )
    body = {"token": str(uuid.uuid4()), "amount": "30.00", "email": "g@example.com"}

    first = browsers[0].post(reverse("payment_start_quick"), body, content_type="application/json")
    second = browsers[1].post(reverse("payment_start_quick"), body, content_type="application/json")

    assert first.status_code == 200 and second.status_code == 404


def test_a_spanish_customer_pays_two_dollars_typed_the_spanish_way(client, customer):
    from accounts.models import User

    User.objects.filter(pk=customer["user"].pk).update(language="es")
    token, started = start(client, customer["account"], "2,00")
    _, refused = start(client, customer["account"], "1_0")

    assert started.status_code == 200
    assert Payment.objects.get(client_token=token).amount == Decimal("2.00")
    assert refused.status_code == 400 and Payment.objects.count() == 1


@pytest.mark.django_db
def test_a_guests_receipt_invites_a_login_paperless_and_autopay(client):
    from accounts.tests.factories import UserFactory
    from billing.views.payments import SESSION_TOKENS

    payment = PaymentFactory(
        channel=Payment.Channel.QUICK_PAY, status=Payment.Status.SUCCEEDED, client_token=uuid.uuid4()
    )
    session = client.session
    session[SESSION_TOKENS] = [str(payment.client_token)]
    session.save()
    guest = client.get(reverse("payment_receipt", args=[payment.client_token])).content.decode()
    assert "Save time next month" in guest and reverse("account_signup") in guest
    assert "set up autopay" in guest and "by email instead of paper" in guest

    payer = UserFactory()
    Payment.objects.filter(pk=payment.pk).update(created_by=payer)
    client.force_login(payer)
    signed_in = client.get(reverse("payment_receipt", args=[payment.client_token])).content.decode()
    assert "Save time next month" not in signed_in
