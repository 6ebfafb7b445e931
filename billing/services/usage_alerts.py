"""High water use and possible leaks: found after reads are imported, told once by email and text.

High use: a month's use against the account's own history. "Usual" is the larger of the same
month last year and the average of the twelve months before, so a summer that is high every year
does not alarm; at least three earlier months are needed. An alert needs both: use at or above
the account's percent of usual (150% unless the customer chose otherwise) and at least its
minimum more (5 CCF).

Continuous flow: where a smart meter sends interval reads, 24 hours in a row with no interval at
zero means water never stopped running (a leak, a running toilet).
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, OuterRef, Subquery
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from accounts.notifications import email_send, users_for_account
from billing.calendar import add_months, local_today
from billing.models import IntervalRead, MeterRead, UsageAlert, UsageAlertSetting
from billing.notification_kinds import HIGH_USAGE
from kernel.i18n import local_date

GALLONS_PER_CCF = Decimal("748")
MIN_HISTORY_MONTHS = 3
FLOW_HOURS = 24
RECENT_MONTHS = 2

LEAK_CHECKS = [
    _(
        "Toilets: put a few drops of food colouring in the tank; colour in the bowl after 15 minutes, without flushing, is a leak."
    ),
    _("Faucets, showers and outdoor hoses that drip; irrigation that runs too long or has a broken head."),
    _(
        "The meter: with every tap off, a turning leak indicator (the small triangle or dial) means water is running somewhere."
    ),
]


def usage_setting(*, service_account: ServiceAccount) -> UsageAlertSetting:
    return UsageAlertSetting.objects.filter(service_account=service_account).first() or UsageAlertSetting(
        service_account=service_account
    )


def _usual(last_year: Decimal | None, average: Decimal | None) -> Decimal | None:
    values = [v for v in (last_year, average) if v is not None]
    return max(values).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if values else None


def is_high(*, use: Decimal, usual: Decimal | None, setting: UsageAlertSetting) -> bool:
    """The threshold, both parts: at or above percent of usual, and at least min_ccf more."""
    if usual is None or not setting.enabled:
        return False
    return use * 100 >= usual * setting.percent and use - usual >= setting.min_ccf


def high_usage_find(*, period: dt.date) -> list[tuple[int, Decimal, Decimal]]:
    """(account id, use, usual) of each account with a read for `period` above its threshold."""
    period = period.replace(day=1)
    year_ago = add_months(period, -12)
    history = MeterRead.objects.filter(
        service_account=OuterRef("service_account"), period__gte=year_ago, period__lt=period
    ).values("service_account")
    reads = (
        MeterRead.objects.filter(period=period)
        .annotate(
            last_year=Subquery(
                MeterRead.objects.filter(service_account=OuterRef("service_account"), period=year_ago).values(
                    "consumption_ccf"
                )[:1]
            ),
            average=Subquery(history.annotate(a=Avg("consumption_ccf")).values("a")[:1]),
            months=Subquery(history.annotate(n=Count("pk")).values("n")[:1]),
        )
        .values_list("service_account_id", "consumption_ccf", "last_year", "average", "months")
    )
    settings_by_account = {
        s.service_account_id: s
        for s in UsageAlertSetting.objects.filter(
            service_account_id__in=MeterRead.objects.filter(period=period).values("service_account_id")
        )
    }
    found = []
    for account_id, use, last_year, average, months in reads.iterator(chunk_size=5000):
        if (months or 0) < MIN_HISTORY_MONTHS:
            continue
        usual = _usual(last_year, average)
        setting = settings_by_account.get(account_id) or UsageAlertSetting()
        if is_high(use=use, usual=usual, setting=setting):
            found.append((account_id, use, usual))
    return found


def high_usage_alerts_send(*, periods) -> int:
    """Find high use for each month just imported and tell each account's logins, once."""
    sent = 0
    # Only months just lived: a file of old history (a conversion, a correction) alarms no one.
    recent = add_months(local_today().replace(day=1), -RECENT_MONTHS)
    for period in sorted({p.replace(day=1) for p in periods if p >= recent}):
        for account_id, use, usual in high_usage_find(period=period):
            alert = _record(account_id, UsageAlert.Kind.HIGH_USE, period, use, usual)
            if alert is not None:
                _tell(alert)
                sent += 1
    return sent


