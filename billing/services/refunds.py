import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from billing import stripe_gateway as gateway
from billing.calendar import local_today
from billing.models import LedgerEntry, Payment, Refund
from billing.services.ledger import Posting, ledger_post, ledger_reverse
from kernel.audit import audit_record
from kernel.errors import ApplicationError
from kernel.money import ZERO


def _account_number(payment: Payment) -> str:
    return payment.service_account.account_number if payment.service_account_id else ""


# Refunds that count against what is left of a payment: all but those that failed or were declined.
SPENT = [Refund.Status.AWAITING_APPROVAL, Refund.Status.PENDING, Refund.Status.SUCCEEDED]


def refundable_amount(*, payment: Payment) -> Decimal:
    refunded = payment.refunds.filter(status__in=SPENT).aggregate(total=Sum("amount"))["total"]
    return payment.amount - (refunded or ZERO)


def _may_approve_own(user: User) -> bool:
    """In a one-person office (TWO_PERSON_RULE off) a supervisor's own large refund goes at once."""
    return not settings.TWO_PERSON_RULE and user.has_perm("billing.approve_refund")


def payment_refund(*, payment: Payment, amount: Decimal, reason: str, user: User) -> Refund:
    """Send money back to the card through Stripe, then post a reversing row for it.

    When this refund takes the payment's refunds above REFUND_APPROVAL_LIMIT (counted together,
    so a large refund cannot be split into small ones) it waits for a supervisor instead:
    `refund_approve` sends it. The Refund row is committed before Stripe is called, and
    Stripe's refund carries an idempotency key derived from it. Caller must not hold a
    transaction.
    """
    if payment.status != Payment.Status.SUCCEEDED or not payment.stripe_payment_intent_id:
        raise ApplicationError("Only a card payment that went through can be refunded.")
    if amount <= 0 or amount.as_tuple().exponent < -2:
        raise ApplicationError("Enter the refund in dollars and cents, more than zero.")
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Say why the payment is refunded.")
    with transaction.atomic():
        Payment.objects.select_for_update().get(pk=payment.pk)  # one refund decision at a time
        left = refundable_amount(payment=payment)
        if amount > left:
            raise ApplicationError(f"At most ${left:,.2f} of this payment can still be refunded.")
        refunded_with_this = payment.amount - left + amount
        waits = refunded_with_this > settings.REFUND_APPROVAL_LIMIT and not _may_approve_own(user)
        refund = Refund.objects.create(
            payment=payment,
            amount=amount,
            reason=reason[:200],
            created_by=user,
            status=Refund.Status.AWAITING_APPROVAL if waits else Refund.Status.PENDING,
        )
        audit_record(
            actor=user,
            action="refund.request" if waits else "refund.create",
            target=refund,
            summary=f"Refund of ${amount:,.2f} on payment {payment.confirmation_number}"
            + (" (waits for a supervisor)" if waits else "")
            + f": {reason}",
            changes={"payment": payment.confirmation_number, "amount": amount, "reason": reason},
            account_number=_account_number(payment),
        )
    if waits:
        return refund
    return _refund_send(refund=refund)


def refund_approve(*, refund: Refund, user: User) -> Refund:
    """A supervisor's approval of a refund above the limit: recorded, then sent to Stripe.

    Under the two-person rule the person who asked for it cannot approve it. Safe to repeat:
    only the request that moves it out of the queue sends it. Caller must not hold a transaction.
    """
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
        _check_reviewable(refund, user)
        # The payment may have been returned or disputed while the refund waited.
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        if payment.status != Payment.Status.SUCCEEDED:
            raise ApplicationError(
                f"Payment {payment.confirmation_number} is {payment.get_status_display().lower()} now; "
                "decline this refund instead."
            )
        refund.status = Refund.Status.PENDING
        refund.reviewed_by = user
        refund.reviewed_at = timezone.now()
        refund.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        audit_record(
            actor=user,
            action="refund.approve",
            target=refund,
            summary=f"Approved the refund of ${refund.amount:,.2f} on payment "
            f"{refund.payment.confirmation_number} asked for by {refund.created_by.email}",
            changes={"status": ["awaiting_approval", "pending"], "requested_by": refund.created_by.email},
            account_number=_account_number(refund.payment),
        )
    return _refund_send(refund=refund)


