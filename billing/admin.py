from django import forms
from django.contrib import admin

from accounts.admin import ServiceAccountAdmin
from accounts.models import ServiceAccount
from billing.models import (
    AccountService,
    Bill,
    BillingAccount,
    BillLine,
    LedgerEntry,
    MeterRead,
    RateSchedule,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records are written by services, never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccountServiceInline(admin.TabularInline):
    model = AccountService
    extra = 0


class BillingAccountInline(admin.StackedInline):
    model = BillingAccount
    fields = ["balance", "paperless"]
    readonly_fields = ["balance"]
    can_delete = False


admin.site.unregister(ServiceAccount)


@admin.register(ServiceAccount)
class ServiceAccountWithBillingAdmin(ServiceAccountAdmin):
    inlines = [*ServiceAccountAdmin.inlines, AccountServiceInline, BillingAccountInline]


class RateScheduleForm(forms.ModelForm):
    class Meta:
        model = RateSchedule
        fields = ["service", "effective_date", "monthly_charge_per_unit", "charge_per_ccf"]

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        if instance.pk and self.has_changed() and BillLine.objects.filter(rate_schedule=instance).exists():
            raise forms.ValidationError(
                "Bills were issued with these rates, so they cannot change. Add a schedule with a new "
                "effective date instead."
            )
        return cleaned


@admin.register(RateSchedule)
class RateScheduleAdmin(admin.ModelAdmin):
    form = RateScheduleForm
    list_display = ["service", "effective_date", "monthly_charge_per_unit", "charge_per_ccf"]
    list_filter = ["service"]
    date_hierarchy = "effective_date"

    def has_delete_permission(self, request, obj=None):
        if obj is not None and BillLine.objects.filter(rate_schedule=obj).exists():
            return False
        return super().has_delete_permission(request, obj)


class MeterReadForm(forms.ModelForm):
    class Meta:
        model = MeterRead
        fields = ["service_account", "period", "consumption_ccf"]

    def clean(self):
        cleaned = super().clean()
        account, period = cleaned.get("service_account"), cleaned.get("period")
        if period and period.day != 1:
            self.add_error("period", "Use the first day of the service month.")
        billed = account and period and Bill.objects.filter(service_account=account, period=period).exists()
        if billed and (not self.instance.pk or self.has_changed()):
            raise forms.ValidationError("That month is billed already; its read cannot change.")
        return cleaned


@admin.register(MeterRead)
class MeterReadAdmin(admin.ModelAdmin):
    form = MeterReadForm
    list_display = ["service_account", "period", "consumption_ccf"]
    search_fields = ["service_account__account_number"]
    autocomplete_fields = ["service_account"]
    date_hierarchy = "period"


class BillLineInline(admin.TabularInline):
    model = BillLine
    fields = [
        "position",
        "description",
        "units",
        "monthly_charge_per_unit",
        "consumption_ccf",
        "charge_per_ccf",
        "amount",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bill)
class BillAdmin(ReadOnlyAdmin):
    list_display = [
        "service_account",
        "period",
        "issued_on",
        "due_date",
        "new_charges",
        "total_due",
        "past_due_amount",
    ]
    list_filter = ["period"]
    search_fields = ["service_account__account_number", "service_account__customer_name"]
    inlines = [BillLineInline]
    list_select_related = ["service_account"]
    show_full_result_count = False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["service_account", "posted_on", "kind", "amount", "due_date", "description", "source_key"]
    list_filter = ["kind"]
    search_fields = ["service_account__account_number", "source_key"]
    list_select_related = ["service_account"]
    show_full_result_count = False
