"""The login's saved cards and bank accounts: see them, add a bank account, remove one.
Changing them asks for the password again, as changing autopay does."""

from allauth.account.internal.flows.reauthentication import (
    did_recently_reauthenticate,
    raise_if_reauthentication_required,
)
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from autopay.forms import BankAccountAddForm
from autopay.models import BankAccount
from autopay.services.bank_accounts import bank_account_add, first_debit_date
from autopay.services.methods import payment_method_remove, payment_method_uses
from billing.calendar import local_today
from billing.selectors import saved_cards_usable
from kernel.db import record_id
from kernel.errors import ApplicationError
from kernel.i18n import local_date


def _next(request) -> str | None:
    """Where to go back to after adding (the autopay page, say): a path on this site only."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target if target.startswith("/") else None
    return None


@login_required
@require_http_methods(["GET", "POST"])
def payment_methods(request):
    if request.method == "POST" and not did_recently_reauthenticate(request):
        # Not allauth's suspend-and-resume, which would keep the typed account number in the
        # session: the numbers are dropped and the customer confirms the password, then types them.
        messages.error(
            request,
            _("For your security, please confirm your password, then enter the bank account again."),
        )
        back = reverse("payment_methods")
        if _next(request):
            back += "?" + urlencode({"next": _next(request)})
        return redirect(f"{reverse('account_reauthenticate')}?{urlencode({'next': back})}")
    form = BankAccountAddForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            bank_account = bank_account_add(user=request.user, **form.cleaned_data["new_bank_account"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "Your %(bank)s is added. We send your bank a zero-dollar test entry first, so it can "
                    "be debited from %(date)s on."
                )
                % {
                    "bank": bank_account,
                    "date": local_date(
                        first_debit_date(bank_account=bank_account, today=local_today()), "DATE_FORMAT"
                    ),
                },
            )
            return redirect(_next(request) or "payment_methods")
    return _render(request, form)


def _render(request, form):
    cards = [(card, payment_method_uses(card=card)) for card in saved_cards_usable(user=request.user)]
    banks = [
        (bank, payment_method_uses(bank_account=bank))
        for bank in BankAccount.objects.filter(user=request.user, removed_at__isnull=True).order_by("pk")
    ]
    return render(
        request,
        "autopay/payment_methods.html",
        {
            "form": form,
            "cards": cards,
            "bank_accounts": banks,
            "next": _next(request) or "",
            "new_account_date": first_debit_date(bank_account=None, today=local_today()),
            # Asked before the numbers are typed, not after: nothing typed is lost.
            "password_fresh": did_recently_reauthenticate(request),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def payment_method_remove_view(request):
    raise_if_reauthentication_required(request, app="")
    kind, _sep, pk_text = str(request.POST.get("method") or "").partition("-")
    pk = record_id(pk_text)
    chosen = {}
    if kind == "card" and pk is not None:
        chosen["card"] = saved_cards_usable(user=request.user).filter(pk=pk).first()
    elif kind == "bank" and pk is not None:
        chosen["bank_account"] = BankAccount.objects.filter(user=request.user, pk=pk).first()
    try:
        if not any(chosen.values()):
            raise ApplicationError(_("That card or bank account is not one of yours."))
        payment_method_remove(user=request.user, **chosen)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Removed. It will not be used for any payment."))
    return redirect("payment_methods")
