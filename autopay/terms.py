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
from portal.security import client_ip

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
