"""A customer's request to start, stop or move service, worked by a clerk step by step."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from billing.models.core import Bill


class ServiceRequest(models.Model):
    class Kind(models.TextChoices):
        MOVE_IN = "move_in", _("Start service")
        MOVE_OUT = "move_out", _("Stop service")
        TRANSFER = "transfer", _("Move to another address we serve")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        DECLINED = "declined", _("Declined")

    OPEN_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS)

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_requests"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Stopping (moving out, or the old end of a move).
    from_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="stop_requests"
    )
    stop_on = models.DateField("last day of service", null=True, blank=True)
    forwarding_address = models.CharField(max_length=200, blank=True)
    forwarding_city = models.CharField(max_length=100, blank=True)
    forwarding_state = models.CharField(max_length=2, blank=True)
    forwarding_zip = models.CharField(max_length=10, blank=True)

    # Starting (moving in, or the new end of a move).
    start_on = models.DateField("first day of service", null=True, blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    service_address = models.CharField(max_length=200, blank=True)
    service_city = models.CharField(max_length=100, blank=True)
    service_zip = models.CharField(max_length=5, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    note = models.TextField("anything else we should know", blank=True)
    language = models.CharField(max_length=10, blank=True, help_text="The language the customer asked in.")

    # The clerk's work.
    new_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="start_requests"
    )
    final_bill = models.ForeignKey(Bill, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    transferred_at = models.DateTimeField(null=True, blank=True)
    transfer_summary = models.TextField(blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decline_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # One open request per account being stopped: a second would close it twice.
            models.UniqueConstraint(
                fields=["from_account"],
                condition=Q(status__in=["received", "in_progress"]),
                name="billing_servicerequest_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=Q(kind="move_in") | (Q(from_account__isnull=False) & Q(stop_on__isnull=False)),
                name="billing_servicerequest_stop_has_account_and_date",
            ),
            models.CheckConstraint(
                condition=Q(kind="move_out") | (Q(start_on__isnull=False) & ~Q(service_address="")),
                name="billing_servicerequest_start_has_address_and_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def stops(self) -> bool:
        return self.kind in (self.Kind.MOVE_OUT, self.Kind.TRANSFER)

    @property
    def starts(self) -> bool:
        return self.kind in (self.Kind.MOVE_IN, self.Kind.TRANSFER)

    @property
    def steps_left(self) -> list[str]:
        """What the clerk still has to do, in order."""
        left = []
        if self.starts and self.new_account_id is None:
            left.append("open")
        if self.stops and self.final_bill_id is None:
            left.append("close")
        if self.kind == self.Kind.TRANSFER and self.transferred_at is None:
            left.append("transfer")
        return left
