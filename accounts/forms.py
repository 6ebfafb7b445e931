from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.notification_kinds import notification_kind_choices


class LinkServiceAccountForm(forms.Form):
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=40,
        help_text=_("As printed on your bill, for example 100234-01."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    service_zip = forms.RegexField(
        label=_("Service ZIP code"),
        regex=r"^\s*\d{5}(-\d{4})?\s*$",
        max_length=10,
        help_text=_("The ZIP code of the property we serve, which may differ from your mailing address."),
        error_messages={"invalid": _("Enter the 5-digit ZIP code, for example 97045.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    access_code = forms.CharField(
        label=_("Access code"),
        max_length=20,
        help_text=_(
            'The 8 letters and numbers next to "Access code" on your bill, for example K7QM-4XPT. If you '
            "have no bill yet, call us and we will tell you."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )


class NotificationPreferencesForm(forms.Form):
    """One checkbox per kind of email; each starts ticked."""

    def __init__(self, *args, switches: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)

        for kind, label in notification_kind_choices():
            self.fields[kind] = forms.BooleanField(
                label=label,
                required=False,
                initial=switches.get(kind, True),
                widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
            )


class ContactDetailsForm(forms.Form):
    """A customer's phone and the address their bills and letters are mailed to."""

    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    mailing_name = forms.CharField(label=_("Name on the envelope (optional)"), max_length=200, required=False)
    mailing_address = forms.CharField(
        label=_("Mailing address (street or PO box)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    mailing_city = forms.CharField(
        label=_("City"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    mailing_state = forms.RegexField(
        label=_("State"),
        regex=r"^[A-Za-z]{2}$",
        max_length=2,
        required=False,
        error_messages={"invalid": _("Enter the two-letter state, for example OR.")},
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    mailing_zip = forms.RegexField(
        label=_("ZIP code"),
        regex=r"^[0-9]{5}(-[0-9]{4})?$",
        max_length=10,
        required=False,
        error_messages={"invalid": _("Enter the 5-digit ZIP code, for example 97045.")},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )

    def clean(self):
        cleaned = super().clean()
        parts = ["mailing_address", "mailing_city", "mailing_state", "mailing_zip"]
        if any(cleaned.get(name) for name in [*parts, "mailing_name"]):
            for name in parts:
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(
                        name,
                        _(
                            "Needed for a mailing address. To have mail sent to the service address, leave all of these empty."
                        ),
                    )
        if cleaned.get("mailing_state"):
            cleaned["mailing_state"] = cleaned["mailing_state"].upper()
        return cleaned
