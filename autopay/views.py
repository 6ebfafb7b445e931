import json
from urllib.parse import urlencode, urlsplit

from allauth.account.internal.flows.reauthentication import (
    did_recently_reauthenticate,
    raise_if_reauthentication_required,
)
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import service_account_get_for_user
from autopay.forms import DAYS, AutopayForm
from autopay.models import AutopayEnrollment, BankAccount, PaymentAuthorization
from autopay.selectors import agreement_active, enrollment_active
from autopay.services.bank_accounts import bank_accounts_usable
from autopay.services.drafts import next_draft
from autopay.services.enrollment import (
    autopay_cancel,
    autopay_change,
    autopay_enroll,
    card_expires_before,
    card_save,
    card_setup_start,
)
from autopay.terms import authorization_record, autopay_terms
from billing import stripe_gateway as gateway
from billing.calendar import DUE_DAY, local_today
from billing.selectors import saved_cards_usable
from kernel.errors import ApplicationError
from kernel.i18n import local_date


def _ask_password_again(request) -> None:
    """Cards are saved and changed on these pages: the password is asked again when it was last
    typed more than ACCOUNT_REAUTHENTICATION_TIMEOUT seconds ago (allauth's page, then back here).
    Checked after the account look-up, so someone else's account is a 404 all the same."""
    raise_if_reauthentication_required(request, app="")


def _reauthentication_needed(request) -> JsonResponse:
    """The card form's script sends the customer to confirm the password, then back here."""
    back = request.headers.get("Referer", "")
    back_path = urlsplit(back).path if back else ""
    return JsonResponse(
        {
            "error": _("For your security, please confirm your password first."),
            "reauthenticate_url": reverse("account_reauthenticate")
            + ("?" + urlencode({"next": back_path}) if back_path.startswith("/") else ""),
        },
        status=403,
    )


def _offers_bank(request) -> bool:
    """The bank account terms are shown (and accepted) when the login has a bank account to offer."""
    return bank_accounts_usable(user=request.user).exists()


def _terms_accepted(request, *, account, enrollment, data) -> None:
    """Keep the terms the customer accepted, as shown, and link them to the enrollment. Called
    once the enrollment or change succeeded, so a refused one leaves no acceptance behind."""
    by_bank = isinstance(data["card_id"], BankAccount)
    version, text = autopay_terms(account_number=account.account_number, with_bank=_offers_bank(request))
    authorization = authorization_record(
        request=request,
        service_account=account,
        kind=PaymentAuthorization.Kind.BANK_AUTOPAY if by_bank else PaymentAuthorization.Kind.CARD_AUTOPAY,
        version=version,
        text=text,
        details={
            "bank_account" if by_bank else "card": str(data["card_id"]),
            "draft_day": data["draft_day"],
            "max_amount": str(data["max_amount"]) if data["max_amount"] else "",
        },
    )
    AutopayEnrollment.objects.filter(pk=enrollment.pk).update(authorization=authorization)


