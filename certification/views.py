from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.selectors import service_account_get_for_user
from billing.calendar import local_today
from certification.models import DisputeDocument
from certification.selectors import certifications_for_account, certified_charges_by_month, tax_lot_accounts
from certification.services.disputes import dispute_open, dispute_open_for
from kernel.errors import ApplicationError
from kernel.forms import DocumentField
from kernel.money import money
from kernel.uploads import UPLOAD_HELP, private_file_response


class DisputeForm(forms.Form):
    items = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Which charges do you dispute?"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Tick each charge you believe is wrong. If you believe all of them are, you may leave every box empty."
        ),
    )
    reason = forms.CharField(
        label=gettext_lazy("What do you believe is wrong?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "For example: a payment that is not counted, a charge for a month you did not own the property."
        ),
        error_messages={"required": gettext_lazy("Tell us what you believe is wrong.")},
    )
    document = DocumentField(
        label=gettext_lazy("A document that shows it"),
        required=False,
        help_text=format_lazy(
            "{} {}", gettext_lazy("For example a receipt, a bank statement or a deed."), UPLOAD_HELP
        ),
    )
    document_more = DocumentField(
        label=gettext_lazy("Another document"), required=False, help_text=UPLOAD_HELP
    )

    def __init__(self, *args, months, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [
            (charge.item_id, f"{charge.description}: {money(charge.amount)}")
            for month in months
            for charge in month.charges
        ]


@login_required
@require_http_methods(["GET", "POST"])
def dispute(request, pk: int, certification_pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    certification = get_object_or_404(
        certifications_for_account(service_account=account), pk=certification_pk
    )
    months = certified_charges_by_month(certification=certification)
    open_dispute = dispute_open_for(certification=certification)
    form = DisputeForm(request.POST or None, request.FILES or None, months=months)
    if request.method == "POST" and open_dispute is None and form.is_valid():
        try:
            dispute_open(
                certification=certification,
                user=request.user,
                reason=form.cleaned_data["reason"],
                items=list(certification.items.filter(pk__in=form.cleaned_data["items"])),
                documents=[
                    f for f in (form.cleaned_data["document"], form.cleaned_data["document_more"]) if f
                ],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "Your dispute is sent, and we emailed you that we received it. Our staff will investigate."
                ),
            )
            return redirect("service_account_detail", pk=account.pk)
    return render(
        request,
        "certification/dispute.html",
        {
            "account": account,
            "certification": certification,
            "form": form,
            "months": months,
            "open_dispute": open_dispute,
        },
        status=400 if request.method == "POST" else 200,
    )


class TaxLotForm(forms.Form):
    tax_lot = forms.CharField(label="Tax lot or map number", max_length=64)


@staff_member_required
@permission_required("certification.view_certification", raise_exception=True)
def tax_lot(request):
    """For title companies during a sale: every account on a property, its balance and certified charges."""
    form = TaxLotForm(request.GET or None)
    rows = []
    if form.is_valid():
        rows = tax_lot_accounts(tax_lot=form.cleaned_data["tax_lot"].strip(), today=local_today())
    return render(request, "certification/tax_lot.html", {"form": form, "rows": rows})


@login_required
def dispute_document(request, pk: int):
    """Only the customer who sent it and staff who may see disputes open a dispute's document."""
    doc = get_object_or_404(DisputeDocument.objects.select_related("dispute"), pk=pk)
    allowed = doc.dispute.opened_by_id == request.user.pk or (
        request.user.is_staff and request.user.has_perm("certification.view_dispute")
    )
    if not allowed or not doc.file:
        raise Http404
    return private_file_response(doc.file, content_type=doc.content_type)
