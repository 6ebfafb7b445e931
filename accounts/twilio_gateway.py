"""The one place the portal talks to Twilio (text messages). Under `make run` and in tests,
TWILIO_API_BASE points at the local stand-in of Twilio's API (portal/twilio_standin.py)."""

import logging
from dataclasses import dataclass

from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

logger = logging.getLogger(__name__)
TWILIO_API = "https://api.twilio.com"


class _ToBase(TwilioHttpClient):
    """Twilio's own HTTP client, sent to TWILIO_API_BASE instead of api.twilio.com."""

    def request(self, method, url, *args, **kwargs):
        if settings.TWILIO_API_BASE and url.startswith(TWILIO_API):
            url = settings.TWILIO_API_BASE.rstrip("/") + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def texts_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM_NUMBER)


def _client() -> Client:
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=_ToBase(timeout=15))


@dataclass(frozen=True)
class Sent:
    sid: str
    error: str  # empty when Twilio took the message


def message_send(*, to: str, body: str) -> Sent:
    """Hand one text to Twilio. Never raises: a refusal or an outage comes back as `error`."""
    try:
        message = _client().messages.create(to=to, from_=settings.TWILIO_FROM_NUMBER, body=body)
    except TwilioRestException as exc:
        # Twilio's code and message name the problem, never the text itself.
        logger.warning("Twilio refused a text (code %s)", exc.code)
        return Sent("", f"{exc.code}: {exc.msg}"[:200])
    except (TwilioException, OSError) as exc:
        logger.warning("Twilio could not be reached: %s", type(exc).__name__)
        return Sent("", "Twilio could not be reached")
    return Sent(message.sid, "")


def signature_valid(*, url: str, params: dict, signature: str) -> bool:
    """Whether a webhook request was signed by Twilio with our auth token."""
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)


def request_params_if_signed(request) -> dict | None:
    """A webhook's form fields when Twilio signed it, else None. The address signed is the one
    Twilio called: PORTAL_BASE_URL and the path, so a proxy in front changes nothing."""
    url = settings.PORTAL_BASE_URL.rstrip("/") + request.get_full_path()
    params = {key: request.POST.get(key) for key in request.POST}
    if not signature_valid(url=url, params=params, signature=request.headers.get("X-Twilio-Signature", "")):
        return None
    return params
