from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage

from accounts.forms import LinkServiceAccountForm, NotificationPreferencesForm
from accounts.notifications import notification_switches, notification_switches_set
from accounts.selectors import service_account_get_for_user
from accounts.services import service_account_link, service_account_unlink
from portal.errors import ApplicationError

LINK_RATE_GROUP = "service-account-link"


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "accounts/home.html")


def _link_failures(request, *, count_this_one: bool) -> dict:
    # Only wrong answers count, so a landlord linking many accounts is never slowed.
    return get_usage(
        request,
        group=LINK_RATE_GROUP,
        key="user_or_ip",
        rate=settings.SERVICE_ACCOUNT_LINK_RATE,
        method="POST",
        increment=count_this_one,
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_account_link_view(request):
    form = LinkServiceAccountForm(request.POST or None)
    if request.method == "POST":
        usage = _link_failures(request, count_this_one=False)
        if usage and usage["count"] >= usage["limit"]:
            minutes = max(1, round(usage["time_left"] / 60))
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
            return render(request, "accounts/link.html", {"form": form}, status=429)
        if form.is_valid():
            try:
                account, created = service_account_link(
                    user=request.user,
                    account_number=form.cleaned_data["account_number"],
                    service_zip=form.cleaned_data["service_zip"],
                )
            except ApplicationError as exc:
                _link_failures(request, count_this_one=True)
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
                return redirect("dashboard")
    return render(request, "accounts/link.html", {"form": form})


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
        return redirect("dashboard")
    return render(request, "accounts/unlink_confirm.html", {"account": account})


@login_required
def login_settings(request):
    return render(request, "accounts/login_settings.html")


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
