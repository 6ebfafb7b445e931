"""Form fields every app uses."""

from decimal import Decimal

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kernel.money import money, parse_money_typed


class AmountField(forms.CharField):
    """Dollars as people type them, in their language: "2,500", "$2,500.00", "45.1"; in
    Spanish also "2.500,00". Cleans to a Decimal with cents."""

    default_error_messages = {
        "invalid": _("Enter the amount in dollars and cents, like 2,500.00."),
        "max_value": _("Enter an amount of at most %(limit)s."),
    }

    def __init__(self, *, max_value: Decimal = Decimal("99999999.99"), **kwargs):
        # The default fits the ten-digit amounts the models keep.
        self.max_value = max_value
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "maxlength": "20"}))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value is not None and value > self.max_value:
            raise forms.ValidationError(
                self.error_messages["max_value"], code="max_value", params={"limit": money(self.max_value)}
            )

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        amount = parse_money_typed(text[:40], language=get_language() or "en")
        if amount is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return amount


class DocumentField(forms.FileField):
    """A PDF, JPEG or PNG a customer attaches (checked for what it is by kernel.uploads); the phone
    offers its camera and the files of those kinds."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.ClearableFileInput(
                attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
            ),
        )
        super().__init__(**kwargs)
