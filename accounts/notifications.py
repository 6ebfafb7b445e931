"""Every email the portal sends goes through here: switches honoured, text and HTML, logged.

`email_send` renders `<template>.txt` and `<template>.html` (and takes the subject given),
then for each recipient login checks that login's switch for the kind. Emails the law
requires (`required=True`) and emails to an address typed in for this one purpose (a quick-pay
receipt) go regardless. Each send, or skip, is a row in EmailLog.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import EmailLog, NotificationPreference, ServiceAccount, User
from accounts.notification_kinds import notification_kinds
from kernel.i18n import language_for, language_for_code

logger = logging.getLogger(__name__)

# Emails about the login itself (verification, password reset): never switched off.
LOGIN = "login"


def notification_switches(*, user: User) -> dict[str, bool]:
    """Every kind with its switch; yes unless the customer turned it off."""
    stored = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "enabled"))
    return {kind: stored.get(kind, True) for kind in notification_kinds()}


def notification_switches_set(*, user: User, enabled: dict[str, bool]) -> None:
    for kind in notification_kinds():
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"enabled": bool(enabled.get(kind, False))}
        )


def _account_logins(service_account: ServiceAccount):
    return User.objects.filter(account_links__service_account=service_account, is_active=True)


def users_for_account(*, service_account: ServiceAccount) -> list[User]:
    return list(_account_logins(service_account))


def account_language(*, service_account: ServiceAccount) -> str:
    """The language to write to an account in (letters): that of a linked login that chose one."""
    chosen = (
        _account_logins(service_account)
        .exclude(language="")
        .order_by("pk")
        .values_list("language", flat=True)
    )
    return language_for_code(chosen.first())


def _wants(user: User, kind: str) -> bool:
    return not NotificationPreference.objects.filter(user=user, kind=kind, enabled=False).exists()


def _deliver(
    message: EmailMessage,
    *,
    kind: str,
    user: User | None,
    template: str,
    required: bool,
    reference: str,
    account_number: str = "",
):
    try:
        message.send()
    except Exception:
        logger.exception("email %s (%s) could not be sent", kind, reference)
        status = EmailLog.Status.FAILED
    else:
        status = EmailLog.Status.SENT
    EmailLog.objects.create(
        kind=kind,
        to_email=message.to[0],
        user=user,
        subject=message.subject[:300],
        template=template,
        status=status,
        required=required,
        reference=reference[:100],
        account_number=account_number[:32],
    )
    return status


def email_send(
    *,
    kind: str,
    subject,
    template: str,
    context: dict,
    users: Iterable[User] = (),
    addresses: Iterable[str] = (),
    required: bool = False,
    reference: str = "",
    account_number: str = "",
) -> int:
    """Send one email to each login (that wants this kind) and each address. Returns how many went.

    Each login gets it in its own language (User.language); an address typed in for this one
    purpose gets the language active when it is sent. `subject` and any text in `context` may
    be lazy (gettext_lazy, format_lazy, kernel.i18n.local_date): they are written per language.
    """
    context = _mail_context(context)
    render = _renderer(subject=subject, template=template, context=context)
    current = translation.get_language() or settings.LANGUAGE_CODE
    sent = 0
    recipients: list[tuple[str, User | None]] = [(u.email, u) for u in users]
    known = {email.lower() for email, _ in recipients}
    recipients += [(a, None) for a in addresses if a and a.lower() not in known]
    for address, user in recipients:
        language = language_for(user) if user is not None else current
        if user is not None and not required and not _wants(user, kind):
            EmailLog.objects.create(
                kind=kind,
                to_email=address,
                user=user,
                subject=render(language)[0][:300],
                template=template,
                status=EmailLog.Status.SKIPPED,
                reference=reference[:100],
                account_number=account_number[:32],
            )
            continue
        subject_text, text, html = render(language)
        message = EmailMultiAlternatives(subject=subject_text, body=text, to=[address])
        message.attach_alternative(html, "text/html")
        outcome = _deliver(
            message,
            kind=kind,
            user=user,
            template=template,
            required=required,
            reference=reference,
            account_number=account_number,
        )
        sent += outcome == "sent"
    if kind in notification_kinds():
        # The same notice by text, to the logins that turned texts on for it (all start off).
        from accounts.texts import text_send

        text_send(
            kind=kind,
            users=[user for _, user in recipients if user is not None],
            body=subject,
            link=str(context.get("link", "")),
            reference=reference,
            account_number=account_number,
        )
    return sent


def _mail_context(context: dict) -> dict:
    """The utility's name and contacts and the portal's address, with the caller's context; a
    link given as a path made whole (a path alone is a dead link in a mail program)."""
    if str(context.get("link", "")).startswith("/"):
        context = {**context, "link": settings.PORTAL_BASE_URL + context["link"]}
    return {
        "utility_name": settings.UTILITY_NAME,
        "utility_phone": settings.UTILITY_PHONE,
        "utility_email": settings.UTILITY_EMAIL,
        "portal_url": settings.PORTAL_BASE_URL,
        **context,
    }


def _renderer(*, subject, template: str, context: dict):
    """A function of a language giving (subject, text, html), each language rendered once."""
    rendered: dict[str, tuple[str, str, str]] = {}

    def render(language: str) -> tuple[str, str, str]:
        if language not in rendered:
            with translation.override(language):
                rendered[language] = (
                    str(subject),
                    render_to_string(f"{template}.txt", context),
                    render_to_string(f"{template}.html", context),
                )
        return rendered[language]

    return render


def email_deliver_prepared(*, message: EmailMessage, kind: str = LOGIN, reference: str = "") -> None:
    """For an email another library rendered (allauth's): send it and log it."""
    user = User.objects.filter(email__iexact=message.to[0]).first() if message.to else None
    _deliver(message, kind=kind, user=user, template="", required=True, reference=reference)
