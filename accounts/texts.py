"""Text messages: a confirmed mobile number, a switch per kind of notice, quiet hours, the
carriers' keywords (STOP, HELP, START) and replies other apps answer (PAY). Every text sent,
queued, skipped or received is a row in TextMessage.

A text goes only to a login whose number was confirmed with a code sent to it, that has not
replied STOP, and whose switch for the kind is on (all start off). From TEXT_QUIET_START to
TEXT_QUIET_END o'clock (local time) a text waits; `texts_send_queued` sends it in the morning.
"""

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import NotificationPreference, TextMessage, User
from accounts.notification_kinds import notification_kinds
from accounts.twilio_gateway import message_send, texts_configured
from kernel.errors import ApplicationError
from kernel.i18n import language_for

CODE_MINUTES = 10
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 5
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR"}
START_WORDS = {"START", "UNSTOP", "YES", "INICIAR"}
HELP_WORDS = {"HELP", "INFO", "AYUDA"}
# The log's reference of a text an app wrote for its login (see TEXT_WRITERS).
WRITTEN_PREFIX = "written:"

# Each handler: (user=..., word=..., text=...) -> reply text, or None when the word is not its
# own. Apps built on accounts answer their keywords here (autopay answers PAY).
REPLY_HANDLERS: list[Callable] = []


def register_reply_handler(handler: Callable) -> None:
    if handler not in REPLY_HANDLERS:
        REPLY_HANDLERS.append(handler)


# Each listener: (user=...) -> None, told when a login replies STOP (autopay ends pay by text:
# its authorization says STOP stops it).
STOP_LISTENERS: list[Callable] = []


def register_stop_listener(listener: Callable) -> None:
    if listener not in STOP_LISTENERS:
        STOP_LISTENERS.append(listener)


# Each writer: (user=..., kind=..., reference=..., account_number=...) -> the whole text, or None.
# An app writes its own text of a kind for a login that asked it to (autopay's bill text that
# offers "reply PAY"); such a text goes even with the kind's switch off, since the login turned
# it on there.
TEXT_WRITERS: list[Callable] = []


def register_text_writer(writer: Callable) -> None:
    if writer not in TEXT_WRITERS:
        TEXT_WRITERS.append(writer)


def mobile_normalize(text: str) -> str:
    """A US mobile number as typed ("503-555-0100", "(503) 555 0100", "+1 503 555 0100") in
    E.164 form, or ApplicationError."""
    try:
        number = phonenumbers.parse(text or "", "US")
    except phonenumbers.NumberParseException as exc:
        raise ApplicationError(_("Enter a mobile number like 503-555-0100.")) from exc
    # US (and other North American) numbers only: texts abroad cost more and invite abuse.
    if number.country_code != 1 or not phonenumbers.is_valid_number(number):
        raise ApplicationError(_("Enter a mobile number like 503-555-0100."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile_display(number: str) -> str:
    if not number:
        return ""
    return phonenumbers.format_number(
        phonenumbers.parse(number, "US"), phonenumbers.PhoneNumberFormat.NATIONAL
    )


def _code_key(user: User) -> str:
    return f"texts:code:{user.pk}"


def _code_hash(user: User, number: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{user.pk}:{number}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _count(key: str) -> int:
    """One more in an hour's count; with the cache away, counted as over (no code goes)."""
    try:
        cache.add(key, 0, timeout=3600)
        value = cache.incr(key)
    except ValueError:  # expired between the two calls: a new hour
        cache.set(key, 1, timeout=3600)
        value = 1
    return value if isinstance(value, int) else CODES_PER_HOUR + 1


def mobile_code_send(*, user: User, number_typed: str) -> str:
    """Send a six-digit code to the number; the number is the login's once the code comes back."""
    if not texts_configured():
        raise ApplicationError(_("Text messages are not available yet. Please check back later."))
    number = mobile_normalize(number_typed)
    if (
        User.objects.filter(mobile_number=number, mobile_confirmed_at__isnull=False)
        .exclude(pk=user.pk)
        .exists()
    ):
        raise ApplicationError(_("This number is already confirmed for another login."))
    # At most CODES_PER_HOUR codes an hour to a login, and to a number.
    for sent_key in (f"texts:codes-sent:{user.pk}", f"texts:codes-to:{number}"):
        if _count(sent_key) > CODES_PER_HOUR:
            raise ApplicationError(_("Too many codes were sent in the last hour. Please try again later."))
    code = f"{secrets.randbelow(10**6):06d}"
    cache.set(
        _code_key(user),
        {"number": number, "hash": _code_hash(user, number, code), "attempts": 0},
        timeout=CODE_MINUTES * 60,
    )
    with translation.override(language_for(user)):
        body = str(
            format_lazy(
                _("{utility}: your code is {code}. It expires in {minutes} minutes."),
                utility=settings.UTILITY_NAME,
                code=code,
                minutes=CODE_MINUTES,
            )
        )
    _deliver(
        number=number,
        body=body,
        user=user,
        kind="confirm",
        reference=f"confirm:{user.pk}",
        logged=body.replace(code, "******"),
    )
    return number


def mobile_code_confirm(*, user: User, code: str) -> str:
    pending = cache.get(_code_key(user))
    if not pending:
        raise ApplicationError(_("That code has expired. Send a new one."))
    if pending["attempts"] >= CODE_ATTEMPTS:
        cache.delete(_code_key(user))
        raise ApplicationError(_("Too many wrong codes. Send a new one."))
    if not hmac.compare_digest(pending["hash"], _code_hash(user, pending["number"], (code or "").strip())):
        pending["attempts"] += 1
        cache.set(_code_key(user), pending, timeout=CODE_MINUTES * 60)
        raise ApplicationError(_("That is not the code we sent. Check the text and try again."))
    cache.delete(_code_key(user))
    user.mobile_number = pending["number"]
    user.mobile_confirmed_at = timezone.now()
    user.texts_stopped_at = None
    try:
        with transaction.atomic():
            user.save(update_fields=["mobile_number", "mobile_confirmed_at", "texts_stopped_at"])
    except IntegrityError as exc:
        raise ApplicationError(_("This number is already confirmed for another login.")) from exc
    return user.mobile_number


def mobile_pending(*, user: User) -> str:
    """The number a code was sent to and not yet typed back, if any."""
    pending = cache.get(_code_key(user))
    return pending["number"] if pending else ""


def mobile_remove(*, user: User) -> None:
    User.objects.filter(pk=user.pk).update(mobile_number="", mobile_confirmed_at=None)
    NotificationPreference.objects.filter(user=user).update(text_enabled=False)
    cache.delete(_code_key(user))
    user.refresh_from_db()


def text_switches(*, user: User) -> dict[str, bool]:
    stored = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "text_enabled"))
    return {kind: stored.get(kind, False) for kind in notification_kinds()}


def text_switches_set(*, user: User, enabled: dict[str, bool]) -> None:
    if not user.texts_on and any(enabled.values()):
        raise ApplicationError(_("Confirm a mobile number first; then choose your texts."))
    for kind in notification_kinds():
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"text_enabled": bool(enabled.get(kind, False))}
        )


