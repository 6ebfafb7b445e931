import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower, Replace, Upper
from django.utils.translation import gettext_lazy as _

from accounts.notification_kinds import notification_kind_choices

zip_validator = RegexValidator(r"^\d{5}$", "Enter a 5-digit ZIP code.")

# Access codes leave out letters and digits read alike (0/O, 1/I/L) and are read in any case.
ACCESS_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ACCESS_CODE_LENGTH = 8


def access_code_new() -> str:
    """A fresh access code: 8 characters, about 10^12 choices, from the system's random source."""
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def utility_state() -> str:
    """The state an address is in when the utility's files do not say (UTILITY_STATE)."""
    return settings.UTILITY_STATE


state_validator = RegexValidator(r"^[A-Z]{2}$", "Enter the two-letter state, for example OR.")
mailing_zip_validator = RegexValidator(r"^[0-9]{5}(-[0-9]{4})?$", "Enter a 5-digit ZIP code, or ZIP+4.")


def access_code_display(code: str) -> str:
    """As printed on bills: two groups of four, "K7QM-4XPT"."""
    return f"{code[:4]}-{code[4:]}" if len(code) == ACCESS_CODE_LENGTH else code


class UserManager(DjangoUserManager):
    """Logins are email addresses; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A login: a customer, a clerk or a finance user. Customers hold service accounts."""

    username = None
    email = models.EmailField("email address", unique=True)
    # The language of the portal, emails and letters for this login; blank: not chosen yet.
    language = models.CharField(max_length=10, blank=True, choices=settings.LANGUAGES)
    # A mobile number for text messages (E.164, "+15035550100"): texts go to it only once the
    # customer typed back the code sent to it. A STOP reply stops every text until START.
    mobile_number = models.CharField(max_length=20, blank=True)
    mobile_confirmed_at = models.DateTimeField(null=True, blank=True)
    texts_stopped_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            # A reply (STOP, PAY) must name one login: a confirmed number belongs to one.
            models.UniqueConstraint(
                fields=["mobile_number"],
                condition=models.Q(mobile_confirmed_at__isnull=False),
                name="accounts_user_mobile_confirmed_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def texts_on(self) -> bool:
        """Whether texts may go to this login at all (a confirmed number, not stopped)."""
        return bool(self.mobile_number and self.mobile_confirmed_at and not self.texts_stopped_at)


class ServiceAccount(models.Model):
    """The utility's account for one served property, as its billing system knows it."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    account_number = models.CharField(max_length=32, unique=True)
    customer_name = models.CharField(max_length=200)
    service_address = models.CharField(max_length=200)
    service_city = models.CharField(max_length=100, blank=True)
    service_state = models.CharField(
        "service state", max_length=2, default=utility_state, validators=[state_validator]
    )
    service_zip = models.CharField("service ZIP code", max_length=5, validators=[zip_validator])
    # Where letters and paper bills go when not to the service address (an owner or landlord
    # elsewhere). Blank: to the service address.
    mailing_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="Blank: the customer name. For example 'Pat Doe c/o Acme Rentals'.",
    )
    mailing_address = models.CharField(max_length=200, blank=True)
    mailing_city = models.CharField(max_length=100, blank=True)
    mailing_state = models.CharField(max_length=2, blank=True, validators=[state_validator])
    mailing_zip = models.CharField(
        "mailing ZIP code", max_length=10, blank=True, validators=[mailing_zip_validator]
    )
    tax_lot = models.CharField(
        max_length=64, help_text="The property's tax lot or map number; certification follows it."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # The first day served: the first bill counts the days from it. Blank for accounts that
    # came from the old billing system, billed whole months.
    service_starts_on = models.DateField("service starts on", null=True, blank=True)
    # Printed on every bill: linking the account to a login asks for it, so knowing the number
    # and ZIP code (sequential, and shared by a neighbourhood) is not enough.
    # Not editable in forms: a new one comes only from service_accounts_new_access_codes (audited).
    access_code = models.CharField(
        max_length=ACCESS_CODE_LENGTH,
        default=access_code_new,
        editable=False,
        help_text="Printed on every bill; a customer types it to link the account to a login.",
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    users = models.ManyToManyField(User, through="AccountLink", related_name="service_accounts", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account_number"]
        indexes = [
            models.Index(fields=["tax_lot"], name="accounts_sa_tax_lot_idx"),
            # Numbers as typed without their dash (service_account_find_by_number).
            models.Index(
                Upper(Replace("account_number", models.Value("-"), models.Value(""))),
                name="accounts_sa_number_key_idx",
            ),
        ]
        permissions = [
            ("change_account_identity", "Can change an account's number, tax lot and customer name"),
            ("open_close_account", "Can open an account and close one with a final bill"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(service_zip__regex=r"^\d{5}$"),
                name="accounts_serviceaccount_zip_5_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "closed"]),
                name="accounts_serviceaccount_status_valid",
            ),
            # A mailing address is whole or absent: a letter never goes to half an address.
            models.CheckConstraint(
                condition=models.Q(mailing_address="", mailing_city="", mailing_state="", mailing_zip="")
                | (
                    ~models.Q(mailing_address="")
                    & ~models.Q(mailing_city="")
                    & models.Q(mailing_state__regex=r"^[A-Z]{2}$")
                    & models.Q(mailing_zip__regex=r"^\d{5}(-\d{4})?$")
                ),
                name="accounts_serviceaccount_mailing_whole",
                violation_error_message=(
                    "A mailing address needs its street, city, two-letter state and ZIP code, or none of them."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_number} {self.customer_name}"

    @property
    def access_code_display(self) -> str:
        return access_code_display(self.access_code)

    @property
    def has_mailing_address(self) -> bool:
        return bool(self.mailing_address)

    @property
    def mail_to(self) -> list[str]:
        """The lines of the address letters and paper bills go to: the mailing address when there
        is one, else the service address; the state on every one."""
        if self.mailing_address:
            return [
                self.mailing_name or self.customer_name,
                self.mailing_address,
                f"{self.mailing_city}, {self.mailing_state} {self.mailing_zip}",
            ]
        return [self.customer_name, self.service_address, self.service_place]

    @property
    def mail_to_zip(self) -> str:
        """The ZIP code the mail is sorted by."""
        return self.mailing_zip if self.mailing_address else self.service_zip

    @property
    def service_place(self) -> str:
        """ "Oregon City, OR 97045": the city (when known), state and ZIP of the served property."""
        city = f"{self.service_city}, " if self.service_city else ""
        return f"{city}{self.service_state} {self.service_zip}"


class AccountLink(models.Model):
    """A login's access to a service account: an owner, a tenant, a landlord."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_links")
    service_account = models.ForeignKey(ServiceAccount, on_delete=models.CASCADE, related_name="links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "service_account"], name="accounts_accountlink_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.service_account.account_number}"


class NotificationPreference(models.Model):
    """One switch per kind of email for a login. A missing row means every switch is on."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(
        max_length=30, choices=notification_kind_choices
    )  # registered by the sending apps
    enabled = models.BooleanField(default=True)
    # The same notice by text message: off until the customer turns it on.
    text_enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="accounts_notificationpreference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} {'on' if self.enabled else 'off'}"


class EmailLog(models.Model):
    """What was emailed to whom, and what was not because the customer switched it off."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent: switched off")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=30)
    to_email = models.EmailField()
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    subject = models.CharField(max_length=300)
    template = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    required = models.BooleanField(default=False, help_text="Sent whatever the switches say.")
    reference = models.CharField(
        max_length=100, blank=True, help_text="What the email is about, e.g. bill:41"
    )
    # The service account it was about, as a number (the log outlives renumbered accounts).
    account_number = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["reference"], name="accounts_emaillog_ref_idx"),
            models.Index(fields=["account_number", "-created_at"], name="accounts_emaillog_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email}: {self.status}"


class TextMessage(models.Model):
    """Every text sent, waiting for the morning, not sent, or received: the texts' log."""

    class Direction(models.TextChoices):
        OUT = "out", "Sent"
        IN = "in", "Received"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the end of quiet hours"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent: switched off or stopped"
        FAILED = "failed", "Failed"
        RECEIVED = "received", "Received"

    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.OUT)
    number = models.CharField(max_length=20, help_text="The customer's number (to or from).")
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=30, blank=True)
    body = models.CharField(max_length=480)
    status = models.CharField(max_length=10, choices=Status.choices)
    send_after = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    # Twilio's id of the message: unique for received ones, so a replayed webhook is seen twice
    # and acted on once.
    provider_sid = models.CharField(max_length=64, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    account_number = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "send_after"], name="accounts_text_queue_idx"),
            models.Index(fields=["reference"], name="accounts_text_ref_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_sid"],
                condition=models.Q(direction="in"),
                name="accounts_text_received_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.kind or 'text'}: {self.status}"


class AccountNote(models.Model):
    """A clerk's contact log entry: who called, what was said or promised, and when to follow up.

    Notes are kept as written (no edits): a correction is a new note.
    """

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone call"
        LOBBY = "lobby", "In person"
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"
        OTHER = "other", "Other"

    service_account = models.ForeignKey(ServiceAccount, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PHONE)
    contact = models.CharField("who we spoke with", max_length=200, blank=True)
    text = models.TextField("what was said")
    # A promise to pay: the amount and the date; a broken promise comes back on the worklist.
    promised_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    promised_on = models.DateField("promised by", null=True, blank=True)
    follow_up_on = models.DateField("follow up on", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["service_account", "-created_at"], name="accounts_note_account_idx"),
            models.Index(fields=["follow_up_on"], name="accounts_note_follow_up_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(promised_amount__isnull=True) | models.Q(promised_amount__gt=0),
                name="accounts_accountnote_promise_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(promised_amount__isnull=True, promised_on__isnull=True)
                | models.Q(promised_amount__isnull=False, promised_on__isnull=False),
                name="accounts_accountnote_promise_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_account.account_number} {self.created_at:%Y-%m-%d}: {self.text[:40]}"
