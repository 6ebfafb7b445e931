from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import AccountLink, EmailLog, ServiceAccount, User


class AccountLinkInline(admin.TabularInline):
    model = AccountLink
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at"]


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    list_display = [
        "account_number",
        "customer_name",
        "service_address",
        "service_city",
        "service_zip",
        "tax_lot",
        "status",
    ]
    list_filter = ["status"]
    search_fields = ["account_number", "customer_name", "service_address", "tax_lot"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [AccountLinkInline]
    show_full_result_count = False  # a count of every account on each search is slow at scale


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(EmailLog)
class EmailLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "to_email", "subject", "status", "required"]
    list_filter = ["kind", "status", "required"]
    search_fields = ["to_email", "reference"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
