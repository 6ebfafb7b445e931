"""Pay by text: a customer with a saved card or bank account turns it on for an account; each
bill's text then says the amount and "reply PAY to pay with Visa ending 4242"; the reply pays
once and texts back the confirmation number."""

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ServiceAccount, User
from autopay.models import BankAccount, PayByText, PaymentAuthorization, TextPayPrompt
from autopay.services.bank_accounts import bank_payment_make
from billing.calendar import local_today
from billing.models import Bill, Payment, SavedCard
from billing.notification_kinds import BILL_READY
from billing.selectors import saved_cards_usable
from billing.services.payments import account_payment_check, amount_owed, payment_with_saved_card
from kernel.errors import ApplicationError
from kernel.i18n import local_date
from kernel.money import money

PAY_WORDS = {"PAY", "PAGAR"}
VERSION = "2026-12-02"
# A bill's offer answers a PAY for this long (and only while it is the account's latest bill).
OFFER_DAYS = 35


def pay_by_text_terms(*, account_number: str) -> str:
    """The authorization a customer accepts to turn pay by text on, in the active language."""
    return _(
        "I authorize %(utility)s, each time I reply PAY to its text about a bill of account %(number)s, to "
        "charge the card or debit the bank account I chose above once, for the amount that text names (or the "
        "amount then due, if less). A reply other than PAY pays nothing. I can turn pay by text off on this page "
        "or by calling %(phone)s; replying STOP also stops it."
    ) % {"utility": settings.UTILITY_NAME, "number": account_number, "phone": settings.UTILITY_PHONE}


def pay_by_text_active(*, user: User, service_account: ServiceAccount) -> PayByText | None:
    return (
        PayByText.objects.filter(user=user, service_account=service_account, ended_at__isnull=True)
        .select_related("card", "bank_account")
        .first()
    )


