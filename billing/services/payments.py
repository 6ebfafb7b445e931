"""Card payments through Stripe: record, charge, settle exactly once.

Invariants:
- A Payment row is committed (PENDING) before Stripe is called, and no database
  transaction is held while Stripe is called.
- Only the request that claims the row (an UPDATE that succeeds once) creates the
  PaymentIntent, with an idempotency key derived from the row: a double click, a second
  tab or a browser retry never charges twice.
- A succeeded payment reaches the ledger once (source key payment:<id>), whichever of the
  return page, the webhook or reconciliation settles it first; each re-reads Stripe.
"""

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount, User
from billing import stripe_gateway as gateway
from billing.calendar import local_today
from billing.models import BillingAccount, Invoice, LedgerEntry, Payment, SavedCard, StripeCustomer
from billing.services.ledger import Posting, ledger_post
from kernel.audit import audit_record
from kernel.db import rows_update
from kernel.errors import ApplicationError
from kernel.money import ZERO, money
from kernel.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

MINIMUM_PAYMENT = Decimal("1.00")


@dataclass(frozen=True)
class ChargeOutcome:
    payment: Payment
    client_secret: str | None = None  # set when the bank asks the customer to confirm (3-D Secure)
    message: str = ""
    code: str = ""  # the bank's decline code, when declined


