from django import forms

ZIP_FIELD = {
    "regex": r"^\s*\d{5}(-\d{4})?\s*$",
    "max_length": 10,
    "error_messages": {"invalid": "Enter the 5-digit ZIP code, for example 97045."},
    "widget": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
}


class QuickPayLookupForm(forms.Form):
    account_number = forms.CharField(
        max_length=40, help_text="As printed on your bill, for example 100234-01."
    )
    service_zip = forms.RegexField(
        label="Service ZIP code", help_text="The ZIP code of the property we serve.", **ZIP_FIELD
    )

    def clean_account_number(self):
        return "".join(self.cleaned_data["account_number"].split())

    def clean_service_zip(self):
        return self.cleaned_data["service_zip"].strip()[:5]


class InvoiceLookupForm(forms.Form):
    number = forms.CharField(label="Invoice or assessment number", max_length=32)
    payer_zip = forms.RegexField(label="ZIP code on the invoice", **ZIP_FIELD)

    def clean_number(self):
        return self.cleaned_data["number"].strip()

    def clean_payer_zip(self):
        return self.cleaned_data["payer_zip"].strip()[:5]
