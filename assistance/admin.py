from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from assistance.models import (
    ApplicationDocument,
    ApplicationEvent,
    AssistanceApplication,
    DocumentRequest,
    HouseholdMember,
    IncomeGuideline,
    IncomeSource,
    PaymentPlan,
)
from assistance.selectors import application_case
from assistance.services.applications import (
    application_approve,
    application_deny,
    application_documents_seen,
    application_set_status,
)
from assistance.services.documents import documents_request
from assistance.services.plans import plan_decide
from kernel.adminkit import LabelledTabularInline, label_date_and_time
from kernel.errors import ApplicationError


@admin.register(IncomeGuideline)
class IncomeGuidelineAdmin(admin.ModelAdmin):
    list_display = ["program_year", "household_size", "monthly_income_limit", "credit"]
    list_filter = ["program_year"]


class MemberInline(LabelledTabularInline):
    model = HouseholdMember
    extra = 0
    can_delete = False
    readonly_fields = ["name", "relationship"]

    def has_add_permission(self, request, obj=None):
        return False


class IncomeInline(LabelledTabularInline):
    model = IncomeSource
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "monthly_amount"]

    def has_add_permission(self, request, obj=None):
        return False


class DocumentInline(LabelledTabularInline):
    model = ApplicationDocument
    extra = 0
    can_delete = False
    fields = ["kind", "open", "content_type", "size", "uploaded_at", "request", "deleted_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Document")
    def open(self, obj):
        if not obj.file:
            return f"{obj.original_name} (deleted after the retention period)"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("assistance_document", args=[obj.pk]),
            obj.original_name,
        )


class DocumentRequestInline(LabelledTabularInline):
    model = DocumentRequest
    extra = 0
    can_delete = False
    fields = ["note", "requested_by", "requested_at", "answered_at"]
    readonly_fields = fields
    verbose_name = "request for documents"
    verbose_name_plural = "requests for documents"

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Part of the application: whoever may read it reads what was asked of the applicant.
        return request.user.has_perm("assistance.view_assistanceapplication")


class DocumentRequestForm(forms.Form):
    note = forms.CharField(
        label="What the customer should send",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Emailed to the applicant and shown on their application page, where they add the files.",
    )


