"""The utility's general-ledger account codes, one per role the journal needs."""

from django.db import models


class GLAccount(models.Model):
    class Role(models.TextChoices):
        CASH = "cash", "Cash"
        RECEIVABLES = "receivables", "Accounts receivable, customers"
        TAX_ROLL_RECEIVABLE = "tax_roll_receivable", "Tax-roll receivable (county)"
        REVENUE_SEWER = "revenue_sewer", "Sewer service revenue"
        REVENUE_SURFACE_WATER = "revenue_surface_water", "Surface water revenue"
        REVENUE_WATER = "revenue_water", "Water service revenue"
        REVENUE_OTHER = "revenue_other", "Service revenue, imported history"
        FEES_LATE = "fees_late", "Late fees"
        FEES_DOOR_HANGER = "fees_door_hanger", "Door-hanger fees"
        FEES_RETURNED = "fees_returned", "Returned payment fees"
        ADJUSTMENTS = "adjustments", "Billing adjustments"
        ASSISTANCE = "assistance", "Utility assistance credits"
        WRITE_OFFS = "write_offs", "Bad debt written off"

    role = models.CharField(max_length=30, choices=Role.choices, unique=True)
    code = models.CharField(
        "account code", max_length=30, help_text="The code in the utility's general ledger."
    )
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = "general-ledger account"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
