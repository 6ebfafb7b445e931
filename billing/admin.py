from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.admin import ServiceAccountAdmin
from accounts.models import ServiceAccount
from billing.models import (
    AccountService,
    Adjustment,
    AdjustmentReason,
    Bill,
    BillingAccount,
    BillLine,
    GLAccount,
    Invoice,
    LedgerEntry,
    MeterRead,
    Payment,
    PaymentBatch,
    RateSchedule,
    Refund,
    StripeEvent,
)
from billing.services.batches import (
    payment_batch_payments_save,
    payment_batch_post,
    payment_batch_post_refusal,
    payment_batch_void,
)
from billing.services.refunds import (
    payment_refund,
    payment_return_check,
    refund_approve,
    refund_decline,
    refundable_amount,
)
from kernel.adminkit import LabelledInlineFormSet, LabelledTabularInline, ReadOnlyModelAdmin
from kernel.audit import audit_record
from kernel.errors import ApplicationError


class AccountServiceInline(LabelledTabularInline):
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


class BillLineInline(LabelledTabularInline):
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
class BillAdmin(ReadOnlyModelAdmin):
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
class LedgerEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["service_account", "posted_on", "kind", "amount", "due_date", "description", "source_key"]
    list_filter = ["kind"]
    search_fields = ["service_account__account_number", "source_key"]
    list_select_related = ["service_account"]
    show_full_result_count = False


# --- payments ------------------------------------------------------------------------------


class RefundForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = forms.CharField(max_length=200)


class ReturnedCheckForm(forms.Form):
    returned_on = forms.DateField(help_text="The date the bank returned the check (YYYY-MM-DD).")
    fee = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        initial=Decimal("0"),
        required=False,
        help_text="A returned-check fee to charge the account, if the utility charges one.",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


class ConfirmForm(forms.Form):
    """A confirmation step with nothing to type."""


