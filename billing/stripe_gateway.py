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

# Every decline and card error code Stripe documents, in words a customer can act on. Codes
# that mean the same to the customer share a sentence. `decline_code` is looked up first, then
# the error's `code`; anything else gets GENERIC_DECLINE. The browser gets the same table
# (billing's `card_error_messages` tag), so Stripe.js's own English never reaches the page.
_TRY_ANOTHER = _("Your card was declined. Please try another card or call your bank.")
_CALL_BANK = _("Your bank declined the payment. Please call your bank, or try another card.")
_TRY_AGAIN = _("Your bank could not process the payment just now. Please try again in a few minutes.")
_NOT_ALLOWED = _("Your card cannot be used for this kind of payment. Please try another card.")
_NUMBER = _("The card number is not right. Please check it and try again.")
_CVC = _("The security code does not match the card. Please check it and try again.")
_EXPIRY = _("The expiry date is not right. Please check it and try again.")
_NOT_CONFIRMED = _(
    "The payment was not confirmed with your bank, so nothing was charged. Please try again and "
    "complete your bank's check."
)
DECLINE_MESSAGES = {
    "insufficient_funds": _("Your card was declined for insufficient funds. Please try another card."),
    "card_velocity_exceeded": _(
        "Your card has reached its limit for now. Please try another card or call your bank."
    ),
    "withdrawal_count_exceeded": _(
        "Your card has reached its limit for now. Please try another card or call your bank."
    ),
    "expired_card": _("Your card has expired. Please use another card."),
    "incorrect_cvc": _CVC,
    "invalid_cvc": _CVC,
    "incorrect_number": _NUMBER,
    "invalid_number": _NUMBER,
    "invalid_expiry_month": _EXPIRY,
    "invalid_expiry_year": _EXPIRY,
    "invalid_expiry_year_past": _("Your card has expired. Please use another card."),
    "incomplete_number": _("The card number is incomplete. Please enter all of it."),
    "incomplete_cvc": _("The security code is incomplete. Please enter all of it."),
    "incomplete_expiry": _("The expiry date is incomplete. Please enter the month and year."),
    "incomplete_zip": _(
        "The ZIP code is incomplete. Please enter the ZIP code of your card's billing address."
    ),
    "incorrect_zip": _("The ZIP code does not match your card's billing address. Please check it."),
    "postal_code_invalid": _("The ZIP code does not match your card's billing address. Please check it."),
    "incorrect_pin": _CALL_BANK,
    "invalid_pin": _CALL_BANK,
    "pin_try_exceeded": _CALL_BANK,
    "offline_pin_required": _CALL_BANK,
    "online_or_offline_pin_required": _CALL_BANK,
    "processing_error": _TRY_AGAIN,
    "issuer_not_available": _TRY_AGAIN,
    "try_again_later": _TRY_AGAIN,
    "reenter_transaction": _TRY_AGAIN,
    "rate_limit": _TRY_AGAIN,
    "lost_card": _TRY_ANOTHER,
    "stolen_card": _TRY_ANOTHER,
    "pickup_card": _TRY_ANOTHER,
    "restricted_card": _TRY_ANOTHER,
    "fraudulent": _TRY_ANOTHER,
    "merchant_blacklist": _TRY_ANOTHER,
    "security_violation": _TRY_ANOTHER,
    "generic_decline": _TRY_ANOTHER,
    "no_action_taken": _TRY_ANOTHER,
    "not_permitted": _TRY_ANOTHER,
    "revocation_of_all_authorizations": _TRY_ANOTHER,
    "revocation_of_authorization": _TRY_ANOTHER,
    "stop_payment_order": _TRY_ANOTHER,
    "do_not_honor": _CALL_BANK,
    "do_not_try_again": _CALL_BANK,
    "call_issuer": _CALL_BANK,
    "approve_with_id": _CALL_BANK,
    "card_declined": _("Your card was declined by your bank. Please try another card or call your bank."),
    "card_not_supported": _NOT_ALLOWED,
    "currency_not_supported": _NOT_ALLOWED,
    "service_not_allowed": _NOT_ALLOWED,
    "transaction_not_allowed": _NOT_ALLOWED,
    "invalid_account": _("The card or its account is not valid. Please try another card."),
    "new_account_information_available": _(
        "Your bank has new details for this card. Please enter the card again, or try another card."
    ),
    "invalid_amount": _(
        "Your bank would not accept this amount. Please call your bank, or try another card."
    ),
    "duplicate_transaction": _(
        "Your bank saw a payment of the same amount from this card moments ago and stopped this one. "
        "Check your receipts before trying again."
    ),
    "testmode_decline": _("This is a test card, which cannot be charged. Please use a real card."),
    "authentication_required": _("Your bank needs you to confirm this payment. Please try again."),
    "payment_intent_authentication_failure": _NOT_CONFIRMED,
    "setup_intent_authentication_failure": _NOT_CONFIRMED,
    "payment_method_not_available": _TRY_AGAIN,
    "payment_intent_unexpected_state": _(
        "This payment was already completed or stopped. Please reload the page to see where it stands."
    ),
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


def charge_payment_intent_id(charge_id: str) -> str:
    """The PaymentIntent a charge belongs to (a connector may name the charge)."""
    charge = _call(client().v1.charges.retrieve, charge_id).to_dict()
    intent = charge.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if not intent:
        raise GatewayError(f"Charge {charge_id} has no PaymentIntent.")
    return intent


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
