"""Pay by phone, 24 hours a day: an automated line through Twilio Voice.

The caller keys the account number and the service ZIP code, hears the amount due and its due
date, accepts it or keys another amount, and gives the card to Twilio's <Pay> verb, whose Stripe
connector charges it: the card's digits go from Twilio to Stripe and never reach the portal. Twilio
then tells the portal the PaymentIntent it made; the portal asks Stripe for it, and posts the
payment once (the call's id is the payment's key, so a retried request finds the same payment),
reads the confirmation number back and sends it by text or email.

A call's progress (its language, the account found, the amount) is kept in the cache under
Twilio's CallSid for an hour.
"""

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache

from accounts.models import ServiceAccount
from billing import stripe_gateway as gateway
from billing.models import Payment
from billing.services.payments import account_payment_check, payment_settle
from portal.errors import ApplicationError

CALL_SECONDS = 3600
MAX_TRIES = 3


@dataclass
class Call:
    sid: str
    language: str = "en"
    account_id: int | None = None
    account_digits: str = ""
    tries: int = 0
    amount: str = ""

    @property
    def key(self) -> str:
        return f"phone-line:{self.sid}"

    def save(self) -> None:
        cache.set(self.key, self.__dict__, timeout=CALL_SECONDS)


def call_get(sid: str) -> Call:
    data = cache.get(f"phone-line:{sid}")
    return Call(**data) if data else Call(sid=sid)


def call_end(sid: str) -> None:
    cache.delete(f"phone-line:{sid}")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def account_find(*, account_digits: str, zip_code: str) -> ServiceAccount | None:
    """The active account whose number, keyed without its dashes, and service ZIP code match."""
    if not account_digits or len(zip_code) != 5:
        return None
    for account in ServiceAccount.objects.filter(service_zip=zip_code, status=ServiceAccount.Status.ACTIVE):
        if digits(account.account_number) == account_digits:
            return account
    return None


def amount_from_keys(keys: str) -> Decimal | None:
    """Dollars and cents keyed without a point: "4510" is $45.10."""
    keyed = digits(keys)
    if not keyed or len(keyed) > 9:
        return None
    return (Decimal(keyed) / 100).quantize(Decimal("0.01"))


def amount_check(*, account: ServiceAccount, amount: Decimal) -> None:
    account_payment_check(amount=amount, service_account=account)


def payment_record(
    *, call: Call, account: ServiceAccount, intent_id: str, card_number: str, card_type: str
) -> Payment:
    """The payment Twilio's connector made, recorded and posted once: the call is its key, so
    Twilio retrying the request finds it. Stripe is asked for the PaymentIntent before anything
    posts; its amount must be the amount the caller agreed."""
    token = uuid.uuid5(uuid.NAMESPACE_URL, f"twilio-call:{call.sid}")
    payment = Payment.objects.filter(client_token=token).first()
    if payment is None:
        payment, _ = Payment.objects.get_or_create(
            client_token=token,
            defaults={
                "service_account": account,
                "amount": Decimal(call.amount),
                "channel": Payment.Channel.PHONE_LINE,
                "method": Payment.Method.CARD,
                "received_on": _today(),
                "stripe_payment_intent_id": intent_id or None,
                "card_brand": (card_type or "")[:20],
                "card_last4": digits(card_number)[-4:],
                "receipt_email": account.email or _login_email(account),
            },
        )
    if payment.stripe_payment_intent_id != intent_id:
        raise ApplicationError("The payment Twilio names is not the one this call made.")
    try:
        return payment_settle(payment=payment, intent=gateway.payment_intent_retrieve(intent_id))
    except gateway.GatewayError:
        return payment  # pending: reconciliation asks Stripe again every 15 minutes


def _today():
    from billing.calendar import local_today

    return local_today()


def _login_email(account: ServiceAccount) -> str:
    from accounts.notifications import users_for_account

    users = users_for_account(service_account=account)
    return users[0].email if users else ""
