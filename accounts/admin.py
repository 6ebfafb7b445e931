from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied

from accounts.models import AccountLink, AccountNote, EmailLog, ServiceAccount, TextMessage, User
from accounts.services import (
    IDENTITY_FIELDS,
    service_account_save_by_staff,
    service_accounts_new_access_codes,
)
from kernel.adminkit import LabelledTabularInline, ReadOnlyModelAdmin
from kernel.errors import ApplicationError


class AccountLinkInline(LabelledTabularInline):
    model = AccountLink
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at"]


class ServiceAccountForm(forms.ModelForm):
    """States in capitals as typed in any case; half a mailing address is refused field by field."""

    class Meta:
        model = ServiceAccount
        fields = [
            "account_number",
            "customer_name",
            "service_address",
            "service_city",
            "service_state",
            "service_zip",
            "tax_lot",
            "status",
            "email",
            "phone",
            "mailing_name",
            "mailing_address",
            "mailing_city",
            "mailing_state",
            "mailing_zip",
        ]

    def clean_service_state(self):
        return (self.cleaned_data.get("service_state") or "").strip().upper()

    def clean_mailing_state(self):
        return (self.cleaned_data.get("mailing_state") or "").strip().upper()

    def clean(self):
        cleaned = super().clean()
        parts = ["mailing_address", "mailing_city", "mailing_state", "mailing_zip"]
        if cleaned.get("mailing_name") or any(cleaned.get(name) for name in parts):
            for name in parts:
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, "Needed for a mailing address (or leave every mailing field empty).")
        return cleaned


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    form = ServiceAccountForm
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
    search_fields = ["account_number", "customer_name", "service_address", "tax_lot", "mailing_name"]
    readonly_fields = ["access_code_display", "created_at", "updated_at"]
    inlines = [AccountLinkInline]
    actions = ["issue_new_access_codes"]
    show_full_result_count = False  # a count of every account on each search is slow at scale

    @admin.display(description="Access code")
    def access_code_display(self, obj):
        # Told to a caller only once they have answered the utility's identity questions.
        return obj.access_code_display

    @admin.action(description="Issue new access codes (the old ones stop working)", permissions=["change"])
    def issue_new_access_codes(self, request, queryset):
        count = service_accounts_new_access_codes(accounts=queryset, by=request.user)
        self.message_user(
            request, f"{count} account(s) have a new access code; it is printed on the next bill."
        )

    def get_readonly_fields(self, request, obj=None):
        # Who the account is changes only by a supervisor; clerks edit the rest.
        if obj is not None and not request.user.has_perm("accounts.change_account_identity"):
            return [*IDENTITY_FIELDS, *self.readonly_fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        try:
            service_account_save_by_staff(
                account=obj, by=request.user, changed=form.changed_data if change else []
            )
        except ApplicationError as exc:
            # The form already hides these fields from those who may not change them.
            messages.error(request, exc.message)
            raise PermissionDenied from exc


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
class EmailLogAdmin(ReadOnlyModelAdmin):
    """What was emailed, read only: search by account number, address or what it was about."""

    list_display = ["created_at", "account_number", "kind", "to_email", "subject", "status", "required"]
    list_filter = ["kind", "status", "required", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["^account_number", "to_email", "reference"]
    search_help_text = (
        "An account number (or its start), an email address, or what the email was about (bill:41)."
    )
    date_hierarchy = "created_at"
    show_full_result_count = False


# allauth's email-address admin declares no permission on its action: it needs the right to
# change email addresses, which no role has (superusers only).
admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class EmailAddressWithPermissionAdmin(EmailAddressAdmin):
    @admin.action(description=EmailAddressAdmin.make_verified.short_description, permissions=["change"])
    def make_verified(self, request, queryset):
        return super().make_verified(request, queryset)


@admin.register(AccountNote)
class AccountNoteAdmin(ReadOnlyModelAdmin):
    """Clerks' contact log, read only here: notes are written on the staff account page."""

    list_display = [
        "created_at",
        "service_account",
        "author",
        "channel",
        "text",
        "promised_amount",
        "follow_up_on",
    ]
    list_filter = ["channel", ("follow_up_on", admin.DateFieldListFilter)]
    search_fields = ["^service_account__account_number", "text", "contact"]
    readonly_fields = [f.name for f in AccountNote._meta.fields]


@admin.register(TextMessage)
class TextMessageAdmin(ReadOnlyModelAdmin):
    """Texts sent, waiting for the morning, skipped or received, read only."""

    list_display = ["created_at", "direction", "account_number", "kind", "number", "status", "send_after"]
    list_filter = ["direction", "status", "kind", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["^account_number", "number", "reference"]
    search_help_text = (
        "An account number (or its start), a mobile number (+15035550100), or what it was about."
    )
