"""Paying by card: the pay pages, the JSON steps the card form calls, receipts, quick pay, webhooks.

The card itself is entered in Stripe's own field (Stripe.js): it goes from the browser to
Stripe, never to us. We see a SetupIntent id, then charge the card it confirmed.
"""

import contextlib
import json
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from accounts.models import ServiceAccount
from accounts.selectors import service_account_find_by_number, service_account_get_for_user
from billing import stripe_gateway as gateway
from billing.forms import InvoiceLookupForm, QuickPayLookupForm
from billing.hooks import PAY_PAGE_LINKS
from billing.models import Invoice, Payment
from billing.selectors import saved_cards_usable
from billing.services.payments import (
    MINIMUM_PAYMENT,
    amount_owed,
    invoice_amount_open,
    payment_charge,
    payment_limit,
    payment_refresh,
    payment_start,
    payment_with_saved_card,
)
from billing.services.webhooks import stripe_event_receive
from kernel.db import record_id
from kernel.errors import ApplicationError
from kernel.money import parse_money_typed

SESSION_TOKENS = "payment_tokens"
SESSION_QUICK_PAY = "quick_pay_account"
SESSION_INVOICE = "quick_pay_invoice"


def _remember_token(request, token: uuid.UUID) -> None:
    tokens = request.session.get(SESSION_TOKENS, [])
    if str(token) not in tokens:
        request.session[SESSION_TOKENS] = [*tokens[-19:], str(token)]


def _payment_for_request(request, token) -> Payment:
    """The payment this browser started (or this login made), or 404."""
    payment = get_object_or_404(
        Payment.objects.select_related("service_account", "invoice"), client_token=token
    )
    if str(payment.client_token) in request.session.get(SESSION_TOKENS, []):
        return payment
    if request.user.is_authenticated and payment.created_by_id == request.user.pk:
        return payment
    raise Http404


def _pay_context(
    request, *, title, amount_due, start_url, account=None, invoice=None, guest=False, limit=None, cards=()
):
    """`limit` is the most one payment may be (more than amount_due when a credit is allowed);
    `cards` are the login's saved cards, offered before a new one."""
    return {
        "title": title,
        "account": account,
        "invoice": invoice,
        "amount_due": amount_due,
        "limit": amount_due if limit is None else limit,
        "cards": cards,
        "minimum": MINIMUM_PAYMENT,
        "token": uuid.uuid4(),
        "start_url": start_url,
        "guest": guest,
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": settings.STRIPE_JS_URL,
    }