class EventInline(LabelledTabularInline):
    model = ApplicationEvent
    extra = 0
    can_delete = False
    fields = ["at", "from_status", "to_status", "by", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class DenyForm(forms.Form):
    # The code is shown to the customer in their language, then the clerk's own words.
    code = forms.ChoiceField(label="Reason", choices=AssistanceApplication.DenialReason.choices)
    reason = forms.CharField(
        label="What the customer reads",
        max_length=240,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Follows the reason above in the email and on the customer's application page.",
    )


class DecideForm(forms.Form):
    documents_verified = forms.BooleanField(
        label="I verified the photo ID and proof of income of everyone in the household",
        required=False,
        help_text="Needed to approve unless the appointment is recorded as kept (ID and income seen).",
    )


@admin.register(AssistanceApplication)
class AssistanceApplicationAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "service_account",
        "applicant",
        "status",
        "program_year",
        "household_size",
        "monthly_income",
        "submitted_at",
        "appointment_at",
    ]
    list_filter = ["status", "program_year", ("submitted_at", admin.DateFieldListFilter)]
    search_fields = [
        "service_account__account_number",
        "service_account__customer_name",
        "applicant__email",
        "members__name",
        "attestation_name",
    ]
    list_select_related = ["service_account", "applicant"]
    inlines = [MemberInline, IncomeInline, DocumentInline, DocumentRequestInline, EventInline]
    fields = [
        "service_account",
        "applicant",
        "status",
        "program_year",
        "household_size",
        "monthly_income",
        "phone",
        "preferred_contact_time",
        "attestation_name",
        "attested_on",
        "assessment_notes",
        "appointment_at",
        "documents_seen_at",
        "documents_seen_by",
        "credit_amount",
        "conservation_materials_provided",
        "decision_reason",
        "reviewed_by",
        "reviewed_at",
        "closed_at",
    ]
    readonly_fields = [
        "service_account",
        "applicant",
        "status",
        "program_year",
        "household_size",
        "monthly_income",
        "phone",
        "preferred_contact_time",
        "attestation_name",
        "attested_on",
        "credit_amount",
        "conservation_materials_provided",
        "decision_reason",
        "reviewed_by",
        "reviewed_at",
        "closed_at",
        "documents_seen_at",
        "documents_seen_by",
    ]
    actions = ["mark_documents_seen", "approve", "mark_assessed", "mark_withdrawn", "mark_expired"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        return request.user.has_perm("assistance.decide_assistanceapplication")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return label_date_and_time(super().formfield_for_dbfield(db_field, request, **kwargs))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "can_decide": self.has_decide_permission(request),
            "retention_days": settings.ASSISTANCE_DOCUMENT_RETENTION_DAYS,
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def get_urls(self):
        return [
            path(
                "<int:pk>/deny/",
                self.admin_site.admin_view(self.deny_view),
                name="assistance_application_deny",
            ),
            path(
                "<int:pk>/ask-for-documents/",
                self.admin_site.admin_view(self.documents_request_view),
                name="assistance_application_documents_request",
            ),
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="assistance_application_decide",
            ),
        ] + super().get_urls()

    def save_model(self, request, obj, form, change):
        # Notes and the appointment time are edited here; a new appointment moves the status along.
        previous = AssistanceApplication.objects.get(pk=obj.pk)
        super().save_model(request, obj, form, change)
        if obj.appointment_at and obj.appointment_at != previous.appointment_at and obj.is_open:
            try:
                application_set_status(
                    application=obj,
                    status="appointment_scheduled",
                    by=request.user,
                    note="Appointment set",
                    appointment_at=obj.appointment_at,
                )
            except ApplicationError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)

    def _each(self, request, queryset, action, done):
        for application in queryset:
            try:
                action(application)
            except ApplicationError as exc:
                self.message_user(
                    request, f"Application {application.pk}: {exc.message}", level=messages.ERROR
                )
            else:
                self.message_user(request, f"Application {application.pk}: {done}.", level=messages.SUCCESS)

    @admin.action(description="Record the appointment kept (ID and income seen)", permissions=["change"])
    def mark_documents_seen(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda a: application_documents_seen(application=a, by=request.user),
            "the appointment is recorded as kept",
        )

    @admin.action(description="Approve (appointment kept): credit, fees waived", permissions=["decide"])
    def approve(self, request, queryset):
        # The same checks as the Decide page; documents verified early are recorded only there.
        self._each(
            request, queryset, lambda a: application_approve(application=a, by=request.user), "approved"
        )

    def decide_view(self, request, pk):
        """The case on one page: household, income, the program year's limit and credit, the verdict,
        the account's balance and the fees approval would waive; then approve, mark assessed or deny."""
        if not self.has_decide_permission(request):
            raise PermissionDenied
        application = get_object_or_404(
            AssistanceApplication.objects.select_related("service_account", "applicant"), pk=pk
        )
        decide_form = DecideForm(request.POST if request.POST.get("decision") == "approve" else None)
        deny_form = DenyForm(request.POST if request.POST.get("decision") == "deny" else None, prefix="deny")
        if request.method == "POST":
            decision = request.POST.get("decision")
            try:
                if decision == "approve" and decide_form.is_valid():
                    application_approve(
                        application=application,
                        by=request.user,
                        documents_verified=decide_form.cleaned_data["documents_verified"],
                    )
                    self.message_user(request, f"Application {application.pk} approved.")
                    return redirect("admin:assistance_assistanceapplication_change", application.pk)
                if decision == "documents_seen":
                    application_documents_seen(application=application, by=request.user)
                    self.message_user(
                        request, f"Application {application.pk}: the appointment is recorded as kept."
                    )
                    return redirect("admin:assistance_application_decide", application.pk)
                if decision == "assessed":
                    application_set_status(application=application, status="assessed", by=request.user)
                    self.message_user(request, f"Application {application.pk} marked assessed.")
                    return redirect("admin:assistance_application_decide", application.pk)
                if decision == "deny" and deny_form.is_valid():
                    application_deny(
                        application=application,
                        by=request.user,
                        reason=deny_form.cleaned_data["reason"],
                        code=deny_form.cleaned_data["code"],
                    )
                    self.message_user(request, f"Application {application.pk} denied.")
                    return redirect("admin:assistance_assistanceapplication_change", application.pk)
            except ApplicationError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Decide application {application.pk}",
            "application": application,
            "case": application_case(application=application),
            "decide_form": decide_form,
            "deny_form": deny_form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/assistance/decide.html", context)

    def _mark(self, request, queryset, status):
        self._each(
            request,
            queryset,
            lambda a: application_set_status(application=a, status=status, by=request.user),
            status,
        )

    @admin.action(description="Mark assessed (phone assessment done)", permissions=["change"])
    def mark_assessed(self, request, queryset):
        self._mark(request, queryset, "assessed")

    @admin.action(description="Mark withdrawn", permissions=["change"])
    def mark_withdrawn(self, request, queryset):
        self._mark(request, queryset, "withdrawn")

    @admin.action(description="Mark expired", permissions=["change"])
    def mark_expired(self, request, queryset):
        self._mark(request, queryset, "expired")

    def documents_request_view(self, request, pk):
        if not self.has_change_permission(request):
            raise PermissionDenied
        application = get_object_or_404(AssistanceApplication, pk=pk)
        form = DocumentRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                documents_request(application=application, by=request.user, note=form.cleaned_data["note"])
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, "The applicant was emailed what to send.")
                return redirect("admin:assistance_assistanceapplication_change", application.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Ask for documents: application {application.pk}",
            "form": form,
            "application": application,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/assistance/documents_request.html", context)

    def deny_view(self, request, pk):
        if not self.has_decide_permission(request):
            raise PermissionDenied
        application = get_object_or_404(AssistanceApplication, pk=pk)
        form = DenyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                application_deny(
                    application=application,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    code=form.cleaned_data["code"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Application {application.pk} denied.")
                return redirect("admin:assistance_assistanceapplication_change", application.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Deny application {application.pk}",
            "form": form,
            "application": application,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/assistance/deny.html", context)


@admin.register(PaymentPlan)
class PaymentPlanAdmin(admin.ModelAdmin):
    list_display = ["service_account", "installments", "total", "status", "requested_at", "reviewed_by"]
    list_filter = ["status"]
    search_fields = ["service_account__account_number"]
    readonly_fields = [
        "service_account",
        "requested_by",
        "installments",
        "total",
        "status",
        "requested_at",
        "starts_on",
        "reviewed_by",
        "reviewed_at",
        "ended_on",
    ]
    fields = readonly_fields + ["decision_reason"]
    actions = ["approve_plans", "decline_plans"]

    def has_add_permission(self, request):
        return False

    def has_decide_permission(self, request):
        return request.user.has_perm("assistance.decide_paymentplan")

    @admin.action(description="Approve the selected plan requests", permissions=["decide"])
    def approve_plans(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description="Decline the selected plans (write each reason first)", permissions=["decide"])
    def decline_plans(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def _decide(self, request, queryset, *, approve: bool):
        for plan in queryset:
            if plan.status != PaymentPlan.Status.REQUESTED:
                self.message_user(
                    request, f"{plan}: already {plan.get_status_display().lower()}.", level=messages.WARNING
                )
                continue
            try:
                decided = plan_decide(
                    plan=plan, approve=approve, by=request.user, reason=plan.decision_reason
                )
            except ApplicationError as exc:
                self.message_user(request, f"{plan}: {exc.message}", level=messages.ERROR)
            else:
                if decided.reviewed_by_id != request.user.pk or decided.status in ("withdrawn", "requested"):
                    # Decided (or withdrawn by the customer) since the list was shown: nothing was done.
                    self.message_user(
                        request,
                        f"{plan}: already {decided.get_status_display().lower()}; nothing was changed.",
                        level=messages.WARNING,
                    )
                    continue
                done = "approved" if approve else "declined"
                self.message_user(
                    request, f"{plan}: {done}; the customer was emailed.", level=messages.SUCCESS
                )
