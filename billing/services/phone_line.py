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
from accounts.notifications import users_for_account
from billing import stripe_gateway as gateway
from billing.calendar import local_today
from billing.models import Payment
from billing.services.payments import payment_settle
from kernel.errors import ApplicationError

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


def _token(call: Call) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"twilio-call:{call.sid}")


def payment_prepare(*, call: Call, account: ServiceAccount, amount: Decimal) -> Payment:
    """The call's payment, written before the card is asked for: whatever happens to the call's
    state after, Twilio's result finds the account and the amount here. Another card after a
    decline reuses it (with the amount now chosen)."""
    payment, created = Payment.objects.get_or_create(
        client_token=_token(call),
        defaults={
            "service_account": account,
            "amount": amount,
            "channel": Payment.Channel.PHONE_LINE,
            "method": Payment.Method.CARD,
            "received_on": local_today(),
            "receipt_email": _receipt_email(account),
        },
    )
    if (
        not created
        and not payment.is_final
        and not payment.stripe_payment_intent_id
        and payment.amount != amount
    ):
        Payment.objects.filter(pk=payment.pk, stripe_payment_intent_id__isnull=True).update(amount=amount)
        payment.refresh_from_db()
    return payment


def call_payment(call: Call) -> Payment | None:
    return Payment.objects.filter(client_token=_token(call)).select_related("service_account").first()


def payment_record(*, call: Call, confirmation_code: str, card_number: str, card_type: str) -> Payment:
    """Twilio's connector charged the card: the PaymentIntent it names is asked of Stripe, and the
    call's payment posts once (a retried request finds it settled). Twilio may name a charge
    (ch_...) or a PaymentIntent (pi_...); a charge is followed to its PaymentIntent."""
    payment = call_payment(call)
    if payment is None:
        raise ApplicationError("This call has no payment.")
    if payment.is_final:
        return payment
    if not confirmation_code.startswith(("pi_", "ch_")):
        raise ApplicationError("Twilio named no payment.")
    try:
        intent_id = (
            gateway.charge_payment_intent_id(confirmation_code)
            if confirmation_code.startswith("ch_")
            else confirmation_code
        )
        Payment.objects.filter(pk=payment.pk, stripe_payment_intent_id__isnull=True).update(
            stripe_payment_intent_id=intent_id,
            card_brand=(card_type or "")[:20],
            card_last4=digits(card_number)[-4:],
        )
        payment.refresh_from_db()
        if payment.stripe_payment_intent_id != intent_id:
            raise ApplicationError("The payment Twilio names is not the one this call made.")
        return payment_settle(payment=payment, intent=gateway.payment_intent_retrieve(intent_id))
    except gateway.GatewayError:
        return payment  # pending with its PaymentIntent: reconciliation asks Stripe again


def _receipt_email(account: ServiceAccount) -> str:
    """The account's own email, or its first linked login's."""
    users = users_for_account(service_account=account)
    return account.email or (users[0].email if users else "")
