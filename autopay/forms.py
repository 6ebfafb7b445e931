"""The autopay page's form: the card, the day, an optional maximum, and the terms accepted."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from billing.selectors import saved_cards_usable
from portal.db import record_id
from portal.money import parse_money_typed

DAYS = list(range(1, 29))


class AutopayForm(forms.Form):
    card_id = forms.CharField(required=False)
    draft_day = forms.TypedChoiceField(
        choices=[(day, day) for day in DAYS],
        coerce=int,
        error_messages={
            "required": _("Choose the day of the month for the draft, from 1 to 28."),
            "invalid_choice": _("Choose the day of the month for the draft, from 1 to 28."),
        },
    )
    max_amount = forms.CharField(required=False, max_length=20)
    accept_terms = forms.BooleanField(
        error_messages={"required": _("Tick the box to accept the autopay terms. Nothing was changed.")}
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.cards = saved_cards_usable(user=user)

    def clean_card_id(self):
        pk = record_id(self.cleaned_data["card_id"])
        card = self.cards.filter(pk=pk).first() if pk is not None else None
        if card is None:
            raise forms.ValidationError(_("Choose a card, or enter a new one."))
        return card

    def clean_max_amount(self):
        text = self.cleaned_data["max_amount"].strip()
        if not text:
            return None
        amount = parse_money_typed(text, language=get_language() or "en")
        if amount is None:
            raise forms.ValidationError(
                _("Enter the maximum in dollars and cents, like 150.00, or leave it empty.")
            )
        return amount
