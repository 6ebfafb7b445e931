"""Text messages in tests: the Twilio stand-in's outbox, a confirmed mobile number, and requests
signed as Twilio signs them."""

import datetime as dt
import json
import re
import urllib.parse
import urllib.request

from django.conf import settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from accounts.models import User
from accounts.texts import mobile_code_confirm, mobile_code_send

NUMBER = "+15035550100"
DAYTIME = dt.datetime(2026, 12, 1, 19, tzinfo=dt.UTC)  # 11 a.m. Pacific


def standin(path: str, data: dict | None = None) -> dict:
    request = urllib.request.Request(
        settings.TWILIO_API_BASE + path,
        data=urllib.parse.urlencode(data).encode() if data is not None else None,
        method="POST" if data is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the local stand-in)
        return json.loads(response.read())


def texts_to(number: str) -> list[str]:
    return [m["body"] for m in standin("/_standin/messages")["messages"] if m["to"] == number]


def confirmed(user: User, number: str = NUMBER) -> User:
    mobile_code_send(user=user, number_typed=number)
    code = re.search(r"\b(\d{6})\b", texts_to(number)[-1]).group(1)  # in the login's language
    mobile_code_confirm(user=user, code=code)
    user.refresh_from_db()
    return user


def signed_post(client, params: dict, *, token: str | None = None):
    url = settings.PORTAL_BASE_URL + reverse("text_incoming")
    signature = RequestValidator(token or settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
    return client.post(reverse("text_incoming"), params, HTTP_X_TWILIO_SIGNATURE=signature)


def incoming(body: str, *, sid: str, number: str = NUMBER) -> dict:
    return {
        "MessageSid": sid,
        "AccountSid": settings.TWILIO_ACCOUNT_SID,
        "From": number,
        "To": "+15005550006",
        "Body": body,
    }
