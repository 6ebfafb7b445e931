import copy

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import ContactDetailsForm

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


def _required(field: forms.Field) -> forms.Field:
    """Another form's field, as it is but required."""
    copied = copy.deepcopy(field)
    copied.required = True
    return copied


def _date_field(label, help_text=""):
    return forms.DateField(
        label=label,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date like 12/31/2026.")},
    )


class ServiceRequestForm(forms.Form):
    """Start, stop or move service: the fields each kind asks for, built for a phone."""

    def __init__(self, *args, kind: str, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        from billing.models import ServiceRequest

        stops = kind in (ServiceRequest.Kind.MOVE_OUT, ServiceRequest.Kind.TRANSFER)
        starts = kind in (ServiceRequest.Kind.MOVE_IN, ServiceRequest.Kind.TRANSFER)
        if stops:
            self.fields["from_account"] = forms.ModelChoiceField(
                label=_("The account to stop"),
                queryset=accounts,
                empty_label=None,
                error_messages={"invalid_choice": _("Choose one of your accounts.")},
            )
            self.fields["from_account"].label_from_instance = lambda a: (
                f"{a.account_number}: {a.service_address}"
            )
            self.fields["stop_on"] = _date_field(
                _("Last day of service"),
                _("Usually the day you move out. Your final bill counts the days to it."),
            )
        if kind == ServiceRequest.Kind.MOVE_OUT:
            self.fields["forwarding_address"] = forms.CharField(
                label=_("Forwarding address for your final bill (street or PO box)"),
                max_length=200,
                widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
            )
            # City, state and ZIP code as the mailing address asks for them, here required.
            for name in ("city", "state", "zip"):
                self.fields[f"forwarding_{name}"] = _required(
                    ContactDetailsForm.base_fields[f"mailing_{name}"]
                )
        if starts:
            self.fields["service_address"] = forms.CharField(
                label=_("Address where service starts (street)"),
                max_length=200,
                widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
            )
            self.fields["service_city"] = _required(ContactDetailsForm.base_fields["mailing_city"])
            self.fields["service_zip"] = forms.RegexField(
                label=_("ZIP code"),
                regex=r"^[0-9]{5}$",
                max_length=5,
                error_messages={"invalid": _("Enter the 5-digit ZIP code, for example 97045.")},
                widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
            )
            self.fields["start_on"] = _date_field(
                _("First day of service"), _("Usually the day you move in.")
            )
            self.fields["customer_name"] = forms.CharField(
                label=_("Name for the account"),
                max_length=200,
                widget=forms.TextInput(attrs={"autocomplete": "name"}),
            )
            self.fields["phone"] = forms.CharField(
                label=_("Phone"),
                max_length=40,
                help_text=_("Where a clerk can reach you about this request."),
                widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            )
            self.fields["email"] = forms.EmailField(
                label=_("Email"),
                required=False,
                help_text=_("Blank: the email of your login."),
                widget=forms.EmailInput(attrs={"autocomplete": "email"}),
            )
        self.fields["token"] = forms.UUIDField(widget=forms.HiddenInput, required=False)
        self.fields["note"] = forms.CharField(
            label=_("Anything else we should know"),
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
