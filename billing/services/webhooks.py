from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Payment, StripeEvent
from billing.services.payments import payment_refresh


def stripe_event_receive(*, event: dict) -> bool:
    """Store a verified webhook event once and act on it; False for a duplicate delivery.

    Handlers re-read the payment's state from Stripe, so events may arrive in any order,
    before or after the customer's browser returns.
    """
    try:
        with transaction.atomic():
            stored, created = StripeEvent.objects.get_or_create(
                event_id=event["id"], defaults={"type": event["type"], "payload": event}
            )
    except IntegrityError:  # the same event arriving twice at the same moment
        return False
    if not created and stored.processed_at is not None:
        return False  # delivered before, and handled
    if event["type"].startswith("payment_intent."):
        intent = event["data"]["object"]
        payment = Payment.objects.filter(stripe_payment_intent_id=intent["id"]).first()
        if payment is None:
            payment_id = (intent.get("metadata") or {}).get("payment_id")
            if payment_id and payment_id.isdigit():
                # The webhook beat our own call's answer: record which intent is the payment's.
                Payment.objects.filter(pk=int(payment_id), stripe_payment_intent_id__isnull=True).update(
                    stripe_payment_intent_id=intent["id"]
                )
                payment = Payment.objects.filter(
                    pk=int(payment_id), stripe_payment_intent_id=intent["id"]
                ).first()
        if payment is not None:
            payment_refresh(payment=payment)
    StripeEvent.objects.filter(pk=stored.pk).update(processed_at=timezone.now())
    return True
