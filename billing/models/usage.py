from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount


class UsageAlertSetting(models.Model):
    """When an account's customers want to hear of high water use: above `percent` of usual and
    at least `min_ccf` more. No row: the defaults (150%, 5 CCF, on)."""

    DEFAULT_PERCENT = 150
    DEFAULT_MIN_CCF = Decimal("5")

    service_account = models.OneToOneField(
        ServiceAccount, on_delete=models.CASCADE, related_name="usage_alerts"
    )
    enabled = models.BooleanField(default=True)
    percent = models.PositiveSmallIntegerField(
        default=DEFAULT_PERCENT, validators=[MinValueValidator(110), MaxValueValidator(1000)]
    )
    min_ccf = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=DEFAULT_MIN_CCF,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("1000"))],
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Usage alerts for {self.service_account.account_number}"


class UsageAlert(models.Model):
    """A month of high water use (or a day of water that never stopped flowing), found once."""

    class Kind(models.TextChoices):
        HIGH_USE = "high_use", _("High water use")
        CONTINUOUS_FLOW = "continuous_flow", _("Water running all day (possible leak)")

    service_account = models.ForeignKey(ServiceAccount, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The service month (its first day) for high use; the day the flow was seen for a leak.
    period = models.DateField()
    consumption_ccf = models.DecimalField(max_digits=12, decimal_places=2)
    usual_ccf = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period", "service_account__account_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_account", "kind", "period"], name="billing_usage_alert_once"
            ),
            models.CheckConstraint(
                condition=Q(consumption_ccf__gte=0), name="billing_usage_alert_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.service_account.account_number} {self.period}"

    @property
    def percent_of_usual(self) -> int | None:
        if not self.usual_ccf:
            return None
        return round(self.consumption_ccf / self.usual_ccf * 100)


class IntervalRead(models.Model):
    """Water use in one interval (an hour, say) from a smart meter, for the continuous-flow check."""

    service_account = models.ForeignKey(ServiceAccount, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    gallons = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service_account", "starts_at"], name="billing_interval_read_unique"
            ),
            models.CheckConstraint(condition=Q(gallons__gte=0), name="billing_interval_read_not_negative"),
        ]
        indexes = [models.Index(fields=["service_account", "starts_at"], name="billing_interval_acct_idx")]

    def __str__(self) -> str:
        return f"{self.service_account_id} {self.starts_at}: {self.gallons} gal"