def pay_by_text_start(
    *,
    user: User,
    service_account: ServiceAccount,
    card: SavedCard | None,
    bank_account: BankAccount | None,
    authorization: PaymentAuthorization,
) -> PayByText:
    if not user.texts_on:
        raise ApplicationError(gettext_lazy("Confirm a mobile number for texts first (Login settings)."))
    if (card is None) == (bank_account is None):
        raise ApplicationError(gettext_lazy("Choose one saved card or bank account."))
    if card is not None and not saved_cards_usable(user=user).filter(pk=card.pk).exists():
        raise ApplicationError(gettext_lazy("Choose one of your own saved cards."))
    if bank_account is not None and (bank_account.user_id != user.pk or not bank_account.usable):
        raise ApplicationError(gettext_lazy("Choose one of your own bank accounts."))
    with transaction.atomic():
        PayByText.objects.filter(user=user, service_account=service_account, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
        return PayByText.objects.create(
            user=user,
            service_account=service_account,
            card=card,
            bank_account=bank_account,
            authorization=authorization,
        )


def pay_by_text_stop_all(*, user: User) -> None:
    """A STOP reply ends pay by text on every account (its authorization says so)."""
    PayByText.objects.filter(user=user, ended_at__isnull=True).update(ended_at=timezone.now())


def method_usable(choice: PayByText) -> bool:
    """The card is still saved and unexpired, or the bank account still usable."""
    if choice.card_id:
        return saved_cards_usable(user=choice.user).filter(pk=choice.card_id).exists()
    return choice.bank_account is not None and choice.bank_account.usable


def pay_by_text_stop(*, user: User, service_account: ServiceAccount) -> bool:
    return bool(
        PayByText.objects.filter(user=user, service_account=service_account, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
    )


def bill_text(*, user: User, kind: str, reference: str, account_number: str) -> str | None:
    """The bill-ready text for a login with pay by text on the bill's account: the amount, the
    due date and "reply PAY". Records the offer (once per bill) that a PAY answers."""
    if kind != BILL_READY or not reference.startswith("bill:"):
        return None
    bill = Bill.objects.filter(pk=reference.split(":", 1)[1]).select_related("service_account").first()
    if bill is None or bill.total_due <= 0:
        return None
    choice = pay_by_text_active(user=user, service_account=bill.service_account)
    if choice is None or choice.method is None or not method_usable(choice):
        return None
    TextPayPrompt.objects.get_or_create(pay_by_text=choice, bill=bill, defaults={"amount": bill.total_due})
    return str(
        format_lazy(
            gettext_lazy(
                "{utility}: your {month} bill for account {number} is {amount}, due {date}. Reply PAY to pay it "
                "with {method}. {url}"
            ),
            utility=settings.UTILITY_NAME,
            month=local_date(bill.period, "YEAR_MONTH_FORMAT"),
            number=bill.service_account.account_number,
            amount=money(bill.total_due),
            date=local_date(bill.due_date, "MONTH_DAY_FORMAT"),
            method=str(choice.method),
            url=settings.PORTAL_BASE_URL,
        )
    )


def _latest_bill_id(account_id: int) -> int | None:
    return (
        Bill.objects.filter(service_account_id=account_id)
        .order_by("-period", "-pk")
        .values_list("pk", flat=True)
        .first()
    )


def _claim(user: User) -> tuple[TextPayPrompt | None, TextPayPrompt | None]:
    """(the offer this PAY takes, claimed OPEN -> PAYING), or (None, the latest offer) when none
    is open: a second PAY finds the first one's. An offer answers only while it is recent, its
    bill is still the account's latest and pay by text is still on."""
    prompts = TextPayPrompt.objects.filter(pay_by_text__user=user).select_related(
        "pay_by_text__service_account",
        "pay_by_text__card",
        "pay_by_text__bank_account",
        "pay_by_text__user",
        "payment",
    )
    latest = prompts.order_by("-created_at", "-pk").first()
    since = timezone.now() - dt.timedelta(days=OFFER_DAYS)
    for offer in prompts.filter(
        status=TextPayPrompt.Status.OPEN, created_at__gte=since, pay_by_text__ended_at__isnull=True
    ).order_by("-created_at", "-pk"):
        if offer.bill_id != _latest_bill_id(offer.pay_by_text.service_account_id):
            continue
        claimed = TextPayPrompt.objects.filter(pk=offer.pk, status=TextPayPrompt.Status.OPEN).update(
            status=TextPayPrompt.Status.PAYING, answered_at=timezone.now()
        )
        if claimed:
            return offer, offer
    return None, latest


def _settled(prompt: TextPayPrompt) -> TextPayPrompt:
    """An offer left being paid (the card processor did not answer in time): settled from its
    payment, which reconciliation has asked Stripe about since."""
    if prompt.status == TextPayPrompt.Status.PAYING and prompt.payment is not None:
        prompt.payment.refresh_from_db()
        if prompt.payment.status == Payment.Status.SUCCEEDED:
            prompt.status = TextPayPrompt.Status.PAID
        elif prompt.payment.is_final:
            prompt.status = TextPayPrompt.Status.FAILED
        TextPayPrompt.objects.filter(pk=prompt.pk).update(status=prompt.status)
    return prompt


def _already(prompt: TextPayPrompt | None) -> str:
    if prompt is not None:
        prompt = _settled(prompt)
    if prompt is None or prompt.pay_by_text.ended_at:
        return _("There is no bill to pay by text right now. Pay online at %(url)s") % {
            "url": settings.PORTAL_BASE_URL
        }
    if prompt.status == TextPayPrompt.Status.PAID and prompt.payment is not None:
        return _("This bill is already paid (confirmation %(number)s). Nothing more was charged.") % {
            "number": prompt.payment.confirmation_number
        }
    if prompt.status == TextPayPrompt.Status.PAYING:
        return _(
            "Your payment is still being confirmed. Reply PAY again in a few minutes to see where it stands. Nothing more was charged."
        )
    return _("This bill can no longer be paid by text. Pay online at %(url)s") % {
        "url": settings.PORTAL_BASE_URL
    }


def _card_pay(prompt: TextPayPrompt, amount: Decimal) -> Payment:
    """The saved-card payment the pay page makes, off-session and keyed by the offer: a PAY
    handled twice charges once."""
    choice = prompt.pay_by_text
    outcome = payment_with_saved_card(
        client_token=uuid.uuid5(uuid.NAMESPACE_URL, f"text-prompt:{prompt.pk}"),
        amount=amount,
        user=choice.user,
        service_account=choice.service_account,
        card=choice.card,
        off_session=True,
    )
    TextPayPrompt.objects.filter(pk=prompt.pk).update(payment=outcome.payment)
    return outcome.payment


def pay_reply(*, user: User, word: str, text: str) -> str | None:
    """A reply handler (accounts.texts): PAY pays the latest bill offered, once."""
    if word not in PAY_WORDS:
        return None
    prompt, latest = _claim(user)
    if prompt is None:
        return _already(latest)
    choice = prompt.pay_by_text
    account = choice.service_account
    today = local_today()
    # What is still owed, less bank payments on their way: never more than the text named.
    amount = min(prompt.amount, amount_owed(service_account=account))
    if amount <= 0:
        TextPayPrompt.objects.filter(pk=prompt.pk).update(status=TextPayPrompt.Status.NOTHING_DUE)
        return _("Nothing is due on account %(number)s now, so nothing was charged.") % {
            "number": account.account_number
        }
    if not method_usable(choice):
        TextPayPrompt.objects.filter(pk=prompt.pk).update(status=TextPayPrompt.Status.FAILED)
        return _(
            "The card or bank account chosen for pay by text is no longer saved, so nothing was charged. Pay online at %(url)s"
        ) % {"url": settings.PORTAL_BASE_URL}
    try:
        payment = _prompt_pay(prompt, user=user, amount=amount, today=today)
    except ApplicationError as exc:
        TextPayPrompt.objects.filter(pk=prompt.pk).update(status=TextPayPrompt.Status.FAILED)
        return _("The payment could not be made: %(reason)s Nothing was charged. Pay online at %(url)s") % {
            "reason": exc.message,
            "url": settings.PORTAL_BASE_URL,
        }
    return _payment_answer(prompt, payment, amount=amount)


def _prompt_pay(prompt: TextPayPrompt, *, user: User, amount: Decimal, today: dt.date) -> Payment:
    """Pay `amount` with the method chosen for pay by text: the card at once, or a bank payment."""
    choice = prompt.pay_by_text
    account_payment_check(amount=amount, service_account=choice.service_account)
    if choice.card_id:
        return _card_pay(prompt, amount)
    payment = bank_payment_make(
        client_token=uuid.uuid5(uuid.NAMESPACE_URL, f"text-prompt:{prompt.pk}"),
        user=user,
        service_account=choice.service_account,
        bank_account=choice.bank_account,
        amount=amount,
        today=today,
        authorization=choice.authorization,
    )
    TextPayPrompt.objects.filter(pk=prompt.pk).update(payment=payment)
    return payment


def _payment_answer(prompt: TextPayPrompt, payment: Payment, *, amount: Decimal) -> str:
    """The text back once the payment is made: paid, on its way, declined, or not yet known."""
    choice = prompt.pay_by_text
    account = choice.service_account
    if choice.card_id and payment.status == Payment.Status.PENDING:
        # Stripe did not answer: left PAYING with its payment, which reconciliation settles from
        # Stripe's word. A second PAY finds it being paid and charges nothing.
        return _(
            "We could not hear back from the card processor, so the payment may still go through. Check your "
            "account at %(url)s before paying again."
        ) % {"url": settings.PORTAL_BASE_URL}
    if payment.status in (Payment.Status.FAILED, Payment.Status.REQUIRES_ACTION):
        TextPayPrompt.objects.filter(pk=prompt.pk).update(status=TextPayPrompt.Status.FAILED)
        return _("Your card was declined: %(reason)s Nothing was charged. Pay online at %(url)s") % {
            "reason": payment.failure_message or _("your bank asks to confirm it online."),
            "url": settings.PORTAL_BASE_URL,
        }
    TextPayPrompt.objects.filter(pk=prompt.pk).update(status=TextPayPrompt.Status.PAID)
    if payment.status == Payment.Status.PENDING and not choice.card_id:
        return _(
            "Thank you: %(amount)s from your %(method)s is on its way to account %(number)s, credited on %(date)s. "
            "Confirmation %(confirmation)s."
        ) % {
            "amount": money(amount),
            "method": str(choice.method),
            "number": account.account_number,
            "date": local_date(payment.received_on, "MONTH_DAY_FORMAT"),
            "confirmation": payment.confirmation_number,
        }
    return _(
        "Thank you: %(amount)s paid on account %(number)s with %(method)s. Confirmation %(confirmation)s."
    ) % {
        "amount": money(amount),
        "number": account.account_number,
        "method": str(choice.method),
        "confirmation": payment.confirmation_number,
    }
