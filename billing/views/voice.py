"""Twilio Voice's webhooks for the automated payment line. Every request is checked for Twilio's
signature; each answers with TwiML (what the caller hears, and where their keys go next)."""

from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import reverse
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.voice_response import VoiceResponse

from accounts.models import ServiceAccount
from accounts.notifications import users_for_account
from accounts.texts import text_receipt
from accounts.twilio_gateway import request_params_if_signed
from billing.calendar import local_today
from billing.models import Payment
from billing.selectors import account_summary
from billing.services.payments import account_payment_check, amount_owed
from billing.services.phone_line import (
    MAX_TRIES,
    account_find,
    amount_from_keys,
    call_end,
    call_get,
    call_payment,
    digits,
    payment_prepare,
    payment_record,
)
from kernel.errors import ApplicationError
from kernel.i18n import local_date
from kernel.money import money

VOICES = {"en": "en-US", "es": "es-MX"}


def twilio_only(view):
    """Twilio's signature on the address it called (from PORTAL_BASE_URL), or 403."""

    @csrf_exempt
    @require_POST
    @wraps(view)
    def checked(request, *args, **kwargs):
        params = request_params_if_signed(request)
        if params is None:
            return HttpResponseForbidden("Not signed by Twilio.")
        call = call_get(params.get("CallSid", "") or "none")
        with translation.override(call.language):
            return view(request, call, params)

    return checked


def _twiml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


def _say(node, text: str, call) -> None:
    node.say(text, language=VOICES[call.language])


def _ask(call, text: str, action: str, *, num_digits: int | None = None) -> VoiceResponse:
    """Say `text` while listening for keys, then post them to `action` (silence posts nothing
    keyed, and the step asks again)."""
    response = VoiceResponse()
    options = {
        "action": reverse(action),
        "input": "dtmf",
        "timeout": 8,
        "finish_on_key": "#",
        "action_on_empty_result": True,
    }
    if num_digits:
        options["num_digits"] = num_digits
    gather = response.gather(**options)
    _say(gather, text, call)
    return response


def _goodbye(call, text: str) -> HttpResponse:
    response = VoiceResponse()
    _say(response, text, call)
    response.hangup()
    call_end(call.sid)
    return _twiml(response)


@twilio_only
def start(request, call, params):
    response = VoiceResponse()
    gather = response.gather(action=reverse("phone_line_language"), input="dtmf", num_digits=1, timeout=6)
    gather.say(f"{settings.UTILITY_NAME}. To pay your bill in English, press 1.", language=VOICES["en"])
    gather.say("Para pagar su factura en español, oprima 2.", language=VOICES["es"])
    response.redirect(reverse("phone_line_start"))  # no key pressed: the greeting again
    return _twiml(response)


@twilio_only
def language(request, call, params):
    call.language = "es" if params.get("Digits") == "2" else "en"
    call.save()
    with translation.override(call.language):
        return _twiml(_account_question(call))


def _account_question(call) -> VoiceResponse:
    return _ask(
        call,
        _("Please key your account number, without the dash, then press the pound key."),
        "phone_line_account",
    )


@twilio_only
def account(request, call, params):
    call.account_digits = digits(params.get("Digits", ""))
    call.save()
    if not call.account_digits:
        return _twiml(_account_question(call))
    return _twiml(
        _ask(
            call, _("Now key the five-digit ZIP code of the service address."), "phone_line_zip", num_digits=5
        )
    )


@twilio_only
def zip_code(request, call, params):
    found = account_find(account_digits=call.account_digits, zip_code=digits(params.get("Digits", "")))
    if found is None:
        call.tries += 1
        call.save()
        if call.tries >= MAX_TRIES:
            return _goodbye(
                call,
                _("We could not find that account. Please call us at %(phone)s during office hours. Goodbye.")
                % {"phone": settings.UTILITY_PHONE},
            )
        return _twiml(
            _ask(
                call,
                _(
                    "That account number and ZIP code do not match an account. Please key the account number again, then the pound key."
                ),
                "phone_line_account",
            )
        )
    call.account_id = found.pk
    call.save()
    return _twiml(_amount_menu(call, found))


def _amount_menu(call, found: ServiceAccount, *, first: str = "") -> VoiceResponse:
    summary = account_summary(service_account=found, as_of=local_today())
    due = amount_owed(service_account=found)  # less bank payments already on their way
    if due > 0 and summary.latest_bill:
        said = _("The amount due is %(amount)s, due %(date)s.") % {
            "amount": money(due),
            "date": local_date(summary.latest_bill.due_date, "MONTH_DAY_FORMAT"),
        }
    elif due > 0:
        said = _("The amount due is %(amount)s.") % {"amount": money(due)}
    else:
        said = _("Nothing is due right now.")
    choices = (
        _("To pay the amount due, press 1. To pay another amount, press 2.")
        if due > 0
        else _("To make a payment anyway, press 2.")
    )
    return _ask(call, " ".join(filter(None, [first, said, choices])), "phone_line_choice", num_digits=1)