def confirm_step(
    modeladmin,
    request,
    obj,
    *,
    form_class,
    perform,
    title: str,
    lines: list[str],
    button: str,
    change_url: str,
    refusal: str | None = None,
    initial: dict | None = None,
):
    """The confirmation step of a decision or a money movement in admin: a page that says what
    will happen; on POST, `perform(cleaned_data)` calls the one service and returns the message
    to show. A refusal by the service is shown on the same page and changes nothing; one known
    before (`refusal`) is shown at once, with no button to press."""
    form = form_class(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            message, level = perform(form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            modeladmin.message_user(request, message, level=level)
            return redirect(change_url)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "lines": lines,
        "form": form,
        "cancel_url": change_url,
        "button": button,
        "object": obj,
        "refusal": refusal if request.method != "POST" else None,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/confirm_action.html", context)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyModelAdmin):
    list_display = [
        "confirmation_number",
        "service_account",
        "invoice",
        "amount",
        "status",
        "channel",
        "method",
        "received_on",
        "card_last4",
    ]
    list_filter = ["status", "channel", "method", ("received_on", admin.DateFieldListFilter)]
    date_hierarchy = "received_on"
    search_fields = [
        "confirmation_number",
        "service_account__account_number",
        "invoice__number",
        "check_number",
    ]
    list_select_related = ["service_account", "invoice"]
    show_full_result_count = False
    exclude = ["client_token"]
    change_list_template = "admin/billing/payment/change_list.html"

    def changelist_view(self, request, extra_context=None):
        # The total of the payments listed, as filtered; history from the old system is in the
        # ledger only: the cash receipts report counts both.
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            totals = changelist.queryset.aggregate(total=Sum("amount"), count=Count("pk"))
            response.context_data["payments_total"] = totals["total"] or 0
            response.context_data["payments_count"] = totals["count"]
        return response

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="billing_payment_refund",
            ),
            path(
                "<int:pk>/returned/",
                self.admin_site.admin_view(self.returned_view),
                name="billing_payment_returned",
            ),
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        payment = self.get_object(request, object_id)
        extra = {
            "can_refund": payment is not None
            and payment.stripe_payment_intent_id
            and payment.status == "succeeded"
            and request.user.has_perm("billing.refund_payment"),
            "can_return": payment is not None
            and payment.method in ("check", "bank")
            and payment.status == "succeeded"
            and request.user.has_perm("billing.record_returned_check"),
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def _payment_line(self, payment) -> str:
        source = (
            f"account {payment.service_account.account_number}"
            if payment.service_account_id
            else str(payment.invoice)
        )
        return (
            f"Payment {payment.confirmation_number}: ${payment.amount:,.2f} from {source}, "
            f"received {payment.received_on}."
        )

    def refund_view(self, request, pk):
        if not request.user.has_perm("billing.refund_payment"):
            raise PermissionDenied
        payment = get_object_or_404(Payment.objects.select_related("service_account", "invoice"), pk=pk)
        left = refundable_amount(payment=payment)

        def perform(data):
            refund = payment_refund(
                payment=payment, amount=data["amount"], reason=data["reason"], user=request.user
            )
            if refund.status != Refund.Status.AWAITING_APPROVAL:
                return f"Refunded ${refund.amount:,.2f} of {payment.confirmation_number}.", messages.SUCCESS
            in_all = payment.amount - refundable_amount(payment=payment)
            return (
                f"With this refund of ${refund.amount:,.2f}, refunds of {payment.confirmation_number} "
                f"come to ${in_all:,.2f}, more than ${settings.REFUND_APPROVAL_LIMIT:,.2f}: it waits "
                "for a supervisor's approval. Nothing was refunded yet.",
                messages.WARNING,
            )

        return confirm_step(
            self,
            request,
            payment,
            form_class=RefundForm,
            perform=perform,
            title=f"Refund payment {payment.confirmation_number}",
            lines=[
                self._payment_line(payment),
                f"Refunded or waiting for approval so far: ${payment.amount - left:,.2f}; "
                f"at most ${left:,.2f} more.",
                f"When the refunds of one payment come to more than ${settings.REFUND_APPROVAL_LIMIT:,.2f} "
                "in all, the refund waits for a supervisor's approval.",
            ],
            button="Confirm",
            change_url=reverse("admin:billing_payment_change", args=[payment.pk]),
            initial={"amount": left},
        )

    def returned_view(self, request, pk):
        if not request.user.has_perm("billing.record_returned_check"):
            raise PermissionDenied
        payment = get_object_or_404(Payment.objects.select_related("service_account", "invoice"), pk=pk)

        def perform(data):
            payment_return_check(
                payment=payment,
                returned_on=data["returned_on"],
                fee=data["fee"] or Decimal("0"),
                user=request.user,
            )
            return (
                f"Payment {payment.confirmation_number} was reversed as a returned check.",
                messages.SUCCESS,
            )

        return confirm_step(
            self,
            request,
            payment,
            form_class=ReturnedCheckForm,
            perform=perform,
            title=f"Returned check: {payment.confirmation_number}",
            lines=[self._payment_line(payment)],
            button="Confirm",
            change_url=reverse("admin:billing_payment_change", args=[payment.pk]),
        )


def clean_positive_amount(amount):
    """Dollars and cents above zero (the database refuses anything else)."""
    if amount is None or amount <= 0 or amount.as_tuple().exponent < -2:
        raise forms.ValidationError("Enter the amount in dollars and cents, more than zero.")
    return amount


class BatchPaymentForm(forms.ModelForm):
    class Meta:
        model = Payment
        fields = ["service_account", "amount", "method", "check_number"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "service_account" not in self.fields:
            return  # a posted or voided batch: every field is read only
        self.fields["service_account"].required = True
        self.fields["method"].choices = [
            (value, label) for value, label in Payment.Method.choices if value in ("check", "cash")
        ]
        if self.instance.pk is None:
            # A blank row starts as a check, so an empty row left on the page counts as unchanged.
            self.initial["method"] = Payment.Method.CHECK

    def clean_amount(self):
        return clean_positive_amount(self.cleaned_data["amount"])


class BatchPaymentFormSet(LabelledInlineFormSet):
    """Each payment row is changed or removed only by the person who keyed it: the two-person
    rule counts who keyed a batch, so nobody may rework someone else's rows and then post them."""

    staff_user = None  # set per request by BatchPaymentInline.get_formset

    def clean(self):
        super().clean()
        for form in self.initial_forms:
            touched = form.has_changed() or (self.can_delete and self._should_delete_form(form))
            if touched and form.instance.created_by_id != self.staff_user.pk:
                raise forms.ValidationError(
                    f"The payment of ${form.instance.amount:,.2f} was keyed by "
                    f"{form.instance.created_by or 'the lockbox import'}; only they can change or remove it. "
                    "A batch keyed wrong is voided by a supervisor and keyed again."
                )


class BatchPaymentInline(LabelledTabularInline):
    model = Payment
    form = BatchPaymentForm
    formset = BatchPaymentFormSet
    fields = ["service_account", "amount", "method", "check_number", "status", "created_by"]
    readonly_fields = ["status", "created_by"]
    autocomplete_fields = ["service_account"]
    extra = 5

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.staff_user = request.user
        return formset

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != PaymentBatch.Status.OPEN:
            return self.fields
        return self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return (obj is None or obj.status == PaymentBatch.Status.OPEN) and super().has_add_permission(
            request, obj
        )

    def has_change_permission(self, request, obj=None):
        return (obj is None or obj.status == PaymentBatch.Status.OPEN) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.status == PaymentBatch.Status.OPEN) and super().has_delete_permission(
            request, obj
        )


@admin.register(PaymentBatch)
class PaymentBatchAdmin(admin.ModelAdmin):
    list_display = [
        "deposit_date",
        "kind",
        "control_count",
        "control_total",
        "status",
        "created_by",
        "posted_by",
        "posted_at",
    ]
    list_filter = ["kind", "status"]
    fields = [
        "kind",
        "deposit_date",
        "control_count",
        "control_total",
        "note",
        "status",
        "created_by",
        "posted_by",
        "posted_at",
    ]
    inlines = [BatchPaymentInline]
    actions = ["post_batches"]
    change_form_template = "admin/billing/paymentbatch/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["status", "created_by", "posted_by", "posted_at"]
        if obj.status != PaymentBatch.Status.OPEN:
            return self.fields
        # The control is what the deposit slip says; it is fixed once the batch is opened, so
        # the payments must be keyed to match it, never the other way round. The kind and date
        # are fixed too: every payment keyed so far took them.
        return [
            "kind",
            "deposit_date",
            "control_count",
            "control_total",
            "status",
            "created_by",
            "posted_by",
            "posted_at",
        ]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            # A lockbox batch comes only from the bank's file (import_lockbox).
            kwargs["choices"] = [
                (value, label)
                for value, label in PaymentBatch.Kind.choices
                if value != PaymentBatch.Kind.LOCKBOX
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_post_permission(self, request):
        return request.user.has_perm("billing.post_paymentbatch")

    def has_change_permission(self, request, obj=None):
        # A posted or voided batch is a record: shown, never saved again.
        if obj is not None and obj.status != PaymentBatch.Status.OPEN:
            return False
        return super().has_change_permission(request, obj)

    def get_urls(self):
        return [
            path(
                "<int:pk>/post/", self.admin_site.admin_view(self.post_view), name="billing_paymentbatch_post"
            ),
            path(
                "<int:pk>/void/", self.admin_site.admin_view(self.void_view), name="billing_paymentbatch_void"
            ),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        batch = self.get_object(request, object_id)
        is_open = batch is not None and batch.status == PaymentBatch.Status.OPEN
        extra = {
            "can_post": is_open and self.has_post_permission(request),
            "can_void": is_open and request.user.has_perm("billing.void_paymentbatch"),
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        try:
            payment_batch_payments_save(
                batch=form.instance,
                payments=formset.save(commit=False),
                deleted=formset.deleted_objects,
                by=request.user,
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)

    def _batch_lines(self, batch):
        totals = batch.payments.aggregate(count=Count("pk"), total=Sum("amount"))
        keyed = (
            batch.payments.exclude(created_by=None)
            .order_by()
            .values_list("created_by__email", flat=True)
            .distinct()
        )
        return [
            f"Control: {batch.control_count} payment(s) totalling ${batch.control_total:,.2f}.",
            f"Entered: {totals['count']} payment(s) totalling ${totals['total'] or 0:,.2f}.",
            f"Opened by {batch.created_by or 'the lockbox import'}; keyed by {', '.join(sorted(keyed)) or 'nobody yet'}.",
        ]

    def post_view(self, request, pk):
        if not self.has_post_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(PaymentBatch, pk=pk)

        def perform(data):
            payment_batch_post(batch=batch, user=request.user)
            return f"{batch}: posted.", messages.SUCCESS

        return confirm_step(
            self,
            request,
            batch,
            form_class=ConfirmForm,
            perform=perform,
            title=f"Post {batch}",
            lines=[*self._batch_lines(batch), "Posting puts every payment on its account's ledger."],
            button="Post the batch",
            change_url=reverse("admin:billing_paymentbatch_change", args=[batch.pk]),
            refusal=payment_batch_post_refusal(batch=batch, user=request.user),
        )

    def void_view(self, request, pk):
        if not request.user.has_perm("billing.void_paymentbatch"):
            raise PermissionDenied
        batch = get_object_or_404(PaymentBatch, pk=pk)

        def perform(data):
            payment_batch_void(batch=batch, user=request.user, reason=data["reason"])
            return f"{batch}: voided. Key its checks again in a new batch.", messages.SUCCESS

        return confirm_step(
            self,
            request,
            batch,
            form_class=ReasonForm,
            perform=perform,
            title=f"Void {batch}",
            lines=[
                *self._batch_lines(batch),
                "Voiding sets the batch aside: none of its payments is posted.",
            ],
            button="Void the batch",
            change_url=reverse("admin:billing_paymentbatch_change", args=[batch.pk]),
        )

    @admin.action(description="Post the selected batches (only when they add up)", permissions=["post"])
    def post_batches(self, request, queryset):
        for batch in queryset:
            try:
                payment_batch_post(batch=batch, user=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{batch}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{batch}: posted.", level=messages.SUCCESS)


class InvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        fields = ["number", "kind", "payer_name", "payer_zip", "amount", "due_date", "description"]

    def clean_amount(self):
        return clean_positive_amount(self.cleaned_data["amount"])

    def clean_payer_zip(self):
        value = self.cleaned_data["payer_zip"].strip()
        if not (len(value) == 5 and value.isdigit()):
            raise forms.ValidationError("Enter the payer's 5-digit ZIP code.")
        return value


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Clerks enter invoices; once anything was paid on one it no longer changes, and every
    change before that is in the audit trail."""

    form = InvoiceForm
    list_display = ["number", "kind", "payer_name", "amount", "due_date"]
    list_filter = ["kind"]
    search_fields = ["number", "payer_name"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.payments.exclude(status__in=["failed", "canceled"]).exists():
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = Invoice.objects.filter(pk=obj.pk).values(*form.changed_data).first() if change else None
            super().save_model(request, obj, form, change)
            if before:
                audit_record(
                    actor=request.user,
                    action="invoice.change",
                    target=obj,
                    summary=f"Changed {', '.join(form.changed_data)} of invoice {obj.number}",
                    changes={name: [before[name], getattr(obj, name)] for name in form.changed_data},
                )


@admin.register(Refund)
class RefundAdmin(ReadOnlyModelAdmin):
    """Refunds, and the supervisors' queue of those above REFUND_APPROVAL_LIMIT."""

    list_display = ["payment", "amount", "status", "reason", "created_by", "created_at", "reviewed_by"]
    list_filter = ["status"]
    search_fields = ["payment__confirmation_number", "payment__service_account__account_number"]
    list_select_related = ["payment", "created_by", "reviewed_by"]
    actions = ["approve_refunds"]
    change_form_template = "admin/billing/refund/change_form.html"

    def has_approve_permission(self, request):
        return request.user.has_perm("billing.approve_refund")

    def get_urls(self):
        return [
            path(
                "<int:pk>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="billing_refund_approve",
            ),
            path(
                "<int:pk>/decline/",
                self.admin_site.admin_view(self.decline_view),
                name="billing_refund_decline",
            ),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        if self.has_approve_permission(request) and "status__exact" not in request.GET:
            waiting = Refund.objects.filter(status=Refund.Status.AWAITING_APPROVAL).count()
            if waiting:
                self.message_user(
                    request,
                    format_html(
                        '{} refund(s) wait for approval: <a href="?status__exact=awaiting_approval">see them</a>.',
                        waiting,
                    ),
                    level=messages.WARNING,
                )
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        refund = self.get_object(request, object_id)
        extra = {
            "can_decide": refund is not None
            and refund.status == Refund.Status.AWAITING_APPROVAL
            and self.has_approve_permission(request)
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def _lines(self, refund):
        payment = refund.payment
        account = (
            payment.service_account.account_number if payment.service_account_id else str(payment.invoice)
        )
        return [
            f"Refund of ${refund.amount:,.2f} on payment {payment.confirmation_number} "
            f"(${payment.amount:,.2f}, account {account}, received {payment.received_on}).",
            f"Asked for by {refund.created_by} on {timezone.localtime(refund.created_at):%Y-%m-%d %H:%M}: "
            f"{refund.reason}",
        ]

    def approve_view(self, request, pk):
        if not self.has_approve_permission(request):
            raise PermissionDenied
        refund = get_object_or_404(Refund.objects.select_related("payment__service_account"), pk=pk)

        def perform(data):
            done = refund_approve(refund=refund, user=request.user)
            return f"Approved: {done}, {done.get_status_display().lower()}.", messages.SUCCESS

        return confirm_step(
            self,
            request,
            refund,
            form_class=ConfirmForm,
            perform=perform,
            title=f"Approve the refund on {refund.payment.confirmation_number}",
            lines=[*self._lines(refund), "Approving sends the money back to the card now."],
            button="Approve and refund",
            change_url=reverse("admin:billing_refund_change", args=[refund.pk]),
        )

    def decline_view(self, request, pk):
        if not self.has_approve_permission(request):
            raise PermissionDenied
        refund = get_object_or_404(Refund.objects.select_related("payment__service_account"), pk=pk)

        def perform(data):
            refund_decline(refund=refund, user=request.user, reason=data["reason"])
            return "Declined: nothing was refunded.", messages.SUCCESS

        return confirm_step(
            self,
            request,
            refund,
            form_class=ReasonForm,
            perform=perform,
            title=f"Decline the refund on {refund.payment.confirmation_number}",
            lines=self._lines(refund),
            button="Decline",
            change_url=reverse("admin:billing_refund_change", args=[refund.pk]),
        )

    @admin.action(description="Approve the selected refunds", permissions=["approve"])
    def approve_refunds(self, request, queryset):
        for refund in queryset.filter(status=Refund.Status.AWAITING_APPROVAL):
            try:
                refund_approve(refund=refund, user=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{refund}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{refund}: approved.", level=messages.SUCCESS)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyModelAdmin):
    list_display = ["event_id", "type", "received_at", "processed_at"]
    list_filter = ["type"]
    search_fields = ["event_id"]


@admin.register(AdjustmentReason)
class AdjustmentReasonAdmin(admin.ModelAdmin):
    """The utility's list of adjustment reasons. Retire one (untick "active") rather than delete it."""

    list_display = ["name", "active"]
    list_filter = ["active"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyModelAdmin):
    """Adjustments, read only: they are asked for, approved and reversed from the staff pages."""

    list_display = ["requested_at", "service_account", "kind", "amount", "reason", "status", "requested_by"]
    list_filter = ["status", "kind", "reason"]
    search_fields = ["^service_account__account_number", "memo"]


@admin.register(GLAccount)
class GLAccountAdmin(admin.ModelAdmin):
    """One account per role the journal uses: finance sets each one's code and name."""

    list_display = ["code", "name", "role"]
    fields = ["role", "code", "name"]
    readonly_fields = ["role"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
