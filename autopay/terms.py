"""The authorization texts a customer accepts online. Each is shown, then stored exactly as shown
(with its version, the login, the time, the address it came from and the choices made with it)
in PaymentAuthorization.

Change a text only together with its version: stored authorizations keep the words they were
given under.
"""

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from autopay.models import PaymentAuthorization
from kernel.security import client_ip

CARD_AUTOPAY_VERSION = "2026-12-01b"


def card_autopay_terms(*, account_number: str) -> str:
    """The card autopay authorization, in the active language."""
    return _(
        "I authorize %(utility)s to charge the card I chose above, on the day of the month I chose, for "
        "the amount due on the latest bill of account %(number)s less payments and credits since. If I "
        "set a maximum and the amount is more, no charge is made that month and I will be emailed to pay it "
        "myself. Reminders before charges are emailed as my email settings allow. This authorization lasts "
        "until I cancel it on this page or by calling %(phone)s; a cancellation made by the day before a "
        "charge stops that charge."
    ) % {"utility": settings.UTILITY_NAME, "number": account_number, "phone": settings.UTILITY_PHONE}


# The version of the card terms followed by the bank account terms (both change together).
CARD_AND_BANK_AUTOPAY_VERSION = "2026-12-02"


def bank_autopay_terms(*, account_number: str) -> str:
    """What a customer also accepts when autopay may debit a bank account (NACHA WEB, recurring)."""
    return _(
        "If I chose a bank account: I authorize %(utility)s to debit it electronically each month for that "
        "amount, to pay account %(number)s, on the day I chose or the next banking day, and never sooner "
        "than %(notice)s days after the bill is issued; the bill and an email sent %(notice)s days before "
        "the debit tell me the amount. I am an owner of the bank account or allowed to use it. A new account "
        "is first sent a zero-dollar test entry. If my bank returns a debit, the payment is reversed and a "
        "returned-payment fee may be charged. This authorization lasts until I cancel autopay on this page "
        "or by calling %(phone)s; a cancellation made at least two days before a debit stops that debit."
    ) % {
        "utility": settings.UTILITY_NAME,
        "number": account_number,
        "notice": settings.BANK_DRAFT_NOTICE_DAYS,
        "phone": settings.UTILITY_PHONE,
    }


def autopay_terms(*, account_number: str, with_bank: bool) -> tuple[str, str]:
    """(version, text) of the autopay terms as the page shows them: the card terms, and the bank
    account terms when the login has a bank account to choose."""
    text = card_autopay_terms(account_number=account_number)
    if not with_bank:
        return CARD_AUTOPAY_VERSION, text
    return (
        CARD_AND_BANK_AUTOPAY_VERSION,
        text + "\n\n" + bank_autopay_terms(account_number=account_number),
    )


def authorization_record(
    *, request, service_account, kind: str, version: str, text: str, details: dict
) -> PaymentAuthorization:
    return PaymentAuthorization.objects.create(
        user=request.user,
        service_account=service_account,
        kind=kind,
        terms_version=version,
        text=text,
        language=get_language() or settings.LANGUAGE_CODE,
        ip_address=client_ip(request) or None,
        details=details,
    )


BANK_PAYMENT_VERSION = "2026-12-01"
SCHEDULED_PAYMENT_VERSION = "2026-12-01"


def bank_payment_terms(*, account_number: str) -> str:
    """The one-time debit authorization (NACHA WEB, single entry), in the active language."""
    return _(
        "I authorize %(utility)s to make a one-time electronic debit from the bank account I entered above "
        "for the amount and on the date shown, to pay account %(number)s. I am an owner of the bank account "
        "or allowed to use it. If the account is new to %(utility)s, my bank is first sent a zero-dollar test "
        "entry and the debit waits until it has passed. If my bank returns the debit, the payment is reversed "
        "and a returned-payment fee may be charged. I can cancel it until it is sent to my bank by calling "
        "%(phone)s."
    ) % {"utility": settings.UTILITY_NAME, "number": account_number, "phone": settings.UTILITY_PHONE}


def scheduled_payment_terms(*, account_number: str) -> str:
    """The authorization for a payment on a later date, by card or bank account."""
    return _(
        "I authorize %(utility)s to charge the card or debit the bank account I chose above, once, for the "
        "amount and on the date I chose, to pay account %(number)s. I will be emailed the day before. I can "
        "cancel it on this website until the day before it is made, or by calling %(phone)s."
    ) % {"utility": settings.UTILITY_NAME, "number": account_number, "phone": settings.UTILITY_PHONE}