@login_required
def pay_account(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    context = _pay_context(
        request,
        title=_("Pay account %(number)s") % {"number": account.account_number},
        amount_due=amount_owed(service_account=account),
        limit=payment_limit(service_account=account),
        start_url=reverse("payment_start_account", args=[account.pk]),
        account=account,
        cards=saved_cards_usable(user=request.user),
    )
    context["other_ways"] = [
        link for provider in PAY_PAGE_LINKS for link in provider(service_account=account)
    ]
    return render(request, "billing/pay.html", context)


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _parse_amount(text) -> Decimal | None:
    return parse_money_typed(text, language=get_language() or "en")


def _parse_token(text) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


def _token_bound_elsewhere(request, token: uuid.UUID, *, account, invoice, clerk) -> bool:
    """Whether this form token already names a payment started for another account, invoice,
    login or browser: then it is not this request's to continue."""
    known = Payment.objects.filter(client_token=token).first()
    if known is None:
        return False
    payer = clerk or (request.user if request.user.is_authenticated else None)
    same_target = (known.service_account_id, known.invoice_id) == (
        account.pk if account else None,
        invoice.pk if invoice else None,
    )
    same_payer = known.created_by_id == (payer.pk if payer else None)
    started_here = str(token) in request.session.get(SESSION_TOKENS, [])
    return not (same_target and same_payer and (payer is not None or started_here))


def _start(request, *, account=None, invoice=None, channel, clerk=None):
    body = _json_body(request)
    token = _parse_token(body.get("token"))
    amount = _parse_amount(body.get("amount"))
    if token is None:
        return JsonResponse(
            {"error": _("This page has expired. Please reload it and try again.")}, status=400
        )
    if _token_bound_elsewhere(request, token, account=account, invoice=invoice, clerk=clerk):
        raise Http404
    if amount is None:
        return JsonResponse({"error": _("Enter the amount in dollars and cents, like 45.10.")}, status=400)
    card_id = body.get("card_id")
    if card_id and account is not None and clerk is None and request.user.is_authenticated:
        return _pay_with_saved_card(request, token=token, amount=amount, account=account, card_id=card_id)
    email = str(body.get("email") or "").strip()[:254]
    if clerk is not None:
        email = email or (account.email if account else "")
    elif not request.user.is_authenticated:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            return JsonResponse({"error": _("Enter the email address for your receipt.")}, status=400)
    try:
        payment, client_secret = payment_start(
            client_token=token,
            amount=amount,
            channel=channel,
            # A caller's card taken by a clerk is not kept with the clerk's login.
            user=None if clerk else request.user,
            clerk=clerk,
            service_account=account,
            invoice=invoice,
            receipt_email=email,
            save_card=bool(body.get("save_card")) and clerk is None,
        )
    except ApplicationError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    except gateway.GatewayError as exc:
        return JsonResponse({"error": str(exc)}, status=503)
    _remember_token(request, token)
    return JsonResponse(
        {
            "client_secret": client_secret,
            "charge_url": reverse("payment_charge", args=[payment.client_token]),
        }
    )


def _pay_with_saved_card(request, *, token, amount, account, card_id):
    card = saved_cards_usable(user=request.user).filter(pk=record_id(card_id) or 0).first()
    if card is None:
        return JsonResponse({"error": _("Choose one of your saved cards, or enter a new card.")}, status=400)
    try:
        outcome = payment_with_saved_card(
            client_token=token, amount=amount, user=request.user, service_account=account, card=card
        )
    except ApplicationError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    except gateway.GatewayError as exc:
        return JsonResponse({"error": str(exc)}, status=503)
    _remember_token(request, token)
    return _outcome_json(outcome.payment, client_secret=outcome.client_secret, message=outcome.message)


@login_required
@require_POST
def payment_start_account(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    return _start(request, account=account, channel=Payment.Channel.ONLINE)


def _outcome_json(payment: Payment, *, client_secret=None, message=""):
    if payment.status == Payment.Status.SUCCEEDED:
        return JsonResponse(
            {"status": "succeeded", "receipt_url": reverse("payment_receipt", args=[payment.client_token])}
        )
    if client_secret:
        return JsonResponse(
            {
                "status": "requires_action",
                "client_secret": client_secret,
                "complete_url": reverse("payment_complete", args=[payment.client_token]),
            }
        )
    if payment.status == Payment.Status.FAILED:
        return JsonResponse(
            {
                "status": "failed",
                "error": message or payment.failure_message,
                "retry_token": str(uuid.uuid4()),
            }
        )
    # Still being charged by another request (a double submit): the receipt page waits for it.
    return JsonResponse(
        {"status": "processing", "receipt_url": reverse("payment_receipt", args=[payment.client_token])}
    )


@require_POST
def payment_charge_view(request, token):
    payment = _payment_for_request(request, token)
    setup_intent = str(_json_body(request).get("setup_intent") or "")
    try:
        outcome = payment_charge(payment=payment, setup_intent_id=setup_intent)
    except ApplicationError as exc:
        return JsonResponse({"status": "error", "error": exc.message}, status=400)
    except gateway.GatewayError as exc:
        return JsonResponse({"status": "error", "error": str(exc)}, status=503)
    return _outcome_json(outcome.payment, client_secret=outcome.client_secret, message=outcome.message)


@require_POST
def payment_complete_view(request, token):
    """After the bank's own check (3-D Secure): settle from Stripe's word, not the browser's."""
    payment = _payment_for_request(request, token)
    try:
        payment = payment_refresh(payment=payment)
    except gateway.GatewayError as exc:
        return JsonResponse({"status": "error", "error": str(exc)}, status=503)
    return _outcome_json(payment)


def payment_receipt(request, token):
    payment = _payment_for_request(request, token)
    if (
        payment.status in (Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION)
        and payment.stripe_payment_intent_id
    ):
        with contextlib.suppress(gateway.GatewayError):  # the page says "check again" instead
            payment = payment_refresh(payment=payment)
    return render(request, "billing/receipt.html", {"payment": payment})


# --- quick pay: no login -----------------------------------------------------------------


def _lookup_limited(request) -> bool:
    return is_ratelimited(
        request,
        group="quick-pay-lookup",
        key="ip",
        rate=settings.QUICK_PAY_LOOKUP_RATE,
        method="POST",
        increment=True,
    )


def mask_name(name: str) -> str:
    """'Maria Garcia' -> 'M**** G*****': enough to recognise, not enough to learn."""
    return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split() if part)


@require_http_methods(["GET", "POST"])
def quick_pay(request):
    def find(data):
        account = service_account_find_by_number(number=data["account_number"])
        return account if account is not None and account.service_zip == data["service_zip"] else None

    return _guest_lookup(
        request,
        form=QuickPayLookupForm(request.POST or None),
        template="billing/quick_pay_lookup.html",
        find=find,
        session_key=SESSION_QUICK_PAY,
        found_url="quick_pay_pay",
        mismatch=_("Those details do not match our records. Check your bill and try again."),
    )


def _guest_lookup(request, *, form, template: str, find, session_key: str, found_url: str, mismatch: str):
    """A guest's lookup (an account by number and ZIP, an invoice by number and ZIP): rate-limited,
    the same message whichever detail is wrong, what was found kept in the session."""
    if request.method == "POST":
        if _lookup_limited(request):
            form.add_error(None, _("Too many tries. Please wait a few minutes, or call us to pay by phone."))
            return render(request, template, {"form": form}, status=429)
        if form.is_valid():
            found = find(form.cleaned_data)
            if found is None:
                form.add_error(None, mismatch)
            else:
                request.session[session_key] = found.pk
                return redirect(found_url)
    return render(request, template, {"form": form})


def _quick_pay_account(request) -> ServiceAccount:
    pk = request.session.get(SESSION_QUICK_PAY)
    account = ServiceAccount.objects.filter(pk=pk).first() if pk else None
    if account is None:
        raise Http404
    return account


def quick_pay_pay(request):
    try:
        account = _quick_pay_account(request)
    except Http404:
        return redirect("quick_pay")
    context = _pay_context(
        request,
        title=_("Quick pay"),
        amount_due=amount_owed(service_account=account),
        limit=payment_limit(service_account=account),
        start_url=reverse("payment_start_quick"),
        guest=True,
    )
    context["masked_name"] = mask_name(account.customer_name)
    context["masked_account"] = account.account_number
    return render(request, "billing/pay.html", context)


@require_POST
def payment_start_quick(request):
    account = _quick_pay_account(request)
    return _start(request, account=account, channel=Payment.Channel.QUICK_PAY)


@require_http_methods(["GET", "POST"])
def invoice_pay_lookup(request):
    return _guest_lookup(
        request,
        form=InvoiceLookupForm(request.POST or None),
        template="billing/invoice_lookup.html",
        find=lambda data: Invoice.objects.filter(
            number__iexact=data["number"], payer_zip=data["payer_zip"]
        ).first(),
        session_key=SESSION_INVOICE,
        found_url="invoice_pay",
        mismatch=_("Those details do not match our records. Check your invoice and try again."),
    )


def _session_invoice(request) -> Invoice:
    pk = request.session.get(SESSION_INVOICE)
    invoice = Invoice.objects.filter(pk=pk).first() if pk else None
    if invoice is None:
        raise Http404
    return invoice


def invoice_pay(request):
    try:
        invoice = _session_invoice(request)
    except Http404:
        return redirect("invoice_pay_lookup")
    context = _pay_context(
        request,
        title=_("Pay %(kind)s %(number)s")
        % {"kind": invoice.get_kind_display().lower(), "number": invoice.number},
        amount_due=invoice_amount_open(invoice=invoice),
        start_url=reverse("payment_start_invoice"),
        invoice=invoice,
        guest=not request.user.is_authenticated,
    )
    context["masked_name"] = mask_name(invoice.payer_name)
    return render(request, "billing/pay.html", context)


@require_POST
def payment_start_invoice(request):
    invoice = _session_invoice(request)
    return _start(request, invoice=invoice, channel=Payment.Channel.QUICK_PAY)


# --- Stripe's webhook ----------------------------------------------------------------------


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Signed by Stripe; anything else gets 400 and changes nothing."""
    try:
        event = gateway.webhook_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except ValueError:
        return HttpResponse("invalid signature", status=400)
    try:
        stripe_event_receive(event=event)
    except gateway.GatewayError:
        # Stripe delivers again later; the stored event is handled then.
        return HttpResponse("try again", status=503)
    return HttpResponse("ok")
