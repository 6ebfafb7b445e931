from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage

from accounts.forms import ContactDetailsForm, LinkServiceAccountForm, NotificationPreferencesForm
from accounts.hooks import login_settings_links
from accounts.notifications import notification_switches, notification_switches_set
from accounts.selectors import account_number_key, service_account_get_for_user
from accounts.services import (
    CONTACT_FIELDS,
    service_account_contact_update,
    service_account_link,
    service_account_unlink,
)
from kernel.errors import ApplicationError

LINK_RATE_GROUP = "service-account-link"


def _typed_account(group, request) -> str:
    return account_number_key(request.POST.get("account_number", ""))


# Wrong answers are counted per login, per client address and per account asked about; any one
# over its limit pauses linking. Only wrong answers count, so a landlord linking many accounts
# is never slowed.
LINK_LIMITS = (
    ("user_or_ip", "SERVICE_ACCOUNT_LINK_RATE"),
    ("ip", "SERVICE_ACCOUNT_LINK_ADDRESS_RATE"),
    (_typed_account, "SERVICE_ACCOUNT_LINK_ACCOUNT_RATE"),
)


def _link_pause_seconds(request, *, count_this_one: bool) -> int:
    """Seconds until linking may be tried again (0: now), counting this answer when asked."""
    pause = 0
    for key, rate_setting in LINK_LIMITS:
        if key is _typed_account and not _typed_account(None, request):
            continue
        usage = get_usage(
            request,
            group=f"{LINK_RATE_GROUP}:{rate_setting}",
            key=key,
            rate=getattr(settings, rate_setting),
            method="POST",
            increment=count_this_one,
        )
        if usage and usage["count"] >= usage["limit"]:
            pause = max(pause, usage["time_left"])
    return pause


@login_required
@require_http_methods(["GET", "POST"])
def service_account_link_view(request):
    form = LinkServiceAccountForm(request.POST or None)
    if request.method == "POST":
        pause = _link_pause_seconds(request, count_this_one=False)
        if pause:
            minutes = max(1, round(pause / 60))
            messages.error(
                request,
                ngettext(
                    "Too many attempts that did not match. For your security, please wait about %(minutes)d "
                    "minute and try again, or call us at %(phone)s.",
                    "Too many attempts that did not match. For your security, please wait about %(minutes)d "
                    "minutes and try again, or call us at %(phone)s.",
                    minutes,
                )
                % {"minutes": minutes, "phone": settings.UTILITY_PHONE},
            )
            return render(
                request,
                "accounts/link.html",
                {"form": form, "cancel_url": resolve_url(settings.LOGIN_REDIRECT_URL)},
                status=429,
            )
        if form.is_valid():
            try:
                account, created = service_account_link(
                    user=request.user,
                    account_number=form.cleaned_data["account_number"],
                    service_zip=form.cleaned_data["service_zip"],
                    access_code=form.cleaned_data["access_code"],
                )
            except ApplicationError as exc:
                _link_pause_seconds(request, count_this_one=True)
                form.add_error(None, exc.message)
            else:
                if created:
                    messages.success(
                        request,
                        _("Account %(number)s is now linked to your login.")
                        % {"number": account.account_number},
                    )
                else:
                    messages.info(
                        request,
                        _("Account %(number)s was already linked to your login.")
                        % {"number": account.account_number},
                    )
                return redirect(settings.LOGIN_REDIRECT_URL)
    return render(
        request, "accounts/link.html", {"form": form, "cancel_url": resolve_url(settings.LOGIN_REDIRECT_URL)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_account_unlink_view(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        service_account_unlink(user=request.user, service_account=account)
        messages.success(
            request,
            _(
                "Account %(number)s is no longer linked to your login. Nothing about the account itself has "
                "changed."
            )
            % {"number": account.account_number},
        )
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(
        request, "accounts/unlink_confirm.html", {"account": account, "back_url": _account_url(account)}
    )


@login_required
def login_settings(request):
    return render(request, "accounts/login_settings.html", {"links": login_settings_links()})


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    switches = notification_switches(user=request.user)
    form = NotificationPreferencesForm(request.POST or None, switches=switches)
    if request.method == "POST" and form.is_valid():
        notification_switches_set(user=request.user, enabled=form.cleaned_data)
        messages.success(request, _("Your email choices are saved."))
        return redirect("notification_preferences")
    return render(request, "accounts/notification_preferences.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def contact_details(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    initial = {name: getattr(account, name) for name in CONTACT_FIELDS}
    form = ContactDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = service_account_contact_update(
            service_account=account, user=request.user, values=form.cleaned_data
        )
        if changed:
            messages.success(request, _("Your contact details are saved."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect(settings.SERVICE_ACCOUNT_URL, pk=account.pk)
    return render(
        request,
        "accounts/contact_details.html",
        {"account": account, "form": form, "back_url": _account_url(account)},
    )


def _account_url(account) -> str:
    """The account's own page: billing's, named in settings, so this app need not know it."""
    return reverse(settings.SERVICE_ACCOUNT_URL, args=[account.pk])
