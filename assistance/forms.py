from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from assistance.models import AssistanceApplication, IncomeSource


class EligibilityForm(forms.Form):
    household_size = forms.IntegerField(
        label=_("How many people live in your household?"),
        min_value=1,
        max_value=30,
        help_text=_("Count everyone who lives with you, including yourself."),
    )
    monthly_income = forms.DecimalField(
        label=_("Gross monthly household income, in dollars"),
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        help_text=_("All income of everyone in the household before taxes and deductions."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class MemberForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    relationship = forms.CharField(label=_("Relationship"), max_length=100, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("name") and not cleaned.get("relationship"):
            self.add_error(
                "relationship", _("Say how this person is related to you (for example self, spouse, child).")
            )
        if cleaned.get("relationship") and not cleaned.get("name"):
            self.add_error("name", _("Enter this person's name."))
        return cleaned


class IncomeForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Source"),
        choices=[("", _("Choose a source"))] + list(IncomeSource.Kind.choices),
        required=False,
    )
    monthly_amount = forms.DecimalField(
        label=_("Monthly amount, in dollars"),
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") and cleaned.get("monthly_amount") is None:
            self.add_error("monthly_amount", _("Enter the monthly amount for this source."))
        if cleaned.get("monthly_amount") is not None and not cleaned.get("kind"):
            self.add_error("kind", _("Choose the source of this income."))
        return cleaned


MemberFormSet = forms.formset_factory(MemberForm, extra=8, max_num=30)
IncomeFormSet = forms.formset_factory(IncomeForm, extra=5, max_num=20)

UPLOAD_HELP = _("A PDF, JPEG or PNG file of up to 10 MB.")


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
    photo_id = forms.FileField(label=_("Photo ID"), help_text=UPLOAD_HELP)
    income_proof = forms.FileField(label=_("Proof of income for the past 30 days"), help_text=UPLOAD_HELP)
    income_proof_more = forms.FileField(
        label=_("More proof of income"), required=False, help_text=UPLOAD_HELP
    )
    late_notice = forms.FileField(
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

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_account"].queryset = accounts


class PaymentPlanForm(forms.Form):
    installments = forms.TypedChoiceField(
        label=_("Number of monthly installments"),
        coerce=int,
        choices=[(n, str(n)) for n in range(2, 13)],
        initial=6,
    )
