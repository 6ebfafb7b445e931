import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from billing.models import LedgerEntry
from kernel.uploads import private_storage


class Certification(models.Model):
    """An account's unpaid charges certified to the county tax roll for a year.

    Owner and address are kept as they were when certified: the tax collector's list must
    not change when the account does later.
    """

    class Status(models.TextChoices):
        CERTIFIED = "certified", _("Certified")
        ADJUSTED = "adjusted", _("Adjusted after a dispute")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    year = models.PositiveSmallIntegerField()
    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, related_name="certifications"
    )
    tax_lot = models.CharField(max_length=64)
    owner_name = models.CharField(max_length=200)
    service_address = models.CharField(max_length=200)
    delinquent_amount = models.DecimalField(max_digits=12, decimal_places=2)
    processing_fee = models.DecimalField(max_digits=12, decimal_places=2)
    total_certified = models.DecimalField(max_digits=12, decimal_places=2)
    description = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CERTIFIED)
    certified_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["year", "tax_lot", "service_account__account_number"]
        permissions = [("export_certification", "Can export the certification list for the tax collector")]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "service_account"], name="certification_one_per_account_year"
            ),
            models.CheckConstraint(
                condition=Q(delinquent_amount__gte=0), name="certification_amount_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["tax_lot"], name="certification_tax_lot_idx")]

    def __str__(self) -> str:
        return f"{self.year} {self.service_account.account_number}: {self.total_certified}"

    @property
    def open_dispute(self):
        """The dispute being investigated, if any (from prefetched disputes when there are)."""
        return next((d for d in self.disputes.all() if d.status == Dispute.Status.OPEN), None)


class CertifiedItem(models.Model):
    """The unpaid part of one charge or fee that went to the tax roll, and the ledger row that moved it."""

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="items")
    charge = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    transfer = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="certified_item")

    def __str__(self) -> str:
        return f"{self.amount} of {self.charge}"


class Dispute(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Being investigated")
        UPHELD = "upheld", _("Upheld: the charge stands")
        ADJUSTED = "adjusted", _("Adjusted")
        WITHDRAWN = "withdrawn", _("Withdrawn from the tax roll")

    certification = models.ForeignKey(Certification, on_delete=models.PROTECT, related_name="disputes")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    # The certified charges the customer says are wrong (none named: the whole certification).
    items = models.ManyToManyField(CertifiedItem, blank=True, related_name="disputes")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("resolve_dispute", "Can resolve a dispute of certified charges")]
        constraints = [
            models.UniqueConstraint(
                fields=["certification"], condition=Q(status="open"), name="certification_one_open_dispute"
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute of {self.certification}"


def dispute_document_path(instance, filename: str) -> str:
    # The customer's file name is kept as data, never used as a path.
    return f"disputes/{instance.dispute_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()[:5]}"


class DisputeDocument(models.Model):
    """A paper the customer sent with a dispute (a receipt, a deed), encrypted on disk."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(storage=private_storage, upload_to=dispute_document_path)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.original_name


class Notice(models.Model):
    """A letter (and email) sent about an account: once per kind, account and occasion."""

    class Kind(models.TextChoices):
        PAST_DUE = "past_due", _("Past-due notice")
        PRECERTIFICATION = "precertification", _("Pre-certification notice")
        LATE = "late", _("Late notice")
        DOOR_HANGER = "door_hanger", _("Door-hanger notice")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    service_account = models.ForeignKey(ServiceAccount, on_delete=models.PROTECT, related_name="notices")
    occasion = models.CharField(max_length=20, help_text="e.g. 2026-07-25 or 2027")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    batch_file = models.CharField(
        max_length=200, blank=True, help_text="The printable batch this letter is in."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "service_account", "occasion"], name="certification_notice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.service_account.account_number} {self.occasion}"


class CertificationSubmission(models.Model):
    """A year's list as it went to the tax collector: the file kept in private storage and each
    row as sent, so a later dispute produces a supplemental list of the changes."""

    year = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stored_file = models.ForeignKey("portal.StoredFile", on_delete=models.PROTECT, related_name="+")
    # [{"id": certification pk, "account_number", "tax_lot", "owner_name", "total_certified"}, ...]
    rows = models.JSONField(default=list)

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.year} list sent {self.sent_at:%m/%d/%Y}"