def refund_decline(*, refund: Refund, user: User, reason: str) -> Refund:
    """A supervisor turns a refund above the limit down; nothing goes back to the card."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Say why the refund is declined.")
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
        _check_reviewable(refund, user)
        refund.status = Refund.Status.DECLINED
        refund.reviewed_by = user
        refund.reviewed_at = timezone.now()
        refund.decision_reason = reason[:300]
        refund.save(update_fields=["status", "reviewed_by", "reviewed_at", "decision_reason"])
        audit_record(
            actor=user,
            action="refund.decline",
            target=refund,
            summary=f"Declined the refund of ${refund.amount:,.2f} on payment "
            f"{refund.payment.confirmation_number}: {reason}",
            changes={"status": ["awaiting_approval", "declined"], "reason": reason},
            account_number=_account_number(refund.payment),
        )
    return refund


def _check_reviewable(refund: Refund, user: User) -> None:
    if refund.status != Refund.Status.AWAITING_APPROVAL:
        raise ApplicationError(
            f"This refund is not waiting for approval; it is {refund.get_status_display()}."
        )
    if settings.TWO_PERSON_RULE and refund.created_by_id == user.pk:
        raise ApplicationError("You asked for this refund, so another supervisor must decide it.")


def _refund_send(*, refund: Refund) -> Refund:
    """Stripe's refund for a row committed as PENDING, then the reversing ledger row."""
    payment = refund.payment
    amount, reason = refund.amount, refund.reason
    try:
        refund_id, status = gateway.refund_create(
            payment_intent_id=payment.stripe_payment_intent_id,
            amount_cents=int(amount * 100),
            idempotency_key=refund.idempotency_key,
        )
    except (gateway.GatewayError, gateway.CardDeclined) as exc:
        Refund.objects.filter(pk=refund.pk).update(
            status=Refund.Status.FAILED, failure_message=str(exc)[:300]
        )
        raise ApplicationError(f"Stripe did not make the refund: {exc}") from exc
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        refund.stripe_refund_id = refund_id
        refund.status = Refund.Status.FAILED if status in ("failed", "canceled") else Refund.Status.SUCCEEDED
        if refund.status == Refund.Status.SUCCEEDED and payment.ledger_entry_id:
            refund.ledger_entry = ledger_reverse(
                entry=payment.ledger_entry,
                amount=amount,
                posted_on=local_today(),
                source_key=f"refund:{refund.pk}",
                description=f"Refund of payment {payment.confirmation_number}: {reason}"[:200],
            )
        refund.save()
    return refund


def payment_return_check(
    *, payment: Payment, returned_on: dt.date, fee: Decimal = ZERO, user: User | None = None
) -> Payment:
    """A check came back unpaid: reverse its ledger row and, optionally, charge the returned-check fee."""
    if (
        payment.method not in (Payment.Method.CHECK, Payment.Method.BANK)
        or payment.status != Payment.Status.SUCCEEDED
    ):
        raise ApplicationError("Only a posted check or bank payment can be returned.")
    if fee < 0:
        raise ApplicationError("The returned-check fee cannot be negative.")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status == Payment.Status.RETURNED:
            return payment
        if payment.ledger_entry_id:
            ledger_reverse(
                entry=payment.ledger_entry,
                posted_on=returned_on,
                source_key=f"returned:{payment.pk}",
                description=f"Returned check {payment.check_number or payment.confirmation_number}",
            )
            if fee > 0:
                ledger_post(
                    postings=[
                        Posting(
                            service_account_id=payment.service_account_id,
                            kind=LedgerEntry.Kind.ADJUSTMENT,
                            amount=fee,
                            posted_on=returned_on,
                            due_date=returned_on,
                            description="Returned check fee",
                            source_key=f"returned-fee:{payment.pk}",
                        )
                    ]
                )
        payment.status = Payment.Status.RETURNED
        audit_record(
            actor=user,
            action="payment.return",
            target=payment,
            summary=f"Returned payment {payment.confirmation_number} (${payment.amount:,.2f}), fee ${fee:,.2f}",
            changes={"status": ["succeeded", "returned"], "amount": payment.amount, "fee": fee},
            account_number=_account_number(payment),
        )
        payment.failure_message = "Check returned by the bank"
        payment.save(update_fields=["status", "failure_message", "updated_at"])
    return payment