def bank_payments_pending_total(*, service_account: ServiceAccount) -> Decimal:
    """Bank debits made but not yet settled (they post on their settlement date): counted as paid
    when a customer is told what is owed, so nobody pays twice while one is on its way."""
    total = (
        Payment.objects.filter(
            service_account=service_account, method=Payment.Method.BANK, status=Payment.Status.PENDING
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    return total


def _balance_less_pending(service_account: ServiceAccount) -> Decimal:
    billing = BillingAccount.objects.filter(pk=service_account.pk).first()
    balance = billing.balance if billing else ZERO
    return balance - bank_payments_pending_total(service_account=service_account)


def amount_owed(*, service_account: ServiceAccount) -> Decimal:
    return max(_balance_less_pending(service_account), ZERO)


def payment_limit(*, service_account: ServiceAccount) -> Decimal:
    """The most one payment may be: what is owed, plus a credit for future bills up to
    PAYMENT_CREDIT_LIMIT (less any credit the account already has, and less bank payments on
    their way)."""
    return max(_balance_less_pending(service_account) + Decimal(settings.PAYMENT_CREDIT_LIMIT), ZERO)


def invoice_amount_open(*, invoice: Invoice) -> Decimal:
    paid = sum((p.amount for p in invoice.payments.filter(status=Payment.Status.SUCCEEDED)), ZERO)
    return max(invoice.amount - paid, ZERO)


def payment_amount_check(*, amount: Decimal, limit: Decimal, owed: Decimal | None = None) -> None:
    """`owed` is given when the limit allows a credit beyond what is owed (account payments)."""
    if amount < MINIMUM_PAYMENT:
        raise ApplicationError(_("The smallest payment we can take online is $1.00."))
    if amount > limit and owed is not None:
        raise ApplicationError(
            format_lazy(
                _(
                    "That is more than we can take in one payment ({limit}: what is owed, {owed}, "
                    "plus a credit for future bills). Please enter {limit} or less."
                ),
                limit=money(limit),
                owed=money(owed),
            )
        )
    if amount > limit:
        raise ApplicationError(
            format_lazy(
                _("That is more than what is owed ({limit}). Please enter {limit} or less."),
                limit=money(limit),
            )
        )
    if amount.as_tuple().exponent < -2:
        raise ApplicationError(_("Enter the amount in dollars and cents, like 45.10."))


def account_payment_check(*, amount: Decimal, service_account: ServiceAccount) -> None:
    """An account payment: at least the minimum, at most what is owed plus the allowed credit."""
    payment_amount_check(
        amount=amount,
        limit=payment_limit(service_account=service_account),
        owed=amount_owed(service_account=service_account),
    )


def stripe_customer_for_user(*, user: User) -> str:
    """The Stripe customer that holds this login's saved cards (created once)."""
    existing = StripeCustomer.objects.filter(user=user).first()
    if existing:
        return existing.customer_id
    customer_id = gateway.customer_create(email=user.email, idempotency_key=f"portal-user-{user.pk}-customer")
    StripeCustomer.objects.get_or_create(user=user, defaults={"customer_id": customer_id})
    return StripeCustomer.objects.get(user=user).customer_id


def _customer_for(*, payment: Payment, user: User | None) -> str:
    """A login keeps one Stripe customer (its saved cards live there); a guest, or a caller
    paying by phone through a clerk, gets one per payment."""
    if user is not None and user.is_authenticated:
        return stripe_customer_for_user(user=user)
    return gateway.customer_create(
        email=payment.receipt_email or "", idempotency_key=f"portal-payment-{payment.pk}-customer"
    )


def payment_start(
    *,
    client_token: uuid.UUID,
    amount: Decimal,
    channel: str,
    user: User | None,
    service_account: ServiceAccount | None = None,
    clerk: User | None = None,
    invoice: Invoice | None = None,
    receipt_email: str = "",
    save_card: bool = False,
) -> tuple[Payment, str]:
    """Record the payment (PENDING) and open a SetupIntent for the card; returns its client secret.

    The same client_token returns the same payment: the form was submitted twice. `user` is
    the paying customer's login (None for a guest); `clerk` is staff taking the card by phone.
    Caller must not hold a transaction (Stripe is called here).
    """
    existing = Payment.objects.filter(client_token=client_token).first()
    if existing is None:
        if service_account is not None:
            account_payment_check(amount=amount, service_account=service_account)
        else:
            payment_amount_check(amount=amount, limit=invoice_amount_open(invoice=invoice))
        with transaction.atomic():  # the clerk's record commits with the payment
            existing, created = Payment.objects.get_or_create(
                client_token=client_token,
                defaults={
                    "service_account": service_account,
                    "invoice": invoice,
                    "amount": amount,
                    "channel": channel,
                    "method": Payment.Method.CARD,
                    "received_on": local_today(),
                    "receipt_email": receipt_email or (user.email if user and user.is_authenticated else ""),
                    "created_by": clerk or (user if user and user.is_authenticated else None),
                    "save_card": save_card and bool(user and user.is_authenticated),
                },
            )
            if created and clerk is not None:
                audit_record(
                    actor=clerk,
                    action="payment.phone",
                    target=existing,
                    summary=f"Took a card payment by phone: ${amount:,.2f}",
                    changes={"amount": amount, "channel": channel},
                    account_number=service_account.account_number if service_account else "",
                )
    elif existing.amount != amount:
        raise ApplicationError(
            _("This payment was started with other details. Please reload the page and try again.")
        )
    payment = existing
    if payment.is_final or payment.stripe_payment_method_id:
        raise ApplicationError(_("This payment was already submitted."))
    if not payment.stripe_setup_intent_id:
        customer_id = _customer_for(payment=payment, user=user)
        intent = gateway.setup_intent_create(
            customer_id=customer_id, idempotency_key=f"{payment.idempotency_key}-setup"
        )
        Payment.objects.filter(pk=payment.pk, stripe_setup_intent_id="").update(
            stripe_customer_id=customer_id, stripe_setup_intent_id=intent.id
        )
        payment.refresh_from_db()
    intent = gateway.setup_intent_retrieve(payment.stripe_setup_intent_id)
    return payment, intent.client_secret or ""


def payment_charge(*, payment: Payment, setup_intent_id: str) -> ChargeOutcome:
    """Charge the card the customer just confirmed on the payment's SetupIntent.

    Only one request claims the payment; any other gets its current state back.
    Caller must not hold a transaction.
    """
    if setup_intent_id != payment.stripe_setup_intent_id:
        raise ApplicationError(_("That card confirmation does not belong to this payment."))
    setup = gateway.setup_intent_retrieve(setup_intent_id)
    if setup.status != "succeeded" or not setup.payment_method_id:
        raise ApplicationError(_("The card was not confirmed. Please enter it again."))
    claimed = Payment.objects.filter(
        pk=payment.pk, status=Payment.Status.PENDING, stripe_payment_method_id=""
    ).update(stripe_payment_method_id=setup.payment_method_id)
    payment.refresh_from_db()
    if not claimed:
        return ChargeOutcome(payment=payment)  # a double submit: the first request is charging
    card = gateway.card_retrieve(setup.payment_method_id)
    Payment.objects.filter(pk=payment.pk).update(card_brand=card.brand, card_last4=card.last4)
    return payment_intent_submit(
        payment=payment, payment_method_id=setup.payment_method_id, off_session=False
    )


def payment_with_saved_card(
    *,
    client_token: uuid.UUID,
    amount: Decimal,
    user: User,
    service_account: ServiceAccount,
    card: SavedCard,
    off_session: bool = False,
) -> ChargeOutcome:
    """Pay now with a card the login saved: one step, and the bank's own check (3-D Secure)
    only if the bank asks for it on this payment (`off_session`: the customer is not at a page,
    as when paying by text, so a bank that asks declines).

    The same client_token finds the same payment, and only the request that claims it calls
    Stripe: a double click charges once. Caller must not hold a transaction.
    """
    if card.user_id != user.pk or card.removed_at is not None:
        raise ApplicationError(_("Choose one of your own saved cards."))
    if (card.exp_year, card.exp_month) < (local_today().year, local_today().month):
        raise ApplicationError(_("That card has expired. Please choose another or enter a new card."))
    payment = Payment.objects.filter(client_token=client_token).first()
    if payment is None:
        account_payment_check(amount=amount, service_account=service_account)
        payment, _created = Payment.objects.get_or_create(
            client_token=client_token,
            defaults={
                "service_account": service_account,
                "amount": amount,
                "channel": Payment.Channel.ONLINE,
                "method": Payment.Method.CARD,
                "received_on": local_today(),
                "receipt_email": user.email,
                "created_by": user,
                "stripe_customer_id": stripe_customer_for_user(user=user),
                "card_brand": card.brand,
                "card_last4": card.last4,
            },
        )
    elif (
        payment.stripe_setup_intent_id
        or payment.amount != amount
        or payment.created_by_id != user.pk
        or payment.service_account_id != service_account.pk
        or payment.stripe_payment_method_id not in ("", card.stripe_payment_method_id)
    ):
        # The form's token was first used for something else (a new card, another amount): it
        # must not charge this card for that.
        raise ApplicationError(
            _("This payment was started with other details. Please reload the page and try again.")
        )
    claimed = Payment.objects.filter(
        pk=payment.pk, status=Payment.Status.PENDING, stripe_payment_method_id=""
    ).update(stripe_payment_method_id=card.stripe_payment_method_id)
    payment.refresh_from_db()
    if not claimed:
        return ChargeOutcome(payment=payment)  # a double submit: the first request is charging
    try:
        return payment_intent_submit(
            payment=payment, payment_method_id=card.stripe_payment_method_id, off_session=off_session
        )
    except gateway.GatewayError:
        # Stripe may or may not have charged: the claimed payment is finished by reconciliation
        # with the same idempotency key, and the receipt page says where it stands. Telling the
        # customer to try again here could charge them twice.
        logger.warning(
            "Stripe unreachable while charging payment %s; reconciliation will finish it", payment.pk
        )
        return ChargeOutcome(payment=payment)


def payment_intent_submit(
    *, payment: Payment, payment_method_id: str, off_session: bool, metadata: dict[str, str] | None = None
) -> ChargeOutcome:
    """Create the payment's PaymentIntent (idempotency key from the payment row) and settle it.

    Caller must not hold a transaction, and must have claimed the payment.
    """
    try:
        intent = payment_intent_create(
            payment=payment, payment_method_id=payment_method_id, off_session=off_session, metadata=metadata
        )
    except gateway.CardDeclined as exc:
        return payment_declined(payment=payment, exc=exc)
    Payment.objects.filter(pk=payment.pk, stripe_payment_intent_id__isnull=True).update(
        stripe_payment_intent_id=intent.id
    )
    payment.refresh_from_db()
    payment = payment_settle(payment=payment, intent=intent)
    if intent.needs_action:
        return ChargeOutcome(payment=payment, client_secret=intent.client_secret)
    return ChargeOutcome(payment=payment, message=payment.failure_message)


def payment_intent_create(
    *, payment: Payment, payment_method_id: str, off_session: bool, metadata: dict[str, str] | None = None
) -> gateway.Intent:
    """Stripe's PaymentIntent for a claimed payment, under the payment's idempotency key: asked
    twice, Stripe answers with the first. Raises gateway.CardDeclined and gateway.GatewayError."""
    return gateway.payment_intent_create(
        amount_cents=payment.amount_cents,
        customer_id=payment.stripe_customer_id,
        payment_method_id=payment_method_id,
        idempotency_key=payment.idempotency_key,
        metadata={
            "payment_id": str(payment.pk),
            "confirmation_number": payment.confirmation_number,
            **(metadata or {}),
        },
        off_session=off_session,
    )


def payment_declined(*, payment: Payment, exc: gateway.CardDeclined) -> ChargeOutcome:
    """Record a declined card on the payment (never over one that succeeded meanwhile)."""
    Payment.objects.filter(pk=payment.pk).exclude(status=Payment.Status.SUCCEEDED).update(
        status=Payment.Status.FAILED,
        failure_message=exc.message,
        stripe_payment_intent_id=exc.payment_intent_id,
    )
    payment.refresh_from_db()
    return ChargeOutcome(payment=payment, message=exc.message, code=exc.code)


def payment_refresh(*, payment: Payment) -> Payment:
    """Ask Stripe where the payment stands and settle it. Safe to call any number of times."""
    if payment.is_final or not payment.stripe_payment_intent_id:
        return payment
    return payment_settle(
        payment=payment, intent=gateway.payment_intent_retrieve(payment.stripe_payment_intent_id)
    )


def payment_settle(*, payment: Payment, intent: gateway.Intent) -> Payment:
    """Record what Stripe says of the payment's intent; post it to the ledger once if it succeeded."""
    return payments_settle(settled=[(payment, intent)])[0]


def payments_settle(*, settled: list[tuple[Payment, gateway.Intent]]) -> list[Payment]:
    """payment_settle for many payments at once (an autopay chunk): in one transaction, with the
    payments locked in key order, the succeeded ones posted to the ledger together. Returns the
    payments as they stand, in the order given."""
    with transaction.atomic():
        locked = {
            p.pk: p
            for p in Payment.objects.select_for_update()
            .filter(pk__in=[payment.pk for payment, _ in settled])
            .order_by("pk")
        }
        succeeded = []
        for payment, intent in settled:
            payment = locked[payment.pk]
            if payment.is_final:
                continue
            fresh = payment.stripe_payment_intent_id is None
            if fresh:
                payment.stripe_payment_intent_id = intent.id
            if intent.succeeded:
                if intent.amount_cents != payment.amount_cents:
                    raise ApplicationError(
                        f"Stripe charged {intent.amount_cents} cents for payment {payment.pk}."
                    )
                succeeded.append(payment)
            elif intent.needs_action:
                payment.status = Payment.Status.REQUIRES_ACTION
                payment.save(update_fields=["status", "stripe_payment_intent_id", "updated_at"])
            elif intent.failed:
                payment.status = Payment.Status.FAILED
                payment.failure_message = gateway.decline_message(intent.error_code)
                payment.settled_at = timezone.now()
                payment.save(
                    update_fields=[
                        "status",
                        "failure_message",
                        "settled_at",
                        "stripe_payment_intent_id",
                        "updated_at",
                    ]
                )
            elif fresh:  # still processing: the intent is kept, for the reconciliation
                payment.save(update_fields=["stripe_payment_intent_id", "updated_at"])
        _post_succeeded(succeeded)
    return [locked[payment.pk] for payment, _ in settled]


def payment_settle_offline(*, payment: Payment) -> Payment:
    """A payment that does not pass through Stripe (a bank draft sent in the NACHA file):
    post it to the ledger once."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != Payment.Status.SUCCEEDED:
            _post_succeeded([payment])
    return payment


def _post_succeeded(payments: list[Payment]) -> None:
    """Within the caller's transaction, with the payment rows locked: post each to the ledger
    (one row per payment, ever), mark it succeeded, and owe its receipt to the queue."""
    if not payments:
        return
    postings = [
        Posting(
            service_account_id=payment.service_account_id,
            kind=LedgerEntry.Kind.PAYMENT,
            amount=-payment.amount,
            posted_on=payment.received_on,
            description=f"Payment {payment.confirmation_number}, {_paid_with(payment)}",
            source_key=f"payment:{payment.pk}",
        )
        for payment in payments
        if payment.service_account_id
    ]
    entries = {entry.source_key: entry for entry in ledger_post(postings=postings)}
    replayed = [p.source_key for p in postings if p.source_key not in entries]
    if replayed:
        entries.update(
            (entry.source_key, entry) for entry in LedgerEntry.objects.filter(source_key__in=replayed)
        )
    now = timezone.now()
    for payment in payments:
        if payment.service_account_id:
            payment.ledger_entry = entries[f"payment:{payment.pk}"]
        payment.status = Payment.Status.SUCCEEDED
        payment.settled_at = now
        payment.failure_message = ""
        payment.updated_at = now
    rows_update(
        Payment,
        payments,
        ["status", "settled_at", "failure_message", "ledger_entry", "stripe_payment_intent_id", "updated_at"],
    )
    # The receipts are owed to the queue with the payments: with Redis down they wait (kernel.outbox).
    outbox_enqueue(
        "billing.tasks.payments_after_success", [[payment.pk for payment in payments]], items=len(payments)
    )


def _paid_with(payment: Payment) -> str:
    if payment.card_last4:
        return f"{payment.card_brand.title()} ending {payment.card_last4}"
    return str(payment.get_method_display())


def payment_keep_card(*, payment: Payment) -> SavedCard | None:
    """Keep the card for later when the customer asked to (what autopay will use)."""
    if not (payment.save_card and payment.created_by_id and payment.stripe_payment_method_id):
        return None
    card = gateway.card_retrieve(payment.stripe_payment_method_id)
    saved, _created = SavedCard.objects.get_or_create(
        stripe_payment_method_id=card.payment_method_id,
        defaults={
            "user_id": payment.created_by_id,
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        },
    )
    return saved


def payments_reconcile(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> dict[str, int]:
    """Settle payments left unfinished: ask Stripe about each, and retire abandoned ones.

    - with a PaymentIntent: re-read it and settle;
    - claimed but with no PaymentIntent recorded (the process stopped mid-call): create it
      again with the same idempotency key, which real Stripe answers with the original;
    - never submitted for a day: canceled (nothing was charged).
    """
    now = timezone.now()
    counts = {"settled": 0, "still_open": 0, "canceled": 0}
    open_statuses = [Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION]
    # Payments keyed into a batch wait for the batch to be posted, however long that takes, and
    # bank debits (never through Stripe) wait for their NACHA file to settle, days later.
    stale = (
        Payment.objects.filter(status__in=open_statuses, updated_at__lt=now - older_than, batch__isnull=True)
        .exclude(method=Payment.Method.BANK)
        .order_by("pk")
    )
    for payment in stale.iterator():
        try:
            if payment.stripe_payment_intent_id:
                payment = payment_refresh(payment=payment)
            elif payment.stripe_payment_method_id:
                payment = payment_intent_submit(
                    payment=payment, payment_method_id=payment.stripe_payment_method_id, off_session=True
                ).payment
            elif payment.created_at < now - dt.timedelta(days=1):
                Payment.objects.filter(
                    pk=payment.pk, status=Payment.Status.PENDING, stripe_payment_method_id=""
                ).update(status=Payment.Status.CANCELED, settled_at=now)
                counts["canceled"] += 1
                continue
        except gateway.GatewayError:
            counts["still_open"] += 1
            continue
        except ApplicationError:
            # Stripe charged another amount than the payment's: staff must look; the others go on.
            logger.warning("payment %s: Stripe's amount differs; left for staff", payment.pk)
            counts["still_open"] += 1
            continue
        counts["settled" if payment.is_final else "still_open"] += 1
    counts["receipts"] = payments_finish_after_success(older_than=older_than)
    return counts


def payments_finish_after_success(*, older_than: dt.timedelta) -> int:
    """The after-payment work (card kept, receipt) for payments whose task was never queued
    (Redis was down) or was lost. Each step runs once: the receipt is claimed, the card upserted."""
    from billing.tasks import payment_after_success

    cutoff = timezone.now() - older_than
    missed = Payment.objects.filter(
        status=Payment.Status.SUCCEEDED, receipt_sent_at__isnull=True, settled_at__lt=cutoff
    ).exclude(receipt_email="")
    done = 0
    for payment_id in missed.values_list("pk", flat=True).order_by("pk")[:1000]:
        try:
            payment_after_success(payment_id)  # here, in this process: the queue may be what failed
        except gateway.GatewayError:
            continue
        done += 1
    return done
