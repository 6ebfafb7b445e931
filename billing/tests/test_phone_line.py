"""The automated payment line, driven by the Twilio stand-in replaying a call as Twilio Voice
makes it (signed), with its <Pay> charging the card through localstripe: a call from start to
receipt, in English and in Spanish, a declined card, a hang-up before the card, a wrong ZIP code,
and Twilio's retries posting once."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from accounts.tests.factories import AccountLinkFactory, UserFactory
from accounts.tests.texts import NUMBER, confirmed, standin, texts_to
from billing.models import LedgerEntry, Payment
from billing.tests.factories import BillFactory, post
from billing.tests.stripe_browser import DECLINED_AT_CHARGE

pytestmark = pytest.mark.django_db(transaction=True)
D = dt.date
DECLINED = DECLINED_AT_CHARGE  # declined when charged


@pytest.fixture
def caller_account(live_server, settings):
    settings.PORTAL_BASE_URL = live_server.url
    standin("/_standin/reset", {})
    user = confirmed(UserFactory(language="es"))
    account = AccountLinkFactory(user=user, service_account__service_zip="97103").service_account
    post(account, "charge", "45.10", D(2026, 12, 1), D(2026, 12, 20))
    BillFactory(
        service_account=account,
        period=D(2026, 11, 1),
        issued_on=D(2026, 12, 1),
        due_date=D(2026, 12, 20),
        new_charges=Decimal("45.10"),
    )
    return user, account


def call(live_server, keys, *, card="4242424242424242", hang_up_at_pay=False) -> dict:
    return standin(
        "/_standin/call",
        {
            "url": live_server.url + reverse("phone_line_start"),
            "status_url": live_server.url + reverse("phone_line_status"),
            "keys": json.dumps(keys),
            "card": card,
            "hang_up_at_pay": "1" if hang_up_at_pay else "",
        },
    )


def number_keys(account) -> str:
    return "".join(c for c in account.account_number if c.isdigit()) + "#"


def test_a_call_from_start_to_receipt(live_server, caller_account):
    user, account = caller_account

    result = call(live_server, ["1", number_keys(account), "97103", "1"])

    heard = " ".join(result["heard"])
    assert "The amount due is $45.10, due December 20." in heard
    payment = Payment.objects.get(service_account=account)
    assert (payment.status, payment.amount, payment.channel, payment.card_last4) == (
        Payment.Status.SUCCEEDED,
        Decimal("45.10"),
        Payment.Channel.PHONE_LINE,
        "4242",
    )
    assert payment.stripe_payment_intent_id.startswith("pi_")
    assert (
        LedgerEntry.objects.filter(service_account=account, kind="payment", amount=Decimal("-45.10")).count()
        == 1
    )
    spoken = ", ".join(payment.confirmation_number)
    assert f"Your confirmation number is {spoken}." in heard and "[call ended]" in heard
    receipt = texts_to(NUMBER)[-1]  # in the login's language
    assert payment.confirmation_number in receipt and "$45.10" in receipt and "por teléfono" in receipt


def test_a_call_in_spanish_with_another_amount(live_server, caller_account):
    _, account = caller_account

    result = call(live_server, ["2", number_keys(account), "97103", "2", "2000#"])

    heard = " ".join(result["heard"])
    assert "La cantidad que debe es $45.10" in heard
    payment = Payment.objects.get(service_account=account)
    assert payment.amount == Decimal("20.00") and payment.status == Payment.Status.SUCCEEDED
    assert "Su número de confirmación es" in heard


def test_a_declined_card_charges_nothing_and_offers_another(live_server, caller_account):
    _, account = caller_account

    result = call(live_server, ["1", number_keys(account), "97103", "1", "2"], card=DECLINED)

    heard = " ".join(result["heard"])
    assert (
        "The card was not accepted, so nothing was charged." in heard
        and "Nothing was charged. Goodbye." in heard
    )
    (payment,) = Payment.objects.all()  # written before the card was asked for; never charged
    assert payment.status == Payment.Status.PENDING and payment.stripe_payment_intent_id is None
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_a_hang_up_before_the_card_leaves_nothing(live_server, caller_account):
    _, account = caller_account

    result = call(live_server, ["1", number_keys(account), "97103", "1"], hang_up_at_pay=True)

    assert "[caller hung up before the card]" in result["heard"]
    assert not Payment.objects.filter(stripe_payment_intent_id__isnull=False).exists()  # no card charged
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_a_wrong_zip_code_three_times_ends_the_call(live_server, caller_account):
    _, account = caller_account
    keys = ["1"] + [number_keys(account), "99999"] * 3

    result = call(live_server, keys)

    heard = " ".join(result["heard"])
    assert heard.count("do not match an account") == 2 and "We could not find that account" in heard
    assert "The amount due" not in heard


def test_twilio_retrying_the_pay_result_posts_once_and_forgeries_are_refused(
    client, live_server, caller_account
):
    _, account = caller_account
    result = call(live_server, ["1", number_keys(account), "97103", "1"])
    payment = Payment.objects.get()
    # The same Pay result again, for the same call, signed as Twilio signs (a retry).
    from billing.services.phone_line import Call

    state = Call(sid=result["sid"], account_id=account.pk, amount="45.10")
    state.save()
    params = {
        "CallSid": result["sid"],
        "Result": "success",
        "PaymentConfirmationCode": payment.stripe_payment_intent_id,
        "PaymentCardNumber": "xxxx-xxxx-xxxx-4242",
        "PaymentCardType": "visa",
    }
    url = settings.PORTAL_BASE_URL + reverse("phone_line_paid")
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
    again = client.post(reverse("phone_line_paid"), params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert payment.confirmation_number[0] in again.content.decode()
    assert Payment.objects.count() == 1 and LedgerEntry.objects.filter(kind="payment").count() == 1
    forged = client.post(reverse("phone_line_paid"), params, HTTP_X_TWILIO_SIGNATURE="forged")
    assert forged.status_code == 403
    assert client.get(reverse("phone_line_start")).status_code == 405


def test_the_line_is_answered_with_both_languages(client, live_server, caller_account):
    params = {"CallSid": "CA1", "From": "+15035550199"}
    url = settings.PORTAL_BASE_URL + reverse("phone_line_start")
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
    twiml = client.post(
        reverse("phone_line_start"), params, HTTP_X_TWILIO_SIGNATURE=signature
    ).content.decode()
    assert "press 1" in twiml and "oprima 2" in twiml and 'language="es-MX"' in twiml


def test_the_result_posts_even_when_the_calls_state_is_gone(client, live_server, caller_account):
    """Twilio's status callback (or a cache restart) may drop the call's state before the Pay
    result arrives: the payment written before the card finds the account and the amount."""
    from django.core.cache import cache

    _, account = caller_account
    result = call(live_server, ["1", number_keys(account), "97103", "1"], hang_up_at_pay=True)
    cache.clear()
    payment = Payment.objects.get()
    intent = charge_like_twilio(payment.amount)
    params = {
        "CallSid": result["sid"],
        "Result": "success",
        "PaymentConfirmationCode": intent,
        "PaymentCardNumber": "xxxx-xxxx-xxxx-4242",
        "PaymentCardType": "visa",
    }
    url = settings.PORTAL_BASE_URL + reverse("phone_line_paid")
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
    client.post(reverse("phone_line_paid"), params, HTTP_X_TWILIO_SIGNATURE=signature)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.stripe_payment_intent_id == intent


def charge_like_twilio(amount) -> str:
    """A PaymentIntent made and confirmed with a test card, as Twilio's Stripe connector makes one."""
    import urllib.request

    def stripe_post(path: str, body: dict) -> dict:
        request = urllib.request.Request(
            settings.STRIPE_API_BASE + path,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (localstripe)
            return json.loads(response.read())

    method = stripe_post(
        "/v1/payment_methods",
        {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": "12", "exp_year": "2031", "cvc": "123"},
        },
    )
    intent = stripe_post(
        "/v1/payment_intents",
        {"amount": int(amount * 100), "currency": "usd", "payment_method": method["id"], "confirm": True},
    )
    return intent["id"]
