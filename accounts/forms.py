from django import forms
from django.utils.translation import gettext_lazy as _


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
        from accounts.models import NotificationKind

        for kind in NotificationKind:
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label,
                required=False,
                initial=switches.get(kind.value, True),
                widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
            )
