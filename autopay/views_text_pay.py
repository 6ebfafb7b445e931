"""Pay by text for one account: choose a saved card or bank account, accept the authorization."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.selectors import service_account_get_for_user
from autopay.models import PaymentAuthorization
from autopay.services.bank_accounts import bank_accounts_usable
from autopay.services.text_pay import (
    VERSION,
    pay_by_text_active,
    pay_by_text_start,
    pay_by_text_stop,
    pay_by_text_terms,
)
from autopay.terms import authorization_record
from billing.selectors import saved_cards_usable
from kernel.errors import ApplicationError


class PayByTextForm(forms.Form):
    method = forms.ChoiceField(label=gettext_lazy("Pay with"), widget=forms.RadioSelect)
    accept_terms = forms.BooleanField(
        label=gettext_lazy("I have read and accept this authorization."),
        error_messages={"required": gettext_lazy("Tick the box to accept the authorization.")},
    )

    def __init__(self, *args, cards, bank_accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.cards = {f"card-{c.pk}": c for c in cards}
        self.banks = {f"bank-{b.pk}": b for b in bank_accounts}
        self.fields["method"].choices = [(key, str(m)) for key, m in {**self.cards, **self.banks}.items()]


@login_required
@require_http_methods(["GET", "POST"])
def pay_by_text(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    cards = list(saved_cards_usable(user=request.user))
    banks = list(bank_accounts_usable(user=request.user))
    action = request.POST.get("action", "")
    form = PayByTextForm(request.POST if action == "start" else None, cards=cards, bank_accounts=banks)
    terms = pay_by_text_terms(account_number=account.account_number)
    if action == "stop":
        if pay_by_text_stop(user=request.user, service_account=account):
            messages.success(request, _("Pay by text is off for this account."))
        return redirect("pay_by_text", pk=account.pk)
    if action == "start" and form.is_valid():
        key = form.cleaned_data["method"]
        try:
            authorization = authorization_record(
                request=request,
                service_account=account,
                kind=PaymentAuthorization.Kind.PAY_BY_TEXT,
                version=VERSION,
                text=terms,
                details={"method": key},
            )
            pay_by_text_start(
                user=request.user,
                service_account=account,
                card=form.cards.get(key),
                bank_account=form.banks.get(key),
                authorization=authorization,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Pay by text is on. Each bill's text will offer to pay it when you reply PAY.")
            )
            return redirect("pay_by_text", pk=account.pk)
    return render(
        request,
        "autopay/pay_by_text.html",
        {
            "account": account,
            "form": form,
            "terms": terms,
            "active": pay_by_text_active(user=request.user, service_account=account),
            "has_methods": bool(cards or banks),
        },
        status=400 if request.method == "POST" else 200,
    )
