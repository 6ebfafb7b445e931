"""The only module that talks to Stripe. Amounts cross here as integer cents.

Keys and the API address come from settings (the environment): localstripe under
`make run` and in tests, real Stripe when real keys are set. Every call that creates
something carries an idempotency key derived from our own database row.
"""

import threading
import time
from dataclasses import dataclass

import stripe
from django.conf import settings
from django.utils.translation import gettext_lazy as _

# The bank's decline codes, in words a customer can act on.
DECLINE_MESSAGES = {
    "insufficient_funds": _("Your card was declined for insufficient funds. Please try another card."),
    "expired_card": _("Your card has expired. Please use another card."),
    "incorrect_cvc": _("The security code does not match the card. Please check it and try again."),
    "incorrect_number": _("The card number is not right. Please check it and try again."),
    "processing_error": _("Your bank could not process the payment just now. Please try again later."),
    "lost_card": _("Your card was declined. Please try another card or call your bank."),
    "stolen_card": _("Your card was declined. Please try another card or call your bank."),
    "card_declined": _("Your card was declined by your bank. Please try another card or call your bank."),
    "authentication_required": _("Your bank needs you to confirm this payment. Please try again."),
}
GENERIC_DECLINE = _("The payment did not go through. Please try another card or call your bank.")
UNREACHABLE = _(
    "We could not reach our card processor. You have not been charged. Please try again in a few minutes."
)


class GatewayError(Exception):
    """Stripe could not be reached or refused the request for a reason other than the card."""


class CardDeclined(Exception):
    def __init__(self, message: str, code: str = "", payment_intent_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.payment_intent_id = payment_intent_id


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    client_secret: str | None
    amount_cents: int
    payment_method_id: str | None
    error_code: str = ""
    customer_id: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def needs_action(self) -> bool:
        return self.status in {"requires_action", "requires_source_action"}

    @property
    def failed(self) -> bool:
        return self.status in {"requires_payment_method", "canceled"}


@dataclass(frozen=True)
class Card:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


def client() -> stripe.StripeClient:
    kwargs = {}
    if settings.STRIPE_API_BASE:
        kwargs["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, max_network_retries=2, **kwargs)


def decline_message(code: str | None) -> str:
    return DECLINE_MESSAGES.get(code or "", GENERIC_DECLINE)


_pace_lock = threading.Lock()
_last_call = [0.0]
# Time spent on Stripe in this process (requests and pacing), for the benchmarks.
STATS = {"calls": 0, "request_seconds": 0.0, "pacing_seconds": 0.0}


def _pace() -> None:
    """Keep this process under STRIPE_MAX_REQUESTS_PER_SECOND (Stripe's test mode allows 25)."""
    interval = 1.0 / settings.STRIPE_MAX_REQUESTS_PER_SECOND
    with _pace_lock:
        wait = _last_call[0] + interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
            STATS["pacing_seconds"] += wait
        _last_call[0] = time.monotonic()


def _call(fn, *args, **kwargs):
    _pace()
    started = time.monotonic()
    try:
        return fn(*args, **kwargs)
    except stripe.CardError as exc:
        error = (exc.json_body or {}).get("error", {})
        pi = error.get("payment_intent") or {}
        raise CardDeclined(
            decline_message(error.get("decline_code") or exc.code),
            code=error.get("decline_code") or exc.code or "",
            payment_intent_id=pi.get("id") if isinstance(pi, dict) else None,
        ) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise GatewayError(UNREACHABLE) from exc
    except stripe.StripeError as exc:
        raise GatewayError(f"The card processor refused the request ({exc.__class__.__name__}).") from exc
    finally:
        STATS["calls"] += 1
        STATS["request_seconds"] += time.monotonic() - started


def _intent(obj) -> Intent:
    data = obj.to_dict()
    error = data.get("last_payment_error") or {}
    payment_method = data.get("payment_method")
    if isinstance(payment_method, dict):
        payment_method = payment_method.get("id")
    customer = data.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return Intent(
        id=data["id"],
        status=data["status"],
        client_secret=data.get("client_secret"),
        amount_cents=int(data.get("amount") or 0),
        payment_method_id=payment_method,
        error_code=error.get("decline_code") or error.get("code") or "",
        customer_id=customer,
    )


def customer_create(*, email: str, idempotency_key: str) -> str:
    customer = _call(
        client().v1.customers.create, params={"email": email}, options={"idempotency_key": idempotency_key}
    )
    return customer.id


def setup_intent_create(*, customer_id: str, idempotency_key: str) -> Intent:
    intent = _call(
        client().v1.setup_intents.create,
        params={"customer": customer_id, "payment_method_types": ["card"], "usage": "off_session"},
        options={"idempotency_key": idempotency_key},
    )
    return _intent(intent)


def setup_intent_confirm_test_card(intent_id: str) -> Intent:
    """Demo data only: confirm a SetupIntent with Stripe's test Visa (test mode and localstripe)."""
    return _intent(
        _call(client().v1.setup_intents.confirm, intent_id, params={"payment_method": "pm_card_visa"})
    )


def setup_intent_retrieve(intent_id: str) -> Intent:
    return _intent(_call(client().v1.setup_intents.retrieve, intent_id))


def card_retrieve(payment_method_id: str) -> Card:
    pm = _call(client().v1.payment_methods.retrieve, payment_method_id)
    card = pm.to_dict().get("card") or {}
    return Card(
        payment_method_id=pm.id,
        brand=card.get("brand", ""),
        last4=card.get("last4", ""),
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
    )


def card_detach(payment_method_id: str) -> None:
    _call(client().v1.payment_methods.detach, payment_method_id)


def payment_intent_create(
    *,
    amount_cents: int,
    customer_id: str,
    payment_method_id: str,
    idempotency_key: str,
    metadata: dict[str, str],
    off_session: bool = False,
) -> Intent:
    """Charge a card the customer has just confirmed (or saved). Raises CardDeclined."""
    params = {
        "amount": amount_cents,
        "currency": "usd",
        "customer": customer_id,
        "payment_method": payment_method_id,
        "confirm": True,
        "metadata": metadata,
    }
    if off_session:
        params["off_session"] = True
    return _intent(
        _call(client().v1.payment_intents.create, params=params, options={"idempotency_key": idempotency_key})
    )


def payment_intent_retrieve(intent_id: str) -> Intent:
    return _intent(_call(client().v1.payment_intents.retrieve, intent_id))


def refund_create(*, payment_intent_id: str, amount_cents: int, idempotency_key: str) -> tuple[str, str]:
    refund = _call(
        client().v1.refunds.create,
        params={"payment_intent": payment_intent_id, "amount": amount_cents},
        options={"idempotency_key": idempotency_key},
    )
    return refund.id, refund.status


def webhook_event(*, payload: bytes, signature: str) -> dict:
    """Verify a webhook's signature and age; raises ValueError for anything not from Stripe."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise ValueError("invalid webhook") from exc
    return event.to_dict()
