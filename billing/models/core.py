import calendar
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount


class Service(models.TextChoices):
    SEWER = "sewer", _("Sewer")
    SURFACE_WATER = "surface_water", _("Surface water")
    WATER = "water", _("Water")


class BillingAccount(models.Model):
    """Billing's side of a service account: the running balance, kept under a row lock.

    `balance` always equals the sum of the account's ledger rows; every posting locks this
    row first (see billing.services.ledger) and `check_ledger` verifies it.
    """

    service_account = models.OneToOneField(
        ServiceAccount, on_delete=models.PROTECT, primary_key=True, related_name="billing"
    )
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    paperless = models.BooleanField(default=False, help_text="Bills by email only; no paper bill is mailed.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.service_account.account_number}: {self.balance}"


class LedgerEntry(models.Model):
    """One row of an account's ledger. Append-only: the database refuses UPDATE and DELETE.

    `amount` is signed: what raises the amount owed is positive (charges, fees), what
    lowers it is negative (payments, credits). A correction is a new row of kind REVERSAL
    that names the row it reverses.
    """

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        LATE_FEE = "late_fee", _("Late fee")
        DOOR_HANGER_FEE = "door_hanger_fee", _("Door-hanger fee")
        PAYMENT = "payment", _("Payment")
        CREDIT = "credit", _("Credit")
        ADJUSTMENT = "adjustment", _("Adjustment")
        REVERSAL = "reversal", _("Reversal")
        TAX_ROLL_TRANSFER = "tax_roll_transfer", _("Transfer to the tax roll")

    DEBIT_KINDS = (Kind.CHARGE, Kind.LATE_FEE, Kind.DOOR_HANGER_FEE)
    CREDIT_KINDS = (Kind.PAYMENT, Kind.CREDIT, Kind.TAX_ROLL_TRANSFER)

    # The indexes below lead with the account: a second index of it alone would only slow writes.
    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, related_name="ledger_entries", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    posted_on = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    # Unique (see Meta.constraints), by one index that serves lookups and prefix searches alike.
    source_key = models.CharField(max_length=120, help_text="Where the row came from; a replay is a no-op.")
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["posted_on", "id"]
        permissions = [("view_finance_reports", "Can read the finance reports and download them")]
        indexes = [
            models.Index(fields=["service_account", "posted_on"], name="billing_ledger_acct_posted"),
            # The open items are read newest debit first (billing.selectors.ledger_positions).
            models.Index(
                F("service_account"),
                Coalesce("due_date", "posted_on"),
                F("posted_on"),
                F("id"),
                condition=Q(amount__gt=0),
                name="billing_ledger_debits_order",
            ),
            # A bill's certified total reads the account's transfers to the tax roll alone.
            models.Index(
                fields=["service_account"],
                condition=Q(kind="tax_roll_transfer"),
                name="billing_ledger_acct_transfers",
            ),
            # Few rows reverse another: the index holds those alone.
            models.Index(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="billing_ledger_reversals"
            ),
        ]
        constraints = [
            # varchar_pattern_ops: the same index finds a key and the keys that start with a prefix
            # (the reports' "adjustment:"), where Django's unique=True would write two indexes per row.
            models.UniqueConstraint(
                fields=["source_key"], name="billing_ledger_source_key", opclasses=["varchar_pattern_ops"]
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="billing_ledgerentry_amount_not_zero"),
            models.CheckConstraint(
                condition=~Q(kind__in=["charge", "late_fee", "door_hanger_fee"])
                | (Q(amount__gt=0) & Q(due_date__isnull=False)),
                name="billing_ledgerentry_debits_positive_with_due_date",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["payment", "credit", "tax_roll_transfer"]) | Q(amount__lt=0),
                name="billing_ledgerentry_credits_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="reversal") | Q(reverses__isnull=False),
                name="billing_ledgerentry_reversal_names_its_row",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.posted_on} {self.get_kind_display()} {self.amount}"

    @property
    def is_debit(self) -> bool:
        return self.amount > 0


class AccountService(models.Model):
    """A service an account takes, in billing units (equivalent dwelling or service units)."""

    service_account = models.ForeignKey(ServiceAccount, on_delete=models.CASCADE, related_name="services")
    service = models.CharField(max_length=20, choices=Service.choices)
    units = models.DecimalField(
        max_digits=10, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )

    class Meta:
        ordering = ["service_account", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_account", "service"], name="billing_accountservice_unique"
            ),
            models.CheckConstraint(condition=Q(units__gt=0), name="billing_accountservice_units_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_display()} × {self.units}"


class RateSchedule(models.Model):
    """A service's rates from an effective date (new rates usually each July 1)."""

    service = models.CharField(max_length=20, choices=Service.choices)
    effective_date = models.DateField()
    monthly_charge_per_unit = models.DecimalField(
        max_digits=12, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )
    charge_per_ccf = models.DecimalField(
        "charge per hundred cubic feet",
        max_digits=12,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["service", "-effective_date"]
        constraints = [
            models.UniqueConstraint(fields=["service", "effective_date"], name="billing_rateschedule_unique"),
            models.CheckConstraint(
                condition=Q(monthly_charge_per_unit__gte=0) & Q(charge_per_ccf__gte=0),
                name="billing_rateschedule_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_display()} from {self.effective_date}"


class MeterRead(models.Model):
    """Water used by an account in a service month, in hundreds of cubic feet (CCF)."""

    service_account = models.ForeignKey(ServiceAccount, on_delete=models.CASCADE, related_name="meter_reads")
    period = models.DateField(help_text="The first day of the service month.")
    consumption_ccf = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["service_account", "period"]
        constraints = [
            models.UniqueConstraint(fields=["service_account", "period"], name="billing_meterread_unique"),
            models.CheckConstraint(
                condition=Q(consumption_ccf__gte=0), name="billing_meterread_not_negative"
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="billing_meterread_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}: {self.consumption_ccf} CCF"


class Bill(models.Model):
    """A monthly statement. Its figures are fixed when issued; the ledger holds the money.

    total_due = previous_balance - payments_and_credits + new_charges, which equals the
    account's balance as of the issue date.
    """

    service_account = models.ForeignKey(ServiceAccount, on_delete=models.PROTECT, related_name="bills")
    period = models.DateField(help_text="The first day of the service month.")
    issued_on = models.DateField()
    due_date = models.DateField()
    previous_balance = models.DecimalField(max_digits=12, decimal_places=2)
    payments_and_credits = models.DecimalField(max_digits=12, decimal_places=2)
    new_charges = models.DecimalField(max_digits=12, decimal_places=2)
    total_due = models.DecimalField(max_digits=12, decimal_places=2)
    past_due_amount = models.DecimalField(max_digits=12, decimal_places=2)
    ledger_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="bill"
    )
    notes = models.TextField(
        blank=True, help_text="Messages printed on the bill, e.g. a payment plan's installment."
    )
    # A final bill: the last day served (the account was closed with it).
    stopped_on = models.DateField(null=True, blank=True)
    ready_notice_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period"]
        constraints = [
            # One bill per account per service month: a second bill run adds nothing.
            models.UniqueConstraint(fields=["service_account", "period"], name="billing_bill_one_per_period"),
            models.CheckConstraint(condition=Q(period__day=1), name="billing_bill_period_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"Bill {self.service_account.account_number} {self.period:%Y-%m}"

    @property
    def is_final(self) -> bool:
        return self.stopped_on is not None


class BillLine(models.Model):
    """A line on a bill: a service for the month, or a fee or adjustment posted since the last bill."""

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=200)
    service = models.CharField(max_length=20, choices=Service.choices, blank=True)
    units = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    monthly_charge_per_unit = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    consumption_ccf = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    charge_per_ccf = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    rate_schedule = models.ForeignKey(RateSchedule, on_delete=models.PROTECT, null=True, blank=True)
    ledger_entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="bill_lines"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # Part of a month served (a first or a final bill): the days, from the first to the last.
    served_from = models.DateField(null=True, blank=True)
    served_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["bill", "position"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "position"], name="billing_billline_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"

    @property
    def days_served(self) -> int | None:
        return (self.served_to - self.served_from).days + 1 if self.served_from and self.served_to else None

    @property
    def days_in_month(self) -> int | None:
        if not self.served_from:
            return None
        return calendar.monthrange(self.served_from.year, self.served_from.month)[1]
