from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from billing.models import Payment, SavedCard


class PaymentAuthorization(models.Model):
    """What a customer agreed to online, kept as evidence: the text exactly as shown (in the
    language shown), its version, when, by which login and from which address. Never edited;
    a change of terms is a new row."""

    class Kind(models.TextChoices):
        CARD_AUTOPAY = "card_autopay", _("Card autopay")
        BANK_AUTOPAY = "bank_autopay", _("Bank account autopay")
        BANK_PAYMENT = "bank_payment", _("One-time bank account payment")
        SCHEDULED_PAYMENT = "scheduled_payment", _("Scheduled payment")
        PAY_BY_TEXT = "pay_by_text", _("Pay by text")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    service_account = models.ForeignKey(ServiceAccount, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    terms_version = models.CharField(max_length=20)
    text = models.TextField()
    language = models.CharField(max_length=10)
    accepted_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(
        default=dict, blank=True, help_text="What was chosen with it: card, day, maximum."
    )

    class Meta:
        ordering = ["-accepted_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} terms {self.terms_version}, {self.accepted_at:%Y-%m-%d %H:%M}"


class AutopayEnrollment(models.Model):
    """Autopay for one account, on the day of the month the customer chose, from a saved card
    (charged through Stripe) or from a bank account added online (a recurring WEB debit in the
    NACHA file, on the next banking day when the day is not one)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")

    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, related_name="autopay_enrollments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="autopay_enrollments"
    )
    card = models.ForeignKey(
        SavedCard, on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
    bank_account = models.ForeignKey(
        "BankAccount", on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
    draft_day = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(28)])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    starts_on = models.DateField(help_text="Bills issued on or after this date are drafted.")
    max_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="A draft above this is not made; the customer is emailed to pay it themselves.",
    )
    authorization = models.ForeignKey(
        PaymentAuthorization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_account"],
                condition=Q(status="active"),
                name="autopay_enrollment_one_active_per_account",
            ),
            models.CheckConstraint(
                condition=Q(draft_day__gte=1) & Q(draft_day__lte=28), name="autopay_enrollment_day_1_to_28"
            ),
            models.CheckConstraint(
                condition=(Q(card__isnull=False) & Q(bank_account__isnull=True))
                | (Q(card__isnull=True) & Q(bank_account__isnull=False)),
                name="autopay_enrollment_card_or_bank",
            ),
        ]

    def __str__(self) -> str:
        return f"Autopay {self.service_account.account_number} on day {self.draft_day}"

    @property
    def method(self) -> "SavedCard | BankAccount":
        """What autopay pays with: the saved card or the bank account."""
        return self.card or self.bank_account


class BankDraftAgreement(models.Model):
    """A signed paper Preauthorized Payments Agreement: drafted from a bank account on the 20th."""

    class AccountType(models.TextChoices):
        CHECKING = "checking", _("Checking")
        SAVINGS = "savings", _("Savings")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, related_name="bank_agreements"
    )
    holder_name = models.CharField("name on the bank account", max_length=100)
    routing_number = models.CharField(max_length=9)
    account_number_encrypted = models.TextField(editable=False)
    account_last4 = models.CharField(max_length=4, editable=False)
    account_type = models.CharField(max_length=10, choices=AccountType.choices)
    signed_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    inactive_reason = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_account"],
                condition=Q(status="active"),
                name="autopay_bank_one_active_per_account",
            ),
        ]

    def __str__(self) -> str:
        kind = self.get_account_type_display()
        return f"Bank draft {self.service_account.account_number} ({kind} ending {self.account_last4})"


class AutopayDraft(models.Model):
    """One draft of one billing period for a card enrollment or a bank agreement. Never two:
    a unique constraint per (enrollment or agreement, period) makes a re-run or a second
    worker find the row instead of charging again."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CHARGING = "charging", _("Charging")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        RETRY = "retry", _("Failed; will try again")
        SKIPPED = "skipped", _("Nothing was due")
        OVER_MAXIMUM = "over_max", _("Above your maximum; not drafted")
        RETURNED = "returned", _("Returned by the bank")
        CANCELLED = "cancelled", _("Cancelled before it was sent")

    enrollment = models.ForeignKey(
        AutopayEnrollment, on_delete=models.PROTECT, null=True, blank=True, related_name="drafts"
    )
    agreement = models.ForeignKey(
        BankDraftAgreement, on_delete=models.PROTECT, null=True, blank=True, related_name="drafts"
    )
    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, related_name="autopay_drafts"
    )
    period = models.DateField(help_text="The service month of the bill this draft pays.")
    draft_date = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_on = models.DateField(null=True, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    failure_message = models.CharField(max_length=300, blank=True)
    trace_number = models.CharField(max_length=15, blank=True, help_text="The NACHA entry's trace number.")
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-draft_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "period"], name="autopay_draft_one_per_enrollment_period"
            ),
            models.UniqueConstraint(
                fields=["agreement", "period"], name="autopay_draft_one_per_agreement_period"
            ),
            models.CheckConstraint(
                condition=(Q(enrollment__isnull=False) & Q(agreement__isnull=True))
                | (Q(enrollment__isnull=True) & Q(agreement__isnull=False)),
                name="autopay_draft_card_or_bank",
            ),
        ]

    def __str__(self) -> str:
        return f"Draft {self.service_account.account_number} {self.period:%Y-%m}: {self.get_status_display()}"

    @property
    def idempotency_key(self) -> str:
        """Derived from this row and attempt: a retried Stripe call never charges twice."""
        return f"portal-draft-{self.pk}-{self.attempts}"


