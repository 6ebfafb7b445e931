from django import forms
from django.utils.translation import gettext_lazy as _

ZIP_FIELD = {
    "regex": r"^\s*\d{5}(-\d{4})?\s*$",
    "max_length": 10,
    "error_messages": {"invalid": _("Enter the 5-digit ZIP code, for example 97045.")},
    "widget": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
}


class QuickPayLookupForm(forms.Form):
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=40,
        help_text=_("As printed on your bill, for example 100234-01."),
    )
    service_zip = forms.RegexField(
        label=_("Service ZIP code"), help_text=_("The ZIP code of the property we serve."), **ZIP_FIELD
    )

    def clean_account_number(self):
        return "".join(self.cleaned_data["account_number"].split())

    def clean_service_zip(self):
        return self.cleaned_data["service_zip"].strip()[:5]


class InvoiceLookupForm(forms.Form):
    number = forms.CharField(label=_("Invoice or assessment number"), max_length=32)
    payer_zip = forms.RegexField(label=_("ZIP code on the invoice"), **ZIP_FIELD)

    def clean_number(self):
        return self.cleaned_data["number"].strip()

    def clean_payer_zip(self):
        return self.cleaned_data["payer_zip"].strip()[:5]
