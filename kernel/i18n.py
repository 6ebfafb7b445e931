"""The language a customer reads the portal, emails and letters in.

Before signing in, Django's LocaleMiddleware picks it (the language cookie, then the browser's
Accept-Language). A signed-in login's own choice (User.language) wins over both, on any device.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

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
    """The language switcher: Django's set_language (the cookie, a safe `next`), and the choice
    kept on the login when signed in."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if language in SUPPORTED and request.user.is_authenticated and request.user.language != language:
        get_user_model().objects.filter(pk=request.user.pk).update(language=language)
    return response


def local_date(day, format_name: str = "DATE_FORMAT"):
    """A date written in the language active when the text is rendered (an email per recipient,
    a letter per account): for format_lazy arguments."""
    return lazy(date_format, str)(day, format_name)


def lazy_lower(text):
    """Lower-case, once written in the active language (a choice label inside a sentence)."""
    return lazy(lambda: str(text).lower(), str)()
