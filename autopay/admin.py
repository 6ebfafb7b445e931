from django import forms
from django.contrib import admin

from autopay.models import (
    AutopayDraft,
    AutopayEnrollment,
    BankAccount,
    BankDraftAgreement,
    BankPayment,
    PaymentAuthorization,
    ScheduledPayment,
)
from autopay.services.enrollment import (
    aba_routing_number_valid,
    bank_agreement_record,
    bank_agreement_validate,
)
from kernel.adminkit import ReadOnlyModelAdmin
from kernel.errors import ApplicationError


class TypedOnceInput(forms.TextInput):
    """A text box whose value is never written back into the page: a form shown again with an
    error elsewhere does not echo the full bank account number (into the HTML, the browser's
    cache, a screenshot of the error)."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class BankDraftAgreementForm(forms.ModelForm):
    """The account number is typed once and kept encrypted; only its last four digits show."""

    account_number = forms.CharField(
        max_length=17,
        required=False,
        widget=TypedOnceInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text="Digits only. Stored encrypted; shown as the last four digits. If the form comes back "
        "with an error, type it again: it is never shown back.",
        error_messages={"max_length": "The bank account number must be 4 to 17 digits."},
    )

    class Meta:
        model = BankDraftAgreement
        fields = [
            "service_account",
            "holder_name",
            "routing_number",
            "account_type",
            "signed_on",
            "status",
            "inactive_reason",
        ]

    def clean_routing_number(self):
        number = self.cleaned_data["routing_number"].strip()
        if not aba_routing_number_valid(number):
            raise forms.ValidationError("That routing number is not valid: its check digit does not match.")
        return number

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            return cleaned
        if not cleaned.get("account_number"):
            self.add_error("account_number", "Enter the bank account number from the voided check.")
        elif cleaned.get("service_account") and cleaned.get("routing_number"):
            try:
                bank_agreement_validate(
                    service_account=cleaned["service_account"],
                    routing_number=cleaned["routing_number"],
                    account_number="".join(cleaned["account_number"].split()),
                    account_type=cleaned.get("account_type", ""),
                )
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message) from exc
        return cleaned


@admin.register(BankDraftAgreement)
class BankDraftAgreementAdmin(admin.ModelAdmin):
    form = BankDraftAgreementForm
    list_display = ["service_account", "holder_name", "account_type", "account_last4", "signed_on", "status"]
    list_filter = ["status", "account_type"]
    search_fields = ["service_account__account_number", "holder_name"]
    autocomplete_fields = ["service_account"]
    readonly_fields = ["account_last4"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "service_account",
                "holder_name",
                "routing_number",
                "account_number",
                "account_type",
                "signed_on",
            ]
        return [
            "service_account",
            "holder_name",
            "routing_number",
            "account_last4",
            "account_type",
            "signed_on",
            "status",
            "inactive_reason",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "service_account",
            "holder_name",
            "routing_number",
            "account_last4",
            "account_type",
            "signed_on",
        ]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = bank_agreement_record(
            service_account=form.cleaned_data["service_account"],
            holder_name=form.cleaned_data["holder_name"],
            routing_number=form.cleaned_data["routing_number"],
            account_number=form.cleaned_data["account_number"],
            account_type=form.cleaned_data["account_type"],
            signed_on=form.cleaned_data["signed_on"],
            recorded_by=request.user,
        )
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)


@admin.register(AutopayEnrollment)
class AutopayEnrollmentAdmin(ReadOnlyModelAdmin):
    list_display = [
        "service_account",
        "user",
        "card",
        "bank_account",
        "draft_day",
        "max_amount",
        "status",
        "created_at",
    ]
    list_filter = ["status", "draft_day"]
    search_fields = ["service_account__account_number", "user__email"]


@admin.register(PaymentAuthorization)
class PaymentAuthorizationAdmin(ReadOnlyModelAdmin):
    """What customers agreed to online: the evidence if a charge is ever disputed."""

    list_display = ["service_account", "user", "kind", "terms_version", "accepted_at", "ip_address"]
    list_filter = ["kind", "terms_version"]
    search_fields = ["service_account__account_number", "user__email"]


@admin.register(BankAccount)
class BankAccountAdmin(ReadOnlyModelAdmin):
    """Bank accounts customers added online: shown by their last four digits only."""

    list_display = [
        "user",
        "holder_name",
        "account_type",
        "account_last4",
        "status",
        "prenote_file_date",
        "verified_on",
    ]
    list_filter = ["status", "account_type"]
    search_fields = ["user__email", "holder_name", "account_last4", "prenote_trace"]
    exclude = ["account_number_encrypted"]


@admin.register(BankPayment)
class BankPaymentAdmin(ReadOnlyModelAdmin):
    list_display = ["payment", "bank_account", "recurring", "file_date", "trace_number"]
    list_filter = ["file_date", "recurring"]
    search_fields = [
        "payment__confirmation_number",
        "payment__service_account__account_number",
        "trace_number",
    ]


@admin.register(ScheduledPayment)
class ScheduledPaymentAdmin(ReadOnlyModelAdmin):
    list_display = ["service_account", "user", "amount", "pay_on", "status", "payment"]
    list_filter = ["status", "pay_on"]
    search_fields = ["service_account__account_number", "user__email"]


@admin.register(AutopayDraft)
class AutopayDraftAdmin(ReadOnlyModelAdmin):
    list_display = ["service_account", "period", "draft_date", "amount", "status", "attempts", "trace_number"]
    list_filter = ["status", "draft_date"]
    search_fields = ["service_account__account_number", "trace_number"]
