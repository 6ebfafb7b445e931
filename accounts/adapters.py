from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.shortcuts import resolve_url

from accounts.notifications import email_deliver_prepared
from kernel.security import client_ip


def mail_context(context: dict) -> dict:
    """What allauth's emails are rendered with. They greet from "the site": the utility, by its
    name and portal address (the portal runs without django.contrib.sites, whose name would be
    blank). Every link in them starts with PORTAL_BASE_URL, whatever Host header the request that
    sent them came with (a forged Host must not put its own address in a password-reset link)."""
    base = settings.PORTAL_BASE_URL.rstrip("/")
    context = dict(context)
    context["current_site"] = SimpleNamespace(
        name=settings.UTILITY_NAME, domain=urlsplit(base).netloc or base
    )
    origin = urlsplit(base)
    for key, value in list(context.items()):
        if key.endswith("_url") and isinstance(value, str) and value.startswith(("http://", "https://", "/")):
            parts = urlsplit(value)
            context[key] = urlunsplit(
                (origin.scheme, origin.netloc, origin.path + (parts.path or "/"), parts.query, parts.fragment)
            )
    return context


class AccountAdapter(DefaultAccountAdapter):
    """allauth renders its emails; our email service sends and logs them like every other."""

    def send_mail(self, template_prefix, email, context):
        message = self.render_mail(template_prefix, email, mail_context(context))
        email_deliver_prepared(message=message, reference=template_prefix.rsplit("/", 1)[-1])

    def get_login_redirect_url(self, request):
        # Staff work from the staff home; a "next" page asked for still wins (allauth checks it first).
        if request.user.is_authenticated and request.user.is_staff:
            return resolve_url("staff_home")
        return super().get_login_redirect_url(request)

    def get_client_ip(self, request):
        # The same address the portal's own rate limits count (PORTAL_TRUSTED_PROXY_COUNT).
        return client_ip(request)
