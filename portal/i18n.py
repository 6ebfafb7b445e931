"""The language a customer reads the portal, emails and letters in.

Before signing in, Django's LocaleMiddleware picks it (the language cookie, then the browser's
Accept-Language). A signed-in login's own choice (User.language) wins over both, on any device.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

SUPPORTED = {code for code, _ in settings.LANGUAGES}


def login_language_adopt(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: a login that never chose keeps what it picked before signing in."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if not user.language and chosen in SUPPORTED:
        get_user_model().objects.filter(pk=user.pk).update(language=chosen)
        user.language = chosen


def language_for(user) -> str:
    """The language to write to this login in (emails, letters)."""
    return language_for_code(getattr(user, "language", "") if user is not None else "")


def language_for_code(code: str | None) -> str:
    return code if code in SUPPORTED else settings.LANGUAGE_CODE


class LoginLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in SUPPORTED:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


@require_POST
def language_set(request):
    """The language switcher: remembered in a cookie, and on the login when signed in."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in SUPPORTED:
        return response
    if request.user.is_authenticated and request.user.language != language:
        get_user_model().objects.filter(pk=request.user.pk).update(language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        httponly=True,
    )
    return response


def local_date(day, format_name: str = "DATE_FORMAT"):
    """A date written in the language active when the text is rendered (an email per recipient,
    a letter per account): for format_lazy arguments."""
    return lazy(date_format, str)(day, format_name)


def lazy_lower(text):
    """Lower-case, once written in the active language (a choice label inside a sentence)."""
    return lazy(lambda: str(text).lower(), str)()
