"""Session limits and the staff two-factor rule, as middleware.

Sessions: a login ends after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after
signing in, whatever the activity. The last-seen time is written at most once a minute, so a
busy customer does not cost a session write per page.
"""

import ipaddress
import logging
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

SIGNED_IN_AT = "portal_signed_in_at"
LAST_SEEN_AT = "portal_last_seen_at"
# What a staff login without an authenticator may still reach: the pages that set one up
# (allauth's two-step pages and the password check before them), signing out, and the
# language switch. Everything else, whatever its path, is refused.
STAFF_SETUP_PATHS = ("/auth/2fa/", "/auth/reauthenticate/", "/auth/logout/", "/language/", "/static/")


def client_ip(request) -> str:
    """The customer's address, for every rate limit (django-ratelimit's and allauth's).

    Behind PORTAL_TRUSTED_PROXY_COUNT proxies (a load balancer, a CDN), REMOTE_ADDR is the last
    proxy: the client is the entry that many places from the right of X-Forwarded-For, the one
    the first trusted proxy wrote. Entries further left were sent by the client and can be
    anything, so they are never used. Without trusted proxies the header is ignored. An IPv4
    address written the IPv6 way (::ffff:198.51.100.7) or with a port (198.51.100.7:5678) is
    the plain IPv4 address, so each client keeps its own count.
    """
    count = settings.PORTAL_TRUSTED_PROXY_COUNT
    forwarded = [
        part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()
    ]
    if count > 0 and len(forwarded) >= count:
        address = _address(forwarded[-count])
        if address:
            return address
        logger.warning("X-Forwarded-For does not end in %d client address(es); counting REMOTE_ADDR", count)
    address = _address(request.META.get("REMOTE_ADDR", ""))
    if not address:
        # A unix socket with no proxy in front gives no address at all: one shared count, said loudly.
        logger.warning("No client address (REMOTE_ADDR is empty): set PORTAL_TRUSTED_PROXY_COUNT")
        return "0.0.0.0"  # noqa: S104 (a rate-limit key, not a bind address)
    return address


def _address(text: str) -> str:
    """The address in "198.51.100.7", "198.51.100.7:5678", "[2001:db8::1]:443" or
    "::ffff:198.51.100.7", as ipaddress writes it; "" when it is none."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return ""
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def session_mark_signed_in(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: the clock for both limits starts here."""
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            signed_in = request.session.get(SIGNED_IN_AT, now)
            last_seen = request.session.get(LAST_SEEN_AT, now)
            reason = None
            if now - last_seen > settings.SESSION_IDLE_MINUTES * 60:
                reason = _(
                    "You were signed out after %(minutes)s minutes without activity. Please sign in again."
                ) % {"minutes": settings.SESSION_IDLE_MINUTES}
            elif now - signed_in > settings.SESSION_MAX_HOURS * 3600:
                reason = _("You were signed out after %(hours)s hours. Please sign in again.") % {
                    "hours": settings.SESSION_MAX_HOURS
                }
            if reason:
                logout(request)
                messages.info(request, reason)
                if request.method == "GET":
                    return redirect(
                        f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}"
                    )
                return redirect("account_login")  # a form posted after the limit is not replayed
            if SIGNED_IN_AT not in request.session:
                request.session[SIGNED_IN_AT] = now
            if now - last_seen >= 60 or LAST_SEEN_AT not in request.session:
                request.session[LAST_SEEN_AT] = now
        return self.get_response(request)


class StaffTwoFactorMiddleware:
    """A staff login without an authenticator app reaches nothing but the pages that set one
    up, whatever the path: admin, staff pages, applicants' documents, downloads, and any page
    added later. A page asked for is answered with the way to set it up; anything else
    (a form, a JSON step) is refused with 403 and changes nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.STAFF_REQUIRE_TWO_FACTOR
            and user.is_authenticated
            and (user.is_staff or user.is_superuser)
            and not request.path.startswith(STAFF_SETUP_PATHS)
        ):
            from allauth.mfa.utils import is_mfa_enabled

            if not is_mfa_enabled(user):
                if request.method not in ("GET", "HEAD"):
                    return HttpResponseForbidden(
                        _("Staff need two-step verification. Set up your authenticator app first."),
                        content_type="text/plain; charset=utf-8",
                    )
                messages.warning(
                    request,
                    _("Staff pages need two-step verification. Set up your authenticator app to continue."),
                )
                return redirect("mfa_activate_totp")
        return self.get_response(request)
