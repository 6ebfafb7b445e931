from django import forms
from django.utils.translation import gettext_lazy as _

from assistance.models import ApplicationDocument, AssistanceApplication, IncomeSource
from kernel.forms import AmountField, DocumentField
from kernel.uploads import UPLOAD_HELP


class EligibilityForm(forms.Form):
    household_size = forms.IntegerField(
        label=_("How many people live in your household?"),
        min_value=1,
        max_value=30,
        help_text=_("Count everyone who lives with you, including yourself."),
    )
    monthly_income = AmountField(
        label=_("Gross monthly household income, in dollars"),
        help_text=_("All income of everyone in the household before taxes and deductions."),
    )


class MemberForm(forms.Form):
    # Both are needed for each person listed; a row left wholly empty is skipped.
    name = forms.CharField(
        label=_("Name"), max_length=200, error_messages={"required": _("Enter this person's name.")}
    )
    relationship = forms.CharField(
        label=_("Relationship to you"),
        max_length=100,
        help_text=_("For example: self, spouse, child, parent."),
        error_messages={
            "required": _("Say how this person is related to you (for example self, spouse, child).")
        },
    )


class IncomeForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Source"),
        choices=[("", _("Choose a source"))] + list(IncomeSource.Kind.choices),
        error_messages={"required": _("Choose the source of this income.")},
    )
    monthly_amount = AmountField(
        label=_("Monthly amount, in dollars"),
        error_messages={"required": _("Enter the monthly amount for this source.")},
    )


class RowFormSet(forms.BaseFormSet):
    """Rows a person adds one at a time: a row left wholly empty is skipped, a row begun must be
    complete."""

    def _construct_form(self, i, **kwargs):
        return super()._construct_form(i, empty_permitted=True, use_required_attribute=False, **kwargs)

    def filled(self) -> list[dict]:
        return [f.cleaned_data for f in self.forms if f.cleaned_data]


MemberFormSet = forms.formset_factory(MemberForm, formset=RowFormSet, extra=1, max_num=30, absolute_max=30)
IncomeFormSet = forms.formset_factory(IncomeForm, formset=RowFormSet, extra=1, max_num=20, absolute_max=20)

# The upload fields of the application, and the kind of document each holds.
UPLOAD_FIELDS = {
    "photo_id": ApplicationDocument.Kind.PHOTO_ID,
    "income_proof": ApplicationDocument.Kind.INCOME_PROOF,
    "income_proof_more": ApplicationDocument.Kind.INCOME_PROOF,
    "late_notice": ApplicationDocument.Kind.LATE_NOTICE,
}


class ApplicationForm(forms.Form):
    service_account = forms.ModelChoiceField(queryset=None, label=_("Account"), empty_label=None)
    phone = forms.CharField(
        label=_("Phone number for the assessment call"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    preferred_contact_time = forms.ChoiceField(
        label=_("Best time to call"), choices=AssistanceApplication.ContactTime.choices
    )
    # Required unless already attached to the draft: the view says which.
    photo_id = DocumentField(label=_("Photo ID"), help_text=UPLOAD_HELP)
    income_proof = DocumentField(
        label=_("Proof of income for the past 30 days"),
        help_text=_(
            "Pay stubs, a benefits letter or a bank statement. A PDF, JPEG or PNG file of up to 10 MB."
        ),
    )
    income_proof_more = DocumentField(label=_("More proof of income"), required=False, help_text=UPLOAD_HELP)
    late_notice = DocumentField(
        label=_("Late notice or door hanger, if you have one"), required=False, help_text=UPLOAD_HELP
    )
    attest = forms.BooleanField(
        label=_(
            "I attest that the people listed are everyone who lives in my household, and that the income is true and complete."
        )
    )
    attestation_name = forms.CharField(
        label=_("Type your full name to sign"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def __init__(self, *args, accounts, attached_kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_account"].queryset = accounts
        for name, kind in UPLOAD_FIELDS.items():
            if kind in attached_kinds:
                self.fields[name].required = False


class DocumentAddForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it?"), choices=ApplicationDocument.Kind.choices)
    file = DocumentField(label=_("File"), help_text=UPLOAD_HELP)
    file_more = DocumentField(label=_("Another file"), required=False, help_text=UPLOAD_HELP)


class PaymentPlanForm(forms.Form):
    installments = forms.TypedChoiceField(
        label=_("Number of monthly installments"),
        coerce=int,
        choices=[(n, str(n)) for n in range(2, 13)],
        initial=6,
        error_messages={"invalid_choice": _("Choose from 2 to 12 monthly installments.")},
    )