def continuous_flow_gallons(*, service_account_id: int, until: dt.datetime) -> Decimal | None:
    """The gallons of the last FLOW_HOURS before `until` when every interval read in them is
    above zero and they cover the whole span (a missing hour is not proof of flow); else None."""
    reads = list(
        IntervalRead.objects.filter(
            service_account_id=service_account_id,
            starts_at__gte=until - dt.timedelta(hours=FLOW_HOURS),
            starts_at__lt=until,
        ).values_list("starts_at", "gallons")
    )
    hours = {starts.replace(minute=0, second=0, microsecond=0) for starts, _ in reads}
    if len(hours) < FLOW_HOURS or any(gallons <= 0 for _, gallons in reads):
        return None
    return sum((gallons for _, gallons in reads), Decimal("0"))


def continuous_flow_alert_send(*, service_account_id: int, until: dt.datetime) -> bool:
    """After interval reads are imported: an alert (once a day per account) where water ran
    without a stop for the 24 hours before `until`."""
    gallons = continuous_flow_gallons(service_account_id=service_account_id, until=until)
    if gallons is None:
        return False
    ccf = (gallons / GALLONS_PER_CCF).quantize(Decimal("0.01"))
    alert = _record(service_account_id, UsageAlert.Kind.CONTINUOUS_FLOW, until.date(), ccf, None)
    if alert is None:
        return False
    _tell(alert)
    return True


def _record(account_id, kind, period, use, usual) -> UsageAlert | None:
    setting = UsageAlertSetting.objects.filter(service_account_id=account_id).first()
    if setting is not None and not setting.enabled:
        return None
    try:
        with transaction.atomic():
            return UsageAlert.objects.create(
                service_account_id=account_id, kind=kind, period=period, consumption_ccf=use, usual_ccf=usual
            )
    except IntegrityError:
        return None  # found already: told once


def _tell(alert: UsageAlert) -> None:
    account = alert.service_account
    if alert.kind == UsageAlert.Kind.HIGH_USE:
        subject = format_lazy(
            _("High water use in {month} on account {number}: {percent}% of usual"),
            month=local_date(alert.period, "YEAR_MONTH_FORMAT"),
            number=account.account_number,
            percent=alert.percent_of_usual,
        )
        first = format_lazy(
            _("You used {use} CCF ({gallons} gallons) in {month}; your usual is about {usual} CCF."),
            use=alert.consumption_ccf,
            gallons=f"{(alert.consumption_ccf * GALLONS_PER_CCF):,.0f}",
            month=local_date(alert.period, "YEAR_MONTH_FORMAT"),
            usual=alert.usual_ccf,
        )
    else:
        subject = format_lazy(
            _("Water ran all day at account {number}: a possible leak"), number=account.account_number
        )
        first = format_lazy(
            _(
                "Your meter showed water running every hour for the 24 hours before {day}, about {gallons} gallons."
            ),
            day=local_date(alert.period, "DATE_FORMAT"),
            gallons=f"{(alert.consumption_ccf * GALLONS_PER_CCF):,.0f}",
        )
    email_send(
        kind=HIGH_USAGE,
        subject=subject,
        template="emails/notice",
        context={
            "lines": [
                first,
                _("What to check for leaks:"),
                *LEAK_CHECKS,
                _("A leak you have fixed may qualify for a leak credit: call us."),
            ],
            "link": settings.PORTAL_BASE_URL + reverse("usage_alerts", args=[account.pk]),
            "link_text": _("Your water use and alert settings"),
        },
        users=users_for_account(service_account=account),
        account_number=account.account_number,
        reference=f"usage:{alert.pk}",
    )
