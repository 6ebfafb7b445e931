"""The forms of autopay's pages: autopay itself (the card, the day, an optional maximum, the terms),
paying from a bank account, and scheduling a payment."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from autopay.models import BankAccount, BankDraftAgreement
from autopay.services.bank_accounts import bank_accounts_usable
from autopay.services.enrollment import aba_routing_number_valid
from billing.selectors import saved_cards_usable
from kernel.db import record_id
from kernel.i18n import local_date
from kernel.money import parse_money_typed

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
        self.bank_accounts = bank_accounts_usable(user=user)

    def clean_card_id(self):
        """A saved card ("<id>", as the card script fills it in) or a bank account ("bank-<id>")."""
        text = str(self.cleaned_data["card_id"] or "")
        if text.startswith("bank-"):
            pk = record_id(text.removeprefix("bank-"))
            account = self.bank_accounts.filter(pk=pk).first() if pk is not None else None
            if account is None:
                raise forms.ValidationError(_("Choose one of your own bank accounts."))
            return account
        pk = record_id(text)
        card = self.cards.filter(pk=pk).first() if pk is not None else None
        if card is None:
            raise forms.ValidationError(_("Choose a card, or enter a new one."))
        return card

    def method(self) -> dict:
        """The choice as the services take it: {"card": ...} or {"bank_account": ...}."""
        chosen = self.cleaned_data["card_id"]
        return {"bank_account": chosen} if isinstance(chosen, BankAccount) else {"card": chosen}

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


class BankAccountChoiceForm(forms.Form):
    """A saved bank account ("bank-<id>"), a saved card ("card-<id>", where cards are allowed), or
    a new bank account typed in the fields below ("new-bank")."""

    method = forms.CharField(required=False)
    holder_name = forms.CharField(label=_("Name on the bank account"), max_length=100, required=False)
    routing_number = forms.CharField(label=_("Routing number (9 digits)"), max_length=20, required=False)
    account_number = forms.CharField(label=_("Account number"), max_length=30, required=False)
    account_number_again = forms.CharField(label=_("Account number again"), max_length=30, required=False)
    account_type = forms.ChoiceField(
        label=_("Account type"),
        choices=BankDraftAgreement.AccountType.choices,
        initial=BankDraftAgreement.AccountType.CHECKING,
        required=False,
    )
    allow_cards = False
    NEW_ACCOUNT_FIELDS = (
        "holder_name",
        "routing_number",
        "account_number",
        "account_number_again",
        "account_type",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.bank_accounts = bank_accounts_usable(user=user)
        self.cards = saved_cards_usable(user=user) if self.allow_cards else None
        # The new account's fields are required when a new account is chosen (and shown so).
        for name in self.NEW_ACCOUNT_FIELDS:
            self.fields[name].required = (
                not self.is_bound or self.data.get("method", "new-bank") == "new-bank"
            )
        self.fields["holder_name"].error_messages["required"] = _("Enter the name on the bank account.")
        self.fields["routing_number"].error_messages["required"] = _("Enter the 9-digit routing number.")
        self.fields["account_number"].error_messages["required"] = _(
            "Enter the account number: 4 to 17 digits."
        )
        self.fields["account_number_again"].error_messages["required"] = _("Enter the account number again.")
        self.fields["account_type"].error_messages["required"] = _("Choose checking or savings.")

    def _new_account_errors(self) -> bool:
        return any(name in self.errors for name in self.NEW_ACCOUNT_FIELDS)

    def _new_bank_account(self, cleaned) -> dict | None:
        digits = {
            name: "".join(str(cleaned.get(name) or "").split())
            for name in ("routing_number", "account_number")
        }
        again = "".join(str(cleaned.get("account_number_again") or "").split())
        if self._new_account_errors():
            return None  # a required field is empty: its own message says so
        if not digits["routing_number"].isdigit() or len(digits["routing_number"]) != 9:
            self.add_error("routing_number", _("Enter the 9-digit routing number."))
        elif not aba_routing_number_valid(digits["routing_number"]):
            self.add_error(
                "routing_number",
                _("That routing number is not valid: check the nine digits at the bottom left of a check."),
            )
        if not digits["account_number"].isdigit() or not 4 <= len(digits["account_number"]) <= 17:
            self.add_error("account_number", _("Enter the account number: 4 to 17 digits."))
        elif again != digits["account_number"]:
            self.add_error("account_number_again", _("The two account numbers are not the same."))
        if self._new_account_errors():
            return None
        return {
            "holder_name": cleaned["holder_name"].strip(),
            "routing_number": digits["routing_number"],
            "account_number": digits["account_number"],
            "account_type": cleaned["account_type"],
        }

    def clean(self):
        cleaned = super().clean()
        choice = str(cleaned.get("method") or "")
        if not choice:
            choice = "new-bank" if not self.bank_accounts.exists() and not self.cards else ""
        cleaned["bank_account"] = cleaned["card"] = cleaned["new_bank_account"] = None
        kind, _sep, pk_text = choice.partition("-")
        pk = record_id(pk_text)
        if choice == "new-bank":
            cleaned["new_bank_account"] = self._new_bank_account(cleaned)
        elif kind == "bank" and pk is not None and self.bank_accounts.filter(pk=pk).exists():
            cleaned["bank_account"] = self.bank_accounts.get(pk=pk)
        elif (
            kind == "card" and pk is not None and self.cards is not None and self.cards.filter(pk=pk).exists()
        ):
            cleaned["card"] = self.cards.get(pk=pk)
        else:
            self.add_error("method", _("Choose how to pay."))
        return cleaned


class BankAccountAddForm(BankAccountChoiceForm):
    """A new bank account's fields alone, to keep it for later payments and autopay."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["method"]
        for name in self.NEW_ACCOUNT_FIELDS:
            self.fields[name].required = True

    def clean(self):
        cleaned = forms.Form.clean(self)
        cleaned["new_bank_account"] = self._new_bank_account(cleaned)
        return cleaned


class BankPaymentForm(BankAccountChoiceForm):
    amount = forms.CharField(label=_("Amount to pay, in dollars"), max_length=20)
    accept_terms = forms.BooleanField(
        label=_("I have read and accept this authorization."),
        error_messages={"required": _("Tick the box to authorize the debit. Nothing was paid.")},
    )

    field_order = ["amount", "method"]

    def clean_amount(self):
        amount = parse_money_typed(self.cleaned_data["amount"], language=get_language() or "en")
        if amount is None:
            raise forms.ValidationError(_("Enter the amount in dollars and cents, like 45.10."))
        return amount


class ScheduledPaymentForm(BankPaymentForm):
    pay_on = forms.DateField(
        label=_("Date to pay"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Choose the date to pay."),
            "invalid": _("Enter a date like 12/15/2026."),
        },
    )
    accept_terms = forms.BooleanField(
        label=_("I have read and accept this authorization."),
        error_messages={"required": _("Tick the box to authorize the payment. Nothing was scheduled.")},
    )
    allow_cards = True

    def __init__(self, *args, earliest, latest, **kwargs):
        super().__init__(*args, **kwargs)
        self.earliest, self.latest = earliest, latest

    def clean_pay_on(self):
        day = self.cleaned_data["pay_on"]
        if not self.earliest <= day <= self.latest:
            raise forms.ValidationError(
                _("Choose a date from %(first)s to %(last)s.")
                % {
                    "first": local_date(self.earliest, "DATE_FORMAT"),
                    "last": local_date(self.latest, "DATE_FORMAT"),
                }
            )
        return day