def quiet_until(now: dt.datetime | None = None) -> dt.datetime | None:
    """The end of quiet hours when `now` falls in them (local time), else None."""
    local = timezone.localtime(now or timezone.now())
    start, end = settings.TEXT_QUIET_START, settings.TEXT_QUIET_END
    if start == end:
        return None  # no quiet hours
    quiet = (local.hour >= start or local.hour < end) if start > end else start <= local.hour < end
    if not quiet:
        return None
    morning = local.replace(hour=end, minute=0, second=0, microsecond=0)
    return morning if morning > local else morning + dt.timedelta(days=1)


def _short(body: str) -> str:
    # A text of up to two segments; a longer one is cut, never split into many.
    return body if len(body) <= 306 else body[:305] + "…"


def _deliver(
    *,
    number: str,
    body: str,
    user: User | None,
    kind: str,
    reference: str,
    account_number: str = "",
    logged=None,
):
    """Send now and log it; `logged` is what the log keeps when the text holds a secret (a code)."""
    body = _short(body)
    sent = message_send(to=number, body=body)
    return TextMessage.objects.create(
        number=number,
        user=user,
        kind=kind,
        body=_short(logged) if logged is not None else body,
        status=TextMessage.Status.FAILED if sent.error else TextMessage.Status.SENT,
        error=sent.error,
        provider_sid=sent.sid,
        reference=reference[:100],
        account_number=account_number[:32],
        sent_at=None if sent.error else timezone.now(),
    )


def text_send(
    *,
    kind: str,
    users: Iterable[User],
    body,
    link: str = "",
    reference: str = "",
    account_number: str = "",
) -> int:
    """The notice `kind` by text to each login that turned texts on for it. `body` may be lazy
    (written in each login's language); the portal's address (or `link`) ends each text.
    Returns how many went now (not counting those queued for the morning)."""
    if not texts_configured():
        return 0
    users = [u for u in users if u is not None]
    wanted = set(
        NotificationPreference.objects.filter(user__in=users, kind=kind, text_enabled=True).values_list(
            "user_id", flat=True
        )
    )
    sent = 0
    morning = quiet_until()
    for user in users:
        if not user.texts_on:
            continue
        with translation.override(language_for(user)):
            written = next(
                (
                    text
                    for writer in TEXT_WRITERS
                    if (
                        text := writer(
                            user=user, kind=kind, reference=reference, account_number=account_number
                        )
                    )
                ),
                None,
            )
            if written is None and user.pk not in wanted:
                continue
            text = _short(written or f"{settings.UTILITY_NAME}: {body} {link or settings.PORTAL_BASE_URL}")
        row_reference = (WRITTEN_PREFIX + reference if written else reference)[:100]
        if morning is not None:
            TextMessage.objects.create(
                number=user.mobile_number,
                user=user,
                kind=kind,
                body=text,
                status=TextMessage.Status.QUEUED,
                send_after=morning,
                reference=row_reference,
                account_number=account_number[:32],
            )
            continue
        row = _deliver(
            number=user.mobile_number,
            body=text,
            user=user,
            kind=kind,
            reference=row_reference,
            account_number=account_number,
        )
        sent += row.status == TextMessage.Status.SENT
    return sent


