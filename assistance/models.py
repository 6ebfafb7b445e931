import uuid
from pathlib import Path

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from billing.models import LedgerEntry
from kernel.uploads import private_storage

__all__ = ["private_storage"]  # named by the first migration


def document_path(instance, filename: str) -> str:
    # The customer's file name is kept as data, never used as a path.
    return f"assistance/{instance.application_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()[:5]}"


def draft_path(instance, filename: str) -> str:
    return f"assistance/drafts/{uuid.uuid4().hex}{Path(filename).suffix.lower()[:5]}"


class IncomeGuideline(models.Model):
    """One row of a program year's income table: at or below the limit, the credit is given."""

    program_year = models.PositiveSmallIntegerField()
    household_size = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)],
        help_text="The last row applies to this size and larger households.",
    )
    monthly_income_limit = models.DecimalField(max_digits=10, decimal_places=2)
    credit = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["-program_year", "household_size"]
        constraints = [
            models.UniqueConstraint(
                fields=["program_year", "household_size"], name="assistance_guideline_unique"
            ),
            models.CheckConstraint(condition=Q(credit__gt=0), name="assistance_guideline_credit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.program_year}: household of {self.household_size}"


class AssistanceApplication(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ASSESSED = "assessed", _("Assessed")
        APPOINTMENT_SCHEDULED = "appointment_scheduled", _("Appointment scheduled")
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")

    OPEN_STATUSES = (Status.SUBMITTED, Status.ASSESSED, Status.APPOINTMENT_SCHEDULED)

    class ContactTime(models.TextChoices):
        MORNING = "morning", _("Morning (8 a.m. to noon)")
        AFTERNOON = "afternoon", _("Afternoon (noon to 5 p.m.)")
        ANY = "any", _("Any time")

    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, related_name="assistance_applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assistance_applications"
    )
    program_year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.SUBMITTED)
    household_size = models.PositiveSmallIntegerField()
    monthly_income = models.DecimalField("gross monthly household income", max_digits=10, decimal_places=2)
    phone = models.CharField(max_length=40)
    preferred_contact_time = models.CharField(max_length=10, choices=ContactTime.choices)
    attestation_name = models.CharField("typed signature", max_length=200)
    attested_on = models.DateField()
    submitted_at = models.DateTimeField(auto_now_add=True)
    assessment_notes = models.TextField(blank=True, help_text="Notes from the phone assessment.")
    appointment_at = models.DateTimeField("verification appointment", null=True, blank=True)
    # When a clerk saw the photo ID and proof of income (at the appointment or before): a passed
    # appointment time alone is not a kept appointment (the customer may not have come).
    documents_seen_at = models.DateTimeField("ID and income seen", null=True, blank=True)
    documents_seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class DenialReason(models.TextChoices):
        INCOME = "income", _("Income above the program's limit for the household")
        DOCUMENTS = "documents", _("Documents missing or not verified")
        HOUSEHOLD = "household", _("Not the account holder's household")
        RECENT = "recent", _("A credit was received within the last year")
        OTHER = "other", _("Another reason")

    # On a denial: the reason's code (shown in the reader's language) and the clerk's own words.
    denial_code = models.CharField(max_length=12, choices=DenialReason.choices, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    credit_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    credit_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="assistance_application"
    )
    conservation_materials_provided = models.BooleanField(default=False)
    # When it was approved, denied, withdrawn or expired: the documents are deleted
    # ASSISTANCE_DOCUMENT_RETENTION_DAYS after it.
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["status", "program_year"], name="assistance_app_status_idx")]
        permissions = [("decide_assistanceapplication", "Can approve or deny an assistance application")]
        constraints = [
            models.CheckConstraint(
                condition=Q(household_size__gte=1), name="assistance_app_household_positive"
            ),
            models.CheckConstraint(
                condition=Q(monthly_income__gte=0), name="assistance_app_income_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Application {self.pk} for {self.service_account.account_number}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class HouseholdMember(models.Model):
    application = models.ForeignKey(AssistanceApplication, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=100, help_text="To the applicant, e.g. self, spouse, child.")

    def __str__(self) -> str:
        return self.name


class IncomeSource(models.Model):
    class Kind(models.TextChoices):
        WAGES = "wages", _("Wages or salary")
        SELF_EMPLOYMENT = "self_employment", _("Self-employment")
        SOCIAL_SECURITY = "social_security", _("Social Security or SSI")
        UNEMPLOYMENT = "unemployment", _("Unemployment")
        PENSION = "pension", _("Pension or retirement")
        CHILD_SUPPORT = "child_support", _("Child support or alimony")
        ASSISTANCE = "assistance", _("Public assistance (TANF)")
        OTHER = "other", _("Other income")

    application = models.ForeignKey(AssistanceApplication, on_delete=models.CASCADE, related_name="incomes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    monthly_amount = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.monthly_amount}"


class ApplicationDocument(models.Model):
    class Kind(models.TextChoices):
        PHOTO_ID = "photo_id", _("Photo ID")
        INCOME_PROOF = "income_proof", _("Proof of income for the past 30 days")
        LATE_NOTICE = "late_notice", _("Late notice or door hanger")

    application = models.ForeignKey(AssistanceApplication, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Encrypted on disk; emptied when the file is deleted after the retention period, while the
    # row stays as the record of what was received.
    file = models.FileField(storage=private_storage, upload_to=document_path, blank=True)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    request = models.ForeignKey(
        "DocumentRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"


class DocumentRequest(models.Model):
    """A clerk asks the applicant for more documents; the applicant adds them on the status page."""

    application = models.ForeignKey(
        AssistanceApplication, on_delete=models.CASCADE, related_name="document_requests"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField("what is needed", max_length=500)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Request for documents on application {self.application_id}"


class ApplicationDraft(models.Model):
    """What a login has typed into the application so far, kept between visits until submitted
    (or abandoned for ASSISTANCE_DRAFT_DAYS)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assistance_draft"
    )
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Draft application of {self.user_id}"


class DraftUpload(models.Model):
    """A document checked and kept (encrypted) for a login's application not yet submitted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assistance_draft_uploads"
    )
    kind = models.CharField(max_length=20, choices=ApplicationDocument.Kind.choices)
    file = models.FileField(storage=private_storage, upload_to=draft_path)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"


class ApplicationEvent(models.Model):
    """Who moved an application, when, and why."""

    application = models.ForeignKey(AssistanceApplication, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"


class PaymentPlan(models.Model):
    """A past-due balance paid in monthly installments, due with the bills on the 20th."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ACTIVE = "active", _("Active")
        DECLINED = "declined", _("Declined")
        COMPLETED = "completed", _("Completed")
        ENDED = "ended", _("Ended: an installment was missed")
        WITHDRAWN = "withdrawn", _("Withdrawn by the customer")

    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, related_name="payment_plans"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payment_plans"
    )
    installments = models.PositiveSmallIntegerField(validators=[MinValueValidator(2), MaxValueValidator(12)])
    total = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="The past-due amount the plan covers."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField(auto_now_add=True)
    starts_on = models.DateField(null=True, blank=True, help_text="Set on approval.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        permissions = [("decide_paymentplan", "Can approve or decline a payment plan")]
        constraints = [
            models.UniqueConstraint(
                fields=["service_account"],
                condition=Q(status__in=["requested", "active"]),
                name="assistance_plan_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=Q(installments__gte=2) & Q(installments__lte=12), name="assistance_plan_2_to_12"
            ),
            models.CheckConstraint(condition=Q(total__gt=0), name="assistance_plan_total_positive"),
        ]

    def __str__(self) -> str:
        return f"Plan for {self.service_account.account_number}: {self.installments} × ({self.total})"