@login_required
@require_http_methods(["GET", "POST"])
def autopay_manage(request, pk: int):
    """Seeing autopay needs only the login; setting it up asks for the password again."""
    account = service_account_get_for_user(user=request.user, pk=pk)
    enrollment = enrollment_active(service_account=account)
    form = None
    if request.method == "POST" and enrollment is None:
        _ask_password_again(request)
        form = AutopayForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                enrollment = autopay_enroll(
                    user=request.user,
                    service_account=account,
                    **form.method(),
                    draft_day=data["draft_day"],
                    max_amount=data["max_amount"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                _terms_accepted(request, account=account, enrollment=enrollment, data=data)
                upcoming = next_draft(enrollment=enrollment)
                messages.success(
                    request,
                    _("Autopay is set up: day %(day)s of each month. The first charge is on %(date)s.")
                    % {"day": enrollment.draft_day, "date": local_date(upcoming.on, "DATE_FORMAT")},
                )
                return redirect("autopay_manage", pk=account.pk)
    return _render_manage(request, account=account, enrollment=enrollment, form=form)


def _chosen(request, *, form, enrollment) -> dict:
    """The card and day the form shows: what was just posted, else the enrollment's, else none."""
    if form is not None:
        return {"card_id": request.POST.get("card_id", ""), "draft_day": request.POST.get("draft_day", "")}
    if enrollment is not None:
        method = (
            f"bank-{enrollment.bank_account_id}" if enrollment.bank_account_id else str(enrollment.card_id)
        )
        return {"card_id": method, "draft_day": str(enrollment.draft_day)}
    return {"card_id": "", "draft_day": "15"}


def _render_manage(request, *, account, enrollment, form):
    # Autopay belongs to the login that set it up: another login on the same account is told it
    # is on, and by whom it is managed, but never sees that person's card.
    someone_else = enrollment is not None and enrollment.user_id != request.user.pk
    upcoming = next_draft(enrollment=enrollment) if enrollment else None
    errors = [] if form is None else [error for errors in form.errors.values() for error in errors]
    return render(
        request,
        "autopay/manage.html",
        {
            "account": account,
            "enrollment": None if someone_else else enrollment,
            "someone_elses": enrollment if someone_else else None,
            "upcoming": upcoming,
            "card_expiring": bool(
                enrollment
                and not someone_else
                and enrollment.card
                and card_expires_before(enrollment.card, upcoming.on)
            ),
            "bank_agreement": agreement_active(service_account=account),
            "cards": saved_cards_usable(user=request.user),
            "bank_accounts": bank_accounts_usable(user=request.user),
            "days": DAYS,
            "due_day": DUE_DAY,
            "bank_notice_days": settings.BANK_DRAFT_NOTICE_DAYS,
            "errors": errors,
            "posted": request.POST if form is not None else {},
            "chosen": _chosen(request, form=form, enrollment=None if someone_else else enrollment),
            "terms": autopay_terms(account_number=account.account_number, with_bank=_offers_bank(request))[1],
            "password_fresh": did_recently_reauthenticate(request),
            "today": local_today(),
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": settings.STRIPE_JS_URL,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def autopay_card_setup(request):
    if not did_recently_reauthenticate(request):
        return _reauthentication_needed(request)
    try:
        return JsonResponse({"client_secret": card_setup_start(user=request.user)})
    except gateway.GatewayError as exc:
        return JsonResponse({"error": str(exc)}, status=503)


@login_required
@require_POST
def autopay_card_save(request):
    if not did_recently_reauthenticate(request):
        return _reauthentication_needed(request)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    try:
        card = card_save(user=request.user, setup_intent_id=str(body.get("setup_intent") or ""))
    except ApplicationError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    except gateway.GatewayError as exc:
        return JsonResponse({"error": str(exc)}, status=503)
    return JsonResponse({"card_id": card.pk, "label": str(card)})


def _enrollment(request, pk):
    account = service_account_get_for_user(user=request.user, pk=pk)
    _ask_password_again(request)
    enrollment = AutopayEnrollment.objects.filter(
        service_account=account, status="active", user=request.user
    ).first()
    return account, enrollment


@login_required
@require_POST
def autopay_change_view(request, pk: int):
    """Change the card, the day or the maximum without cancelling."""
    account, enrollment = _enrollment(request, pk)
    if enrollment is None:
        return redirect("autopay_manage", pk=account.pk)
    form = AutopayForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render_manage(request, account=account, enrollment=enrollment, form=form)
    data = form.cleaned_data
    try:
        autopay_change(
            enrollment=enrollment,
            user=request.user,
            **form.method(),
            draft_day=data["draft_day"],
            max_amount=data["max_amount"],
        )
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _render_manage(request, account=account, enrollment=enrollment, form=form)
    _terms_accepted(request, account=account, enrollment=enrollment, data=data)
    upcoming = next_draft(enrollment=enrollment)
    messages.success(
        request,
        _("Autopay is changed. The next charge is on %(date)s.")
        % {"date": local_date(upcoming.on, "DATE_FORMAT")},
    )
    return redirect("autopay_manage", pk=account.pk)


@login_required
@require_POST
def autopay_cancel_view(request, pk: int):
    account, enrollment = _enrollment(request, pk)
    if enrollment is not None and request.POST.get("confirm") != "yes":
        # One click is not enough to stop payments: the box says what it means.
        messages.error(request, _("Tick the box to confirm that autopay should stop. Nothing was changed."))
    elif enrollment is not None:
        autopay_cancel(enrollment=enrollment, user=request.user)
        messages.success(request, _("Autopay is cancelled. Please pay your bills another way."))
    return redirect("autopay_manage", pk=account.pk)