def texts_send_queued(*, now: dt.datetime | None = None) -> int:
    """Send the texts that waited for the end of quiet hours (unless the customer has since
    replied STOP or switched the kind off). Each is claimed once, so two runs send it once."""
    now = now or timezone.now()
    if quiet_until(now) is not None:
        return 0
    sent = 0
    for pk in TextMessage.objects.filter(status=TextMessage.Status.QUEUED, send_after__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            row = (
                TextMessage.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk, status=TextMessage.Status.QUEUED)
                .select_related("user")
                .first()
            )
            if row is None:
                continue
            user = row.user
            still_wanted = (
                user is not None
                and user.texts_on
                and user.mobile_number == row.number
                and (
                    row.reference.startswith(WRITTEN_PREFIX)
                    or NotificationPreference.objects.filter(
                        user=user, kind=row.kind, text_enabled=True
                    ).exists()
                )
            )
            if not still_wanted:
                row.status = TextMessage.Status.SKIPPED
                row.save(update_fields=["status"])
                continue
            result = message_send(to=row.number, body=row.body)
            row.status = TextMessage.Status.FAILED if result.error else TextMessage.Status.SENT
            row.error, row.provider_sid = result.error, result.sid
            row.sent_at = None if result.error else timezone.now()
            row.save(update_fields=["status", "error", "provider_sid", "sent_at"])
            sent += not result.error
    return sent


def help_text() -> str:
    return str(
        format_lazy(
            _(
                "{utility} alerts: bills, payments and account notices. Msg & data rates may apply. Reply STOP to "
                "stop, START to start again. Help: {phone} {url}"
            ),
            utility=settings.UTILITY_NAME,
            phone=settings.UTILITY_PHONE,
            url=settings.PORTAL_BASE_URL,
        )
    )


def text_received(*, sid: str, number: str, body: str) -> str | None:
    """Act on a text a customer sent, once per Twilio message id (a replayed webhook changes
    nothing and gets no reply). Returns the reply to send, if any."""
    try:
        normalized = mobile_normalize(number)
    except ApplicationError:
        normalized = number[:20]
    user = User.objects.filter(mobile_number=normalized, mobile_confirmed_at__isnull=False).first()
    try:
        with transaction.atomic():
            TextMessage.objects.create(
                direction=TextMessage.Direction.IN,
                number=normalized,
                user=user,
                body=(body or "")[:480],
                status=TextMessage.Status.RECEIVED,
                provider_sid=sid[:64],
            )
    except IntegrityError:
        return None  # the same message delivered again
    words = (body or "").strip().upper().split()
    # "Stop.", "pay!": the word without its punctuation.
    word = "".join(ch for ch in words[0] if ch.isalnum()) if words else ""
    with translation.override(language_for(user) if user else settings.LANGUAGE_CODE):
        if word in STOP_WORDS:
            if user is not None:
                User.objects.filter(pk=user.pk).update(texts_stopped_at=timezone.now())
                NotificationPreference.objects.filter(user=user).update(text_enabled=False)
                for listener in STOP_LISTENERS:
                    listener(user=user)
            return str(
                format_lazy(
                    _("You will get no more texts from {utility}. Reply START to get them again."),
                    utility=settings.UTILITY_NAME,
                )
            )
        if word in START_WORDS:
            if user is not None:
                User.objects.filter(pk=user.pk).update(texts_stopped_at=None)
            return str(
                format_lazy(
                    _("{utility}: texts can come to you again. Choose which on {url}"),
                    utility=settings.UTILITY_NAME,
                    url=settings.PORTAL_BASE_URL,
                )
            )
        if word in HELP_WORDS or user is None or user.texts_stopped_at:
            return help_text()  # a stopped login's replies act on nothing until START
        for handler in REPLY_HANDLERS:
            reply = handler(user=user, word=word, text=body)
            if reply is not None:
                return str(reply)
        return help_text()


def reply_logged(*, number: str, body: str, user: User | None) -> None:
    """The reply, sent back in Twilio's answer to the webhook, in the log with the others."""
    TextMessage.objects.create(
        number=number[:20],
        user=user,
        kind="reply",
        body=_short(body),
        status=TextMessage.Status.SENT,
        sent_at=timezone.now(),
    )


def text_receipt(*, users: Iterable[User], body, reference: str, account_number: str = "") -> int:
    """A receipt the customer is waiting for (a payment by phone just made): to each login with
    texts on, whatever the switches and the hour; `body` is written in each login's language."""
    if not texts_configured():
        return 0
    sent = 0
    for user in users:
        if user is None or not user.texts_on:
            continue
        with translation.override(language_for(user)):
            text = f"{settings.UTILITY_NAME}: {body}"
        row = _deliver(
            number=user.mobile_number,
            body=text,
            user=user,
            kind="receipt",
            reference=reference,
            account_number=account_number,
        )
        sent += row.status == TextMessage.Status.SENT
    return sent
