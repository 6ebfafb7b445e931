"""Water use: the customer's alert settings, alerts and downloads; the staff's monthly list."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.models import ServiceAccount
from accounts.selectors import service_account_get_for_user
from billing.calendar import add_months, local_today, parse_period
from billing.models import AdjustmentReason, UsageAlert, UsageAlertSetting
from billing.services.usage_alerts import usage_setting
from billing.services.usage_exports import usage_csv_stream, usage_espi_stream


class UsageAlertForm(forms.ModelForm):
    class Meta:
        model = UsageAlertSetting
        fields = ["enabled", "percent", "min_ccf"]
        labels = {
            "enabled": gettext_lazy(
                "Tell me when my water use is much higher than usual, or water runs all day"
            ),
            "percent": gettext_lazy("Alert me at this percent of my usual use"),
            "min_ccf": gettext_lazy("And only when it is at least this many CCF more than usual"),
        }
        help_texts = {
            "percent": gettext_lazy("From 110 to 1000. 150 means half again as much as usual."),
            "min_ccf": gettext_lazy("One CCF is 748 gallons. From 1 to 1000."),
        }
        widgets = {
            "percent": forms.NumberInput(attrs={"inputmode": "numeric"}),
            "min_ccf": forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
        }


@login_required
@require_http_methods(["GET", "POST"])
def usage_alerts(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    setting = usage_setting(service_account=account)
    form = UsageAlertForm(request.POST or None, instance=setting)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your water-use alert settings are saved."))
        return redirect("usage_alerts", pk=account.pk)
    alerts = UsageAlert.objects.filter(service_account=account).order_by("-period")[:24]
    return render(
        request,
        "billing/usage_alerts.html",
        {"account": account, "form": form, "alerts": alerts},
        status=400 if request.method == "POST" else 200,
    )


@staff_member_required
@permission_required("billing.view_usagealert", raise_exception=True)
def staff_high_usage(request):
    """The month's high-use and running-water alerts, each with a leak credit one click away."""
    today = local_today()
    period = parse_period(request.GET.get("month", "")) or add_months(today.replace(day=1), -1)
    month_end = add_months(period, 1) - dt.timedelta(days=1)
    alerts = (
        UsageAlert.objects.filter(period__gte=period, period__lte=month_end)
        .select_related("service_account")
        .order_by("service_account__account_number", "kind")
    )
    leak = AdjustmentReason.objects.filter(active=True, name__iexact="Leak credit").first()
    return render(
        request,
        "billing/staff_high_usage.html",
        {
            "alerts": alerts,
            "period": period,
            "previous": add_months(period, -1),
            "next": add_months(period, 1) if add_months(period, 1) <= today else None,
            "leak_reason": leak,
            "default_percent": UsageAlertSetting.DEFAULT_PERCENT,
            "default_min": UsageAlertSetting.DEFAULT_MIN_CCF.normalize()
            if UsageAlertSetting.DEFAULT_MIN_CCF
            else Decimal(0),
        },
    )


def _all_accounts(chunk: int = 500):
    """Every account, a chunk of rows per query: a streamed download holds no cursor open between
    the pieces it sends."""
    last = 0
    while True:
        rows = list(ServiceAccount.objects.filter(pk__gt=last).order_by("pk")[:chunk])
        if not rows:
            return
        yield from rows
        last = rows[-1].pk


def _usage_download(kind: str, accounts, *, name: str, title: str) -> StreamingHttpResponse:
    """CSV or Green Button XML of these accounts, streamed."""
    if kind not in ("csv", "xml"):
        raise Http404
    if kind == "csv":
        stream, content_type = usage_csv_stream(service_accounts=accounts), "text/csv; charset=utf-8"
        filename = f"water-use-{name}.csv"
    else:
        stream = usage_espi_stream(service_accounts=accounts, title=title)
        content_type, filename = "application/atom+xml; charset=utf-8", f"green-button-{name}.xml"
    response = StreamingHttpResponse(stream, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def usage_download(request, pk: int, kind: str):
    """The customer's own account: monthly use and charges as CSV or Green Button XML."""
    account = service_account_get_for_user(user=request.user, pk=pk)
    return _usage_download(
        kind, [account], name=account.account_number, title=f"Water use, account {account.account_number}"
    )


@staff_member_required
@permission_required("billing.view_meterread", raise_exception=True)
def staff_usage_download(request, kind: str):
    """Every account's monthly use and charges, streamed (constant memory however many accounts)."""
    return _usage_download(
        kind, _all_accounts(), name=f"all-{local_today():%Y-%m-%d}", title="Water use, all accounts"
    )