@twilio_only
def choice(request, call, params):
    found = ServiceAccount.objects.filter(pk=call.account_id).first()
    if found is None:
        return _twiml(_account_question(call))
    if params.get("Digits") == "1":
        return _pay_or_refuse(call, found, amount_owed(service_account=found))
    if params.get("Digits") == "2":
        return _twiml(
            _ask(
                call,
                _(
                    "Key the amount in dollars and cents, without a point: for 45 dollars and 10 cents, key 4 5 1 0. Then press the pound key."
                ),
                "phone_line_amount",
            )
        )
    return _twiml(_amount_menu(call, found))


@twilio_only
def amount(request, call, params):
    found = ServiceAccount.objects.filter(pk=call.account_id).first()
    if found is None:
        return _twiml(_account_question(call))
    keyed = amount_from_keys(params.get("Digits", ""))
    if keyed is None:
        return _twiml(_amount_menu(call, found))
    return _pay_or_refuse(call, found, keyed)


def _pay_or_refuse(call, found: ServiceAccount, amount_: Decimal) -> HttpResponse:
    try:
        account_payment_check(amount=amount_, service_account=found)
    except ApplicationError as exc:
        return _twiml(_amount_menu(call, found, first=str(exc.message)))
    call.amount = f"{amount_:.2f}"
    call.save()
    payment = payment_prepare(call=call, account=found, amount=amount_)
    if payment.is_final:
        return _goodbye(call, _("This call's payment is already made. Goodbye."))
    response = VoiceResponse()
    _say(
        response,
        _("You are paying %(amount)s on account %(number)s. Now you will be asked for your card.")
        % {"amount": money(amount_), "number": found.account_number},
        call,
    )
    response.pay(
        payment_connector=settings.TWILIO_PAY_CONNECTOR,
        charge_amount=call.amount,
        currency="usd",
        description=f"Account {found.account_number}",
        postal_code=False,
        language=VOICES[call.language],
        action=reverse("phone_line_paid"),
    )
    return _twiml(response)


@twilio_only
def paid(request, call, params):
    payment = call_payment(call)
    if payment is None:
        return _goodbye(call, _("We could not find this call's payment. Please call us. Goodbye."))
    found = payment.service_account
    if params.get("Result") != "success" and not payment.is_final:
        return _twiml(
            _ask(
                call,
                _(
                    "The card was not accepted, so nothing was charged. To try another card, press 1. To end the call, press 2."
                ),
                "phone_line_retry",
                num_digits=1,
            )
        )
    try:
        payment = payment_record(
            call=call,
            confirmation_code=params.get("PaymentConfirmationCode", ""),
            card_number=params.get("PaymentCardNumber", ""),
            card_type=params.get("PaymentCardType", ""),
        )
    except ApplicationError:
        return _goodbye(
            call, _("We could not confirm the payment. Please call us before paying again. Goodbye.")
        )
    if payment.status != Payment.Status.SUCCEEDED:
        return _goodbye(
            call,
            _(
                "The payment is being confirmed with the card processor. Please check your account before paying again. Goodbye."
            ),
        )
    spoken = ", ".join(payment.confirmation_number)
    text_receipt(
        users=users_for_account(service_account=found),
        body=format_lazy(
            gettext_lazy("{amount} paid by phone on account {number}. Confirmation {confirmation}."),
            amount=money(payment.amount),
            number=found.account_number,
            confirmation=payment.confirmation_number,
        ),
        reference=f"payment:{payment.pk}",
        account_number=found.account_number,
    )
    return _goodbye(
        call,
        _(
            "Thank you. Your payment of %(amount)s is received. Your confirmation number is %(spoken)s. Again: %(spoken)s. Goodbye."
        )
        % {"amount": money(payment.amount), "spoken": spoken},
    )


@twilio_only
def retry(request, call, params):
    payment = call_payment(call)
    if params.get("Digits") == "1" and payment is not None and not payment.is_final:
        return _pay_or_refuse(call, payment.service_account, payment.amount)
    return _goodbye(call, _("Nothing was charged. Goodbye."))


@twilio_only
def status(request, call, params):
    """Twilio's call-status callback: a finished call (a hang-up included) leaves nothing behind."""
    if params.get("CallStatus") in ("completed", "busy", "failed", "no-answer", "canceled"):
        call_end(call.sid)
    return HttpResponse(status=204)
