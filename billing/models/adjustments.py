from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import ServiceAccount
from billing.models.core import LedgerEntry


class AdjustmentReason(models.Model):
    """The utility's own list of reasons for an adjustment (leak credit, billing error, fee
    waived, bad debt write-off...), edited in admin. A reason in use is retired, not deleted."""

    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True, help_text="Offered for new adjustments.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Adjustment(models.Model):
    """A staff correction to an account, as a ledger row: a credit, a debit, a fee waived or a
    write-off. Above ADJUSTMENT_APPROVAL_LIMIT it waits for a supervisor. Undone only by a new
    reversing row (`reversal_entry`), never by editing."""

    class Kind(models.TextChoices):
        CREDIT = "credit", "Credit (lowers what is owed)"
        DEBIT = "debit", "Debit (raises what is owed)"
        FEE_WAIVER = "fee_waiver", "Fee waived"
        WRITE_OFF = "write_off", "Write-off (bad debt)"

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting a supervisor's approval"
        POSTED = "posted", "Posted"
        DECLINED = "declined", "Declined by a supervisor"
        REVERSED = "reversed", "Posted, then reversed"

    service_account = models.ForeignKey(ServiceAccount, on_delete=models.PROTECT, related_name="adjustments")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.ForeignKey(AdjustmentReason, on_delete=models.PROTECT, related_name="+")
    memo = models.CharField(max_length=500)
    # The fee a waiver takes off (a late or door-hanger fee of this account).
    fee_entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    ledger_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="adjustment"
    )
    # The form's one-time token: a second click of the same form finds the first adjustment.
    request_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    reversal_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_adjustment"
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        permissions = [
            ("approve_adjustment", "Can approve or decline an adjustment above the approval limit"),
            ("reverse_adjustment", "Can reverse a posted adjustment"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_adjustment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(kind="fee_waiver") | Q(fee_entry__isnull=False),
                name="billing_adjustment_waiver_names_its_fee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ${self.amount} on {self.service_account.account_number}"
