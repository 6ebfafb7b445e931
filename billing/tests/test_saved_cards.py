"""Paying with a saved card, paying ahead, and the decline messages, against localstripe."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import UserFactory
from billing import stripe_gateway as gateway
from billing.models import LedgerEntry, Payment, SavedCard
from billing.tests import stripe_browser
from billing.tests.factories import balance
from billing.tests.stripe_browser import DECLINED_AT_CHARGE, THREE_D_SECURE, VISA, saved_card

pytestmark = pytest.mark.django_db(transaction=True)
D = dt.date


def pay(client, account, amount, card_id, token=None):
    return client.post(
        reverse("payment_start_account", args=[account.pk]),
        {"token": token or str(uuid.uuid4()), "amount": amount, "card_id": card_id},
        content_type="application/json",
    )


def test_a_saved_card_pays_in_one_step_and_once(client, customer):
    card = saved_card(customer["user"], VISA)
    account, token = customer["account"], str(uuid.uuid4())

    answers = [pay(client, account, "45.10", card.pk, token=token).json() for _ in range(3)]

    assert answers[0]["status"] == "succeeded"
    assert {a["status"] for a in answers[1:]} <= {"succeeded", "processing"}
    payment = Payment.objects.get()
    assert (payment.status, payment.card_last4, payment.created_by) == ("succeeded", "4242", customer["user"])
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    assert balance(account) == Decimal("74.90")
    assert len(stripe_browser.payment_intents_for("payment_id", str(payment.pk))) == 1
    page = client.get(reverse("pay_account", args=[account.pk])).content.decode()
    assert f'value="{card.pk}"' in page and "Visa ending 4242" in page


def test_a_saved_card_the_bank_checks_is_checked_once(client, customer):
    card = saved_card(customer["user"], THREE_D_SECURE)
    account = customer["account"]

    started = pay(client, account, "20.00", card.pk).json()

    assert started["status"] == "requires_action"  # one check, in the browser
    assert balance(account) == Decimal("120.00")
    stripe_browser.confirm_card_payment(started["client_secret"], success=True)
    assert client.post(started["complete_url"]).json()["status"] == "succeeded"
    assert balance(account) == Decimal("100.00")


def test_someone_elses_or_an_expired_card_is_refused_before_stripe(client, customer):
    other = saved_card(UserFactory(), VISA)
    mine = saved_card(customer["user"], VISA)
    SavedCard.objects.filter(pk=mine.pk).update(exp_year=2020)

    for card in (other, mine):
        response = pay(client, customer["account"], "10.00", card.pk)
        assert response.status_code == 400
        assert "Choose one of your saved cards" in response.json()["error"]
    assert not Payment.objects.exists()
    page = client.get(reverse("pay_account", args=[customer["account"].pk])).content.decode()
    assert f'value="{mine.pk}"' not in page and f'value="{other.pk}"' not in page


@override_settings(PAYMENT_CREDIT_LIMIT="300.00")
def test_paying_more_than_is_owed_leaves_a_credit_up_to_the_limit(client, customer):
    card = saved_card(customer["user"], VISA)
    account = customer["account"]

    refused = pay(client, account, "420.01", card.pk)
    assert refused.status_code == 400
    assert "$420.00" in refused.json()["error"] and "$120.00" in refused.json()["error"]
    assert not Payment.objects.exists()

    assert pay(client, account, "150.00", card.pk).json()["status"] == "succeeded"
    assert balance(account) == Decimal("-30.00")
    page = client.get(reverse("pay_account", args=[account.pk])).content.decode()
    assert "You can pay ahead: up to $270.00" in page  # the credit already held counts


def test_a_decline_is_told_in_the_customers_language(client, customer):
    card = saved_card(customer["user"], DECLINED_AT_CHARGE)
    with translation.override("es"):
        client.cookies["django_language"] = "es"
        result = pay(client, customer["account"], "10.00", card.pk).json()
    assert result["status"] == "failed"
    with translation.override("es"):
        expected = str(gateway.DECLINE_MESSAGES["card_declined"])
    assert result["error"] == expected
    assert "tarjeta" in expected
    assert balance(customer["account"]) == Decimal("120.00")


def test_every_decline_code_has_a_spanish_sentence_and_reaches_the_page(client, customer):
    english = {code: str(message) for code, message in gateway.DECLINE_MESSAGES.items()}
    with translation.override("es"):
        spanish = {code: str(message) for code, message in gateway.DECLINE_MESSAGES.items()}
    untranslated = [code for code in english if english[code] == spanish[code]]
    assert untranslated == []
    assert gateway.decline_message("no_such_code") == gateway.GENERIC_DECLINE
    page = client.get(reverse("pay_account", args=[customer["account"].pk]), HTTP_ACCEPT_LANGUAGE="es")
    table = page.content.decode().split('id="card-error-messages" type="application/json">')[1]
    for code in ("insufficient_funds", "setup_intent_authentication_failure", "incomplete_number"):
        assert f'"{code}"' in table


def test_a_form_token_started_for_a_new_card_cannot_charge_a_saved_card_for_it(client, customer):
    card = saved_card(customer["user"], VISA)
    account, token = customer["account"], str(uuid.uuid4())
    started = client.post(
        reverse("payment_start_account", args=[account.pk]),
        {"token": token, "amount": "100.00"},
        content_type="application/json",
    )
    assert started.status_code == 200  # a new card's payment, never confirmed

    refused = pay(client, account, "10.00", card.pk, token=token)
    again = client.post(
        reverse("payment_start_account", args=[account.pk]),
        {"token": token, "amount": "10.00"},
        content_type="application/json",
    )

    assert refused.status_code == 400 and "started with other details" in refused.json()["error"]
    assert again.status_code == 400 and "started with other details" in again.json()["error"]
    assert Payment.objects.get().amount == Decimal("100.00")
    assert not stripe_browser.payment_intents_for("payment_id", str(Payment.objects.get().pk))
    assert balance(account) == Decimal("120.00")
