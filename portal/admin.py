from django.contrib import admin

from portal.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read only for everyone, superusers included: the record is kept as it was written."""

    list_display = ["at", "actor_email", "action", "account_number", "summary"]
    list_filter = ["action", "at"]
    search_fields = ["actor_email", "account_number", "summary", "object_id"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