class BankAccount(models.Model):
    """A bank account a customer added online, kept by their login for one-time and scheduled
    payments. Before its first debit the bank is sent a prenote (a zero-dollar test entry): with
    no return `BANK_PRENOTE_WAIT_DAYS` banking days after it settles, the account is verified."""

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Being checked with your bank")
        VERIFIED = "verified", _("Verified")
        ENDED = "ended", _("Ended")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bank_accounts")
    holder_name = models.CharField("name on the bank account", max_length=100)
    routing_number = models.CharField(max_length=9)
    account_number_encrypted = models.TextField(editable=False)
    account_last4 = models.CharField(max_length=4, editable=False)
    account_type = models.CharField(max_length=10, choices=BankDraftAgreement.AccountType.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALIDATING)
    prenote_trace = models.CharField(max_length=15, blank=True, help_text="The prenote's trace number.")
    prenote_file_date = models.DateField(
        null=True, blank=True, help_text="The effective date of the NACHA file the prenote went in."
    )
    verified_on = models.DateField(null=True, blank=True)
    ended_reason = models.CharField(max_length=200, blank=True)
    authorization = models.ForeignKey(
        PaymentAuthorization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True, help_text="Removed by the customer.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["prenote_trace"], name="autopay_bankaccount_trace_idx")]

    def __str__(self) -> str:
        return _("%(kind)s account ending %(last4)s") % {
            "kind": self.get_account_type_display(),
            "last4": self.account_last4,
        }

    @property
    def usable(self) -> bool:
        return self.status != self.Status.ENDED and self.removed_at is None


class BankPayment(models.Model):
    """A debit from a customer's online bank account, sent as a WEB entry in the NACHA file. Its
    payment stays pending until the file's settlement date, and posts then."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="bank_debit")
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="debits")
    recurring = models.BooleanField(default=False, help_text="Autopay (WEB payment type R) or single (S).")
    trace_number = models.CharField(max_length=15, blank=True)
    file_date = models.DateField(
        null=True, blank=True, help_text="The effective date of the NACHA file it went in."
    )
    authorization = models.ForeignKey(
        PaymentAuthorization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["trace_number"], name="autopay_bankpayment_trace_idx")]

    def __str__(self) -> str:
        return f"Bank payment {self.payment.confirmation_number} from {self.bank_account}"


class ScheduledPayment(models.Model):
    """A payment the customer asked to be made on a later date, with a saved card or a bank
    account. It can be cancelled until the day before; on its day it is claimed once
    (SCHEDULED -> PROCESSING) and only then charged, so a second run never pays it twice."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        PROCESSING = "processing", _("Being paid")
        PAID = "paid", _("Paid")
        SENT = "sent", _("Sent to your bank")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, related_name="scheduled_payments"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    pay_on = models.DateField()
    card = models.ForeignKey(SavedCard, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    bank_account = models.ForeignKey(
        BankAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="scheduled_payments"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="scheduled_from"
    )
    failure_message = models.CharField(max_length=300, blank=True)
    authorization = models.ForeignKey(
        PaymentAuthorization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pay_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="autopay_scheduled_amount_positive"),
            models.CheckConstraint(
                condition=(Q(card__isnull=False) & Q(bank_account__isnull=True))
                | (Q(card__isnull=True) & Q(bank_account__isnull=False)),
                name="autopay_scheduled_card_or_bank",
            ),
        ]

    def __str__(self) -> str:
        return f"Scheduled payment {self.amount} on {self.pay_on} for {self.service_account.account_number}"

    @property
    def method_label(self) -> str:
        return str(self.card or self.bank_account)


class PayByText(models.Model):
    """A customer's standing choice to pay an account's bills by replying PAY to the bill's text,
    with one saved card or bank account, under the authorization they accepted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    service_account = models.ForeignKey(ServiceAccount, on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(SavedCard, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    bank_account = models.ForeignKey(
        "BankAccount", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    authorization = models.ForeignKey(PaymentAuthorization, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "service_account"],
                condition=Q(ended_at__isnull=True),
                name="autopay_paybytext_one_per_login_account",
            ),
            models.CheckConstraint(
                condition=Q(card__isnull=False, bank_account__isnull=True)
                | Q(card__isnull=True, bank_account__isnull=False),
                name="autopay_paybytext_one_method",
            ),
        ]

    def __str__(self) -> str:
        return f"Pay by text for {self.service_account.account_number}"

    @property
    def method(self):
        return self.card or self.bank_account


class TextPayPrompt(models.Model):
    """A bill's text that offered "reply PAY", and what the reply did: paid once, at most."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a reply"
        PAYING = "paying", "Being paid"
        PAID = "paid", "Paid"
        FAILED = "failed", "Payment failed"
        NOTHING_DUE = "nothing_due", "Nothing due when the reply came"

    pay_by_text = models.ForeignKey(PayByText, on_delete=models.CASCADE, related_name="prompts")
    bill = models.ForeignKey("billing.Bill", on_delete=models.CASCADE, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["pay_by_text", "bill"], name="autopay_textprompt_one_per_bill"),
        ]

    def __str__(self) -> str:
        return f"PAY prompt for bill {self.bill_id}: {self.status}"
