import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from billing.models.core import LedgerEntry

CONFIRMATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_confirmation_number() -> str:
    return "P" + "".join(secrets.choice(CONFIRMATION_ALPHABET) for _ in range(9))


class Invoice(models.Model):
    """An assessment bill or accounts-receivable invoice, payable online by number and ZIP."""

    class Kind(models.TextChoices):
        ASSESSMENT = "assessment", _("Assessment bill")
        RECEIVABLE = "receivable", _("Accounts-receivable invoice")

    number = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    payer_name = models.CharField(max_length=200)
    payer_zip = models.CharField("payer ZIP code", max_length=5)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    due_date = models.DateField()
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_date", "number"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_invoice_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class PaymentBatch(models.Model):
    """A deposit of mail, lobby or drop-box payments: it posts only when it adds up."""

    class Kind(models.TextChoices):
        MAIL = "mail", _("Mail")
        LOBBY = "lobby", _("Lobby")
        DROP_BOX = "drop_box", _("Drop box")
        LOCKBOX = "lockbox", _("Bank lockbox file")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        POSTED = "posted", _("Posted")
        VOIDED = "voided", _("Voided")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    deposit_date = models.DateField()
    control_total = models.DecimalField(max_digits=12, decimal_places=2)
    control_count = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "payment batches"
        ordering = ["-deposit_date", "-id"]
        permissions = [
            ("post_paymentbatch", "Can post a payment batch someone else keyed"),
            ("void_paymentbatch", "Can void an open payment batch"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(control_total__gt=0), name="billing_paymentbatch_total_positive"
            ),
        ]

    def __str__(self) -> str:
        kind = self.get_kind_display()
        return f"{kind} batch {self.deposit_date} ({self.control_count}, {self.control_total})"


class Payment(models.Model):
    """A payment from its first moment: recorded PENDING before Stripe is asked, so nothing is lost.

    It reaches the ledger exactly once (`ledger_entry`, source key `payment:<id>`), whichever
    of the return page, the webhook or reconciliation learns of its success first.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        REQUIRES_ACTION = "requires_action", _("Waiting for the bank's check")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")
        RETURNED = "returned", _("Returned")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        QUICK_PAY = "quick_pay", _("Quick pay")
        PHONE = "phone", _("Phone (clerk)")
        PHONE_LINE = "phone_line", _("Phone line (automated)")
        MAIL = "mail", _("Mail")
        LOBBY = "lobby", _("Lobby")
        DROP_BOX = "drop_box", _("Drop box")
        LOCKBOX = "lockbox", _("Bank lockbox")
        AUTOPAY = "autopay", _("Autopay")

    class Method(models.TextChoices):
        CARD = "card", _("Card")
        CHECK = "check", _("Check")
        CASH = "cash", _("Cash")
        BANK = "bank", _("Bank draft")

    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.CARD)
    confirmation_number = models.CharField(max_length=12, unique=True, default=new_confirmation_number)
    # The pay form's one-time token: a double submit finds this row instead of a new one.
    client_token = models.UUIDField(unique=True, null=True, blank=True)
    received_on = models.DateField()
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    stripe_setup_intent_id = models.CharField(max_length=64, blank=True)
    stripe_payment_method_id = models.CharField(max_length=64, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    check_number = models.CharField(max_length=32, blank=True)
    batch = models.ForeignKey(
        PaymentBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    save_card = models.BooleanField(default=False)
    failure_message = models.CharField(max_length=300, blank=True)
    receipt_email = models.EmailField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments_made",
    )
    ledger_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="payment"
    )
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="billing_payment_status_idx")]
        permissions = [
            ("take_phone_payment", "Can take a card payment by phone"),
            ("record_returned_check", "Can record a returned check or bank payment"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_payment_amount_positive"),
            models.CheckConstraint(
                condition=(Q(service_account__isnull=False) & Q(invoice__isnull=True))
                | (Q(service_account__isnull=True) & Q(invoice__isnull=False)),
                name="billing_payment_for_an_account_or_an_invoice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.confirmation_number} {self.amount} {self.get_status_display()}"

    @property
    def idempotency_key(self) -> str:
        """Derived from this row: a retried Stripe call can never charge twice (on real Stripe)."""
        return f"portal-payment-{self.pk}"

    @property
    def amount_cents(self) -> int:
        return int((self.amount * 100).to_integral_value())

    @property
    def is_final(self) -> bool:
        return self.status in {
            self.Status.SUCCEEDED,
            self.Status.FAILED,
            self.Status.CANCELED,
            self.Status.RETURNED,
        }


class Refund(models.Model):
    """Money sent back to a card by finance staff, through Stripe; posted as a reversing row."""

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting a supervisor's approval")
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")
        DECLINED = "declined", _("Declined by a supervisor")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=200)
    stripe_refund_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    ledger_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="refund"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The supervisor who approved or declined a refund above REFUND_APPROVAL_LIMIT.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("refund_payment", "Can refund a card payment"),
            ("approve_refund", "Can approve or decline a refund above the approval limit"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} of {self.payment.confirmation_number}"

    @property
    def idempotency_key(self) -> str:
        return f"portal-refund-{self.pk}"


class StripeEvent(models.Model):
    """Every webhook event once: a duplicate delivery finds its row and does nothing."""

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class StripeCustomer(models.Model):
    """The Stripe customer that holds a login's saved cards."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stripe_customer"
    )
    customer_id = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.customer_id


class SavedCard(models.Model):
    """A card the customer chose to keep for later (and for autopay). Stripe holds the card;
    we keep only what identifies it to the customer."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_cards")
    stripe_payment_method_id = models.CharField(max_length=64, unique=True)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="Removed by the customer; no longer used."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return _("%(brand)s ending %(last4)s") % {"brand": self.brand.title(), "last4": self.last4}


class LockboxException(models.Model):
    """A check in the bank's lockbox file that names no account (or two): kept for a clerk, who
    posts it to the right account or records that it was sent back."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a clerk"
        POSTED = "posted", "Matched to an account"
        RETURNED = "returned", "Returned to the sender"

    file_digest = models.CharField(max_length=16)
    line = models.PositiveIntegerField()
    account_text = models.CharField("what the file said", max_length=200, blank=True)
    check_number = models.CharField(max_length=32, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    paid_on = models.DateField()
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    payment = models.OneToOneField(
        "Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="lockbox_exception"
    )
    resolution_note = models.CharField(max_length=300, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "line"]
        constraints = [
            # The same file imported again adds no second copy of its exceptions.
            models.UniqueConstraint(fields=["file_digest", "line"], name="billing_lockboxexception_once"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="billing_lockboxexception_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Lockbox check {self.check_number} for ${self.amount:,.2f} ({self.get_status_display().lower()})"
        )
