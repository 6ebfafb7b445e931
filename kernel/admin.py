from django.contrib import admin

from kernel.adminkit import ReadOnlyModelAdmin
from kernel.models import AuditEvent, OutboxTask


class PersonFilter(admin.SimpleListFilter):
    """Who did it: each member of staff found in the trail."""

    title = "person"
    parameter_name = "actor_email"

    def lookups(self, request, model_admin):
        # Staff logins, not a scan of the whole trail on every page.
        from django.contrib.auth import get_user_model

        emails = (
            get_user_model().objects.filter(is_staff=True).order_by("email").values_list("email", flat=True)
        )
        return [(email, email) for email in emails]

    def queryset(self, request, queryset):
        return queryset.filter(actor_email=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """Read only for everyone, superusers included: the record is kept as it was written.
    Search by account number; filter by person, action and date."""

    list_display = ["at", "actor_email", "action", "account_number", "summary"]
    list_filter = [PersonFilter, "action", ("at", admin.DateFieldListFilter)]
    search_fields = ["^account_number", "actor_email", "summary", "object_id"]
    search_help_text = "An account number (or its start), a person's email, or words of the summary."
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]


@admin.register(OutboxTask)
class OutboxTaskAdmin(ReadOnlyModelAdmin):
    """Work owed to the queue (kernel.outbox), read only: what waits while Redis is down, and any
    task that could not be sent and why."""

    list_display = ["created_at", "task", "items", "queued_at", "attempts", "failed_at", "last_error"]
    list_filter = [
        "task",
        ("queued_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
    ]
    readonly_fields = [f.name for f in OutboxTask._meta.fields]
