import json

from allauth.account.internal.flows.reauthentication import (
    did_recently_reauthenticate,
    raise_if_reauthentication_required,
)
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import service_account_get_for_user
from autopay.models import AutopayEnrollment, BankDraftAgreement
from autopay.services.drafts import card_draft_date
from autopay.services.enrollment import (
    autopay_cancel,
    autopay_change_card,
    autopay_enroll,
    card_expires_before,
    card_save,
    card_setup_start,
)
from billing import stripe_gateway as gateway
from billing.calendar import DUE_DAY, local_today
from billing.models import Bill, SavedCard
from portal.errors import ApplicationError

DAYS = list(range(1, 29))


def _cards(user):
    return SavedCard.objects.filter(user=user, removed_at__isnull=True)


def _ask_password_again(request) -> None:
    """Cards are saved and changed on these pages: the password is asked again when it was last
    typed more than ACCOUNT_REAUTHENTICATION_TIMEOUT seconds ago (allauth's page, then back here).
    Checked after the account look-up, so someone else's account is a 404 all the same."""
    raise_if_reauthentication_required(request, app="")


def _reauthentication_needed() -> JsonResponse:
    return JsonResponse(
        {"error": _("For your security, please reload this page and confirm your password again.")},
        status=403,
    )


@login_required
@require_http_methods(["GET", "POST"])
def autopay_manage(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    _ask_password_again(request)
    enrollment = (
        AutopayEnrollment.objects.filter(service_account=account, status="active")
        .select_related("card")
        .first()
    )
    errors = []
    if request.method == "POST" and enrollment is None:
        card = _cards(request.user).filter(pk=request.POST.get("card_id") or 0).first()
        try:
            day = int(request.POST.get("draft_day", ""))
        except ValueError:
            day = 0
        if card is None:
            errors.append(_("Choose a card, or enter a new one."))
        if not 1 <= day <= 28:
            errors.append(_("Choose the day of the month for the draft, from 1 to 28."))
        if not errors:
            try:
                autopay_enroll(user=request.user, service_account=account, card=card, draft_day=day)
            except ApplicationError as exc:
                errors.append(exc.message)
            else:
                messages.success(
                    request,
                    _("Autopay is set up: day %(day)s of each month, from your next bill.") % {"day": day},
                )
                return redirect("autopay_manage", pk=account.pk)
    next_draft = None
    if enrollment:
        bill = Bill.objects.filter(service_account=account).order_by("-period").first()
        if bill and bill.issued_on >= enrollment.starts_on:
            next_draft = card_draft_date(draft_day=enrollment.draft_day, issued_on=bill.issued_on)
    # Autopay belongs to the login that set it up: another login on the same account is told it
    # is on, and by whom it is managed, but never sees that person's card.
    someone_else = enrollment is not None and enrollment.user_id != request.user.pk
    return render(
        request,
        "autopay/manage.html",
        {
            "account": account,
            "enrollment": None if someone_else else enrollment,
            "someone_elses": enrollment if someone_else else None,
            "next_draft": next_draft,
            "card_expiring": enrollment and next_draft and card_expires_before(enrollment.card, next_draft),
            "bank_agreement": BankDraftAgreement.objects.filter(
                service_account=account, status="active"
            ).first(),
            "cards": _cards(request.user),
            "days": DAYS,
            "due_day": DUE_DAY,
            "errors": errors,
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
        return _reauthentication_needed()
    try:
        return JsonResponse({"client_secret": card_setup_start(user=request.user)})
    except gateway.GatewayError as exc:
        return JsonResponse({"error": str(exc)}, status=503)


@login_required
@require_POST
def autopay_card_save(request):
    if not did_recently_reauthenticate(request):
        return _reauthentication_needed()
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
def autopay_replace_card(request, pk: int):
    account, enrollment = _enrollment(request, pk)
    card = _cards(request.user).filter(pk=request.POST.get("card_id") or 0).first()
    if enrollment is None or card is None:
        messages.error(request, _("Enter the new card first, then save."))
    else:
        autopay_change_card(enrollment=enrollment, card=card, user=request.user)
        messages.success(
            request, _("Autopay now uses your %(card)s. The old card was removed.") % {"card": card}
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
