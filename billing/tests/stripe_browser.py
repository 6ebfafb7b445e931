"""What Stripe.js does in the customer's browser, done from a test against localstripe; card
payments made that way, and the card form filled in a browser."""

import datetime as dt
import json
import urllib.request
import uuid
from decimal import Decimal

from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ServiceAccountFactory
from billing.models import Payment
from billing.tests.factories import balance, post

# Stripe's test cards, as localstripe (started by portal.localstripe_server) treats them.
VISA = "4242424242424242"
DECLINED_AT_CHARGE = "4000000000000341"  # saved without trouble, declined when charged
THREE_D_SECURE = "4000002760003184"  # the bank checks every payment


def _post(path: str, body: dict) -> dict:
    request = urllib.request.Request(
        settings.STRIPE_API_BASE + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read() or b"{}")


def confirm_card_setup(client_secret: str, number: str, *, authenticate: bool = True) -> dict:
    """stripe.confirmCardSetup with the card element filled in (and 3-D Secure passed)."""
    seti = client_secret.split("_secret_")[0]
    body = {
        "key": settings.STRIPE_PUBLISHABLE_KEY,
        "use_stripe_sdk": True,
        "client_secret": client_secret,
        "payment_method_data": {
            "type": "card",
            "card": {"number": number, "exp_month": "12", "exp_year": "2031", "cvc": "123"},
        },
    }
    result = _post(f"/v1/setup_intents/{seti}/confirm", body)
    if result.get("status") == "requires_action" and authenticate:
        result = _post(
            f"/v1/setup_intents/{seti}/confirm",
            {"key": settings.STRIPE_PUBLISHABLE_KEY, "use_stripe_sdk": True, "client_secret": client_secret},
        )
    return result


def confirm_card_payment(client_secret: str, *, success: bool = True) -> dict:
    """stripe.confirmCardPayment: the customer passes (or fails) the bank's check."""
    pi = client_secret.split("_secret_")[0]
    return _post(
        f"/v1/payment_intents/{pi}/_authenticate?success={'true' if success else 'false'}",
        {"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": client_secret},
    )


def payment_intents_for(metadata_key: str, value: str) -> list[dict]:
    """Every PaymentIntent localstripe holds with metadata[key] == value."""
    return [pi for pi in all_payment_intents() if (pi.get("metadata") or {}).get(metadata_key) == value]


def all_payment_intents() -> list[dict]:
    """Every PaymentIntent, page by page."""
    found, after = [], ""
    while True:
        query = "limit=100" + (f"&starting_after={after}" if after else "")
        request = urllib.request.Request(
            f"{settings.STRIPE_API_BASE}/v1/payment_intents?{query}",
            headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            page = json.loads(response.read())
        found += page.get("data", [])
        if not page.get("has_more") or not page.get("data"):
            return found
        after = page["data"][-1]["id"]


def saved_card(user, number: str):
    """A card the login saved, as the autopay page's card form saves one (3-D Secure passed)."""
    import uuid

    from billing import stripe_gateway as gateway
    from billing.models import SavedCard
    from billing.services.payments import stripe_customer_for_user

    intent = gateway.setup_intent_create(
        customer_id=stripe_customer_for_user(user=user), idempotency_key=f"test-{uuid.uuid4()}"
    )
    confirmed = confirm_card_setup(intent.client_secret, number)
    card = gateway.card_retrieve(confirmed["payment_method"])
    return SavedCard.objects.create(
        user=user,
        stripe_payment_method_id=card.payment_method_id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )


def start(client, account, amount="50.00", token=None, **extra):
    token = token or str(uuid.uuid4())
    response = client.post(
        reverse("payment_start_account", args=[account.pk]),
        {"token": token, "amount": amount, **extra},
        content_type="application/json",
    )
    return token, response


def charge(client, started, number):
    setup = confirm_card_setup(started["client_secret"], number)
    return client.post(started["charge_url"], {"setup_intent": setup["id"]}, content_type="application/json")


def card_payment(amount: str) -> Payment:
    """A real card payment through localstripe, by quick pay, that settled on an account."""
    account = ServiceAccountFactory()
    post(account, "charge", amount, dt.date(2026, 5, 1), dt.date(2026, 5, 20))
    client = Client()
    client.post(
        reverse("quick_pay"), {"account_number": account.account_number, "service_zip": account.service_zip}
    )
    started = client.post(
        reverse("payment_start_quick"),
        {"token": str(uuid.uuid4()), "amount": amount, "email": "payer@example.com"},
        content_type="application/json",
    ).json()
    setup = confirm_card_setup(started["client_secret"], VISA)
    client.post(started["charge_url"], {"setup_intent": setup["id"]}, content_type="application/json")
    payment = Payment.objects.get(service_account=account)
    assert payment.status == "succeeded" and balance(account) == Decimal("0.00")
    return payment


def fill_card(page, number: str) -> None:
    card = page.locator("#card-element")
    card.get_by_placeholder("number").fill(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("31")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("97045")
