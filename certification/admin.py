from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from billing.calendar import parse_year
from certification.models import Certification, CertifiedItem, Dispute, DisputeDocument, Notice
from certification.services.disputes import dispute_resolve
from certification.services.exports import certification_export
from kernel.adminkit import LabelledTabularInline, ReadOnlyModelAdmin
from kernel.errors import ApplicationError


class CertifiedItemInline(LabelledTabularInline):
    model = CertifiedItem
    fields = ["charge", "amount", "transfer"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Certification)
class CertificationAdmin(ReadOnlyModelAdmin):
    list_display = [
        "year",
        "tax_lot",
        "service_account",
        "owner_name",
        "delinquent_amount",
        "processing_fee",
        "total_certified",
        "status",
    ]
    list_filter = ["year", "status"]
    search_fields = ["service_account__account_number", "tax_lot", "owner_name"]
    list_select_related = ["service_account"]
    inlines = [CertifiedItemInline]
    change_list_template = "admin/certification/certification/change_list.html"

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="certification_export"),
            path("sent/", self.admin_site.admin_view(self.submit_view), name="certification_submit"),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        years = Certification.objects.values_list("year", flat=True).distinct().order_by("-year")
        extra = {
            "export_years": list(years),
            "can_export": request.user.has_perm("certification.export_certification"),
        }
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def export_view(self, request):
        """The tax collector's file, the same bytes as `export_certification`."""
        if not request.user.has_perm("certification.export_certification"):
            raise PermissionDenied
        try:
            year = int(request.GET.get("year", ""))
        except ValueError:
            year = 0
        fmt = request.GET.get("format", "csv")
        if not 2000 <= year <= 2100 or fmt not in ("csv", "xlsx"):
            return HttpResponse("Choose a year and csv or xlsx.", status=400, content_type="text/plain")
        data = certification_export(year=year, fmt=fmt)
        content_type = (
            "text/csv"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="certification-{year}.{fmt}"'
        return response

    def submit_view(self, request):
        """Record the year's list, as it is now, as the one sent to the tax collector."""
        from django.urls import reverse

        from certification.models import CertificationSubmission
        from certification.services.submissions import certification_submit

        if not request.user.has_perm("certification.export_certification"):
            raise PermissionDenied
        typed = request.GET.get("year", "")
        year = parse_year(typed)
        changelist = reverse("admin:certification_certification_changelist")
        if year is None:
            self.message_user(request, "Choose a year.", level=messages.ERROR)
            return redirect(changelist)
        if request.method == "POST":
            try:
                submission = certification_submit(year=year, by=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"The {year} list ({len(submission.rows)} accounts) is kept as sent; later changes go on "
                    "its supplemental list.",
                )
            return redirect(changelist)
        earlier = CertificationSubmission.objects.filter(year=year).first()
        lines = [
            f"This keeps the {year} list, as it is now, as the one sent to the tax collector: the file in private "
            "storage and each row, so a dispute resolved later gives a supplemental list of the changes.",
        ]
        if earlier:
            lines.append(
                f"The {year} list was recorded as sent on {earlier.sent_at:%m/%d/%Y}; this records it again."
            )
        return TemplateResponse(
            request,
            "admin/confirm_action.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Record the {year} list as sent",
                "lines": lines,
                "form": forms.Form(),
                "cancel_url": changelist,
                "button": f"Record the {year} list as sent",
                "object": f"Certification {year}",
                "opts": self.model._meta,
            },
        )


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(s, label) for s, label in Dispute.Status.choices if s != "open"], widget=forms.RadioSelect
    )
    new_amount = forms.DecimalField(
        required=False,
        min_value=Decimal("0"),
        decimal_places=2,
        max_digits=12,
        help_text="For an adjustment: the certified charges as they should be.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), help_text="What was found; the customer is told it."
    )


class DisputeDocumentInline(LabelledTabularInline):
    model = DisputeDocument
    extra = 0
    can_delete = False
    fields = ["open", "content_type", "size", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # The papers a customer sent with a dispute, for whoever reads disputes (and resolves them).
        return request.user.has_perm("certification.view_dispute")

    @admin.display(description="Document")
    def open(self, obj):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("certification_dispute_document", args=[obj.pk]),
            obj.original_name,
        )


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyModelAdmin):
    list_display = ["certification", "opened_by", "status", "created_at", "resolved_by"]
    list_filter = ["status"]
    search_fields = ["certification__service_account__account_number", "opened_by__email"]
    change_form_template = "admin/certification/dispute/change_form.html"
    inlines = [DisputeDocumentInline]
    readonly_fields = ["charges_disputed"]

    @admin.display(description="Charges disputed")
    def charges_disputed(self, obj):
        items = list(obj.items.select_related("charge").order_by("charge__due_date"))
        if not items:
            return "All the charges of the certification"
        return "; ".join(
            f"{item.charge.description or item.charge.get_kind_display()}, due {item.charge.due_date or item.charge.posted_on:%m/%d/%Y}: "
            f"${item.amount:,.2f}"
            for item in items
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="certification_dispute_resolve",
            ),
        ] + super().get_urls()

    def resolve_view(self, request, pk):
        if not request.user.has_perm("certification.resolve_dispute"):
            raise PermissionDenied
        dispute = get_object_or_404(Dispute, pk=pk)
        form = ResolveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                dispute_resolve(
                    dispute=dispute,
                    by=request.user,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                    new_amount=form.cleaned_data["new_amount"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, "The dispute is resolved and the customer was told.")
                return redirect("admin:certification_dispute_change", dispute.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Resolve: {dispute}",
            "form": form,
            "dispute": dispute,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/certification/dispute/resolve.html", context)


@admin.register(Notice)
class NoticeAdmin(ReadOnlyModelAdmin):
    list_display = ["kind", "service_account", "occasion", "amount", "batch_file", "created_at"]
    list_filter = ["kind", "occasion"]
    search_fields = ["service_account__account_number"]
