"""High water use and continuous flow: the thresholds at their boundaries, the alert told once by
email (and text), the customer's own threshold, the staff's list with a leak credit one click
away, and the month marked on the account page and the bill."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, UserFactory, staff_user
from billing.models import MeterRead, Service, UsageAlert, UsageAlertSetting
from billing.services.imports import interval_reads_import, meter_reads_import
from billing.services.usage_alerts import is_high
from billing.tests.factories import AccountServiceFactory, BillFactory

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture(autouse=True)
def early_december(time_machine):
    """November's reads arrive in early December."""
    time_machine.move_to(dt.datetime(2026, 12, 2, 18, tzinfo=dt.UTC), tick=True)


@pytest.mark.parametrize(
    ("use", "usual", "high"),
    [
        ("15.00", "10.00", True),  # exactly 150% and exactly 5 CCF more
        ("14.99", "10.00", False),  # a hundredth under 150%
        ("7.50", "5.00", False),  # 150% but only 2.5 CCF more
        ("12.00", "8.00", False),  # 150% and 4 CCF more
        ("13.00", "8.00", True),  # 162% and 5 CCF more
        ("40.00", None, False),  # no usual to compare with
    ],
)
def test_the_threshold_takes_both_the_percent_and_the_minimum(use, usual, high):
    setting = UsageAlertSetting()
    assert is_high(use=Decimal(use), usual=Decimal(usual) if usual else None, setting=setting) is high


def history(account, values: dict[str, str]):
    for month, ccf in values.items():
        year, number = (int(x) for x in month.split("-"))
        MeterRead.objects.create(
            service_account=account, period=D(year, number, 1), consumption_ccf=Decimal(ccf)
        )


def reads_file(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "meter_reads.csv"
    path.write_text("account_number,period,consumption_ccf\n" + "".join(f"{a},{p},{c}\n" for a, p, c in rows))
    return path


@pytest.fixture
def water_customer():
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    AccountServiceFactory(service_account=account, service=Service.WATER)
    # A year of 8 CCF, 10 last November: usual for November is the larger, 10.
    history(account, {f"2025-{m:02d}": "8.00" for m in range(12, 13)})
    history(account, {f"2026-{m:02d}": "8.00" for m in range(1, 11)})
    history(account, {"2025-11": "10.00"})
    return user, account


def test_an_import_with_a_high_month_tells_the_customer_once(tmp_path, water_customer):
    user, account = water_customer
    path = reads_file(tmp_path, [(account.account_number, "2026-11", "16.00")])

    meter_reads_import(path=path)
    meter_reads_import(path=path)  # the same file again: told once

    alert = UsageAlert.objects.get(service_account=account)
    assert (alert.kind, alert.period, alert.usual_ccf, alert.percent_of_usual) == (
        "high_use",
        D(2026, 11, 1),
        Decimal("10.00"),
        160,
    )
    (email,) = [m for m in mail.outbox if user.email in m.to]
    assert "High water use in November 2026" in email.subject and "160% of usual" in email.subject
    assert "16.00 CCF (11,968 gallons)" in email.body and "food colouring" in email.body


def test_the_customers_own_threshold_and_turning_alerts_off(client, tmp_path, water_customer):
    user, account = water_customer
    client.force_login(user)
    url = reverse("usage_alerts", args=[account.pk])
    assert (
        client.post(url, {"enabled": "on", "percent": "100", "min_ccf": "5"}).status_code == 400
    )  # under 110
    assert client.post(url, {"enabled": "on", "percent": "200", "min_ccf": "5"}).status_code == 302

    meter_reads_import(path=reads_file(tmp_path, [(account.account_number, "2026-11", "16.00")]))
    assert not UsageAlert.objects.exists()  # 160% is under the 200% chosen

    client.post(url, {"percent": "150", "min_ccf": "5"})  # the box unticked: off
    meter_reads_import(path=reads_file(tmp_path, [(account.account_number, "2026-11", "30.00")]))
    assert not UsageAlert.objects.exists()
    client.post(url, {"enabled": "on", "percent": "150", "min_ccf": "5"})
    meter_reads_import(path=reads_file(tmp_path, [(account.account_number, "2026-11", "31.00")]))
    assert UsageAlert.objects.get().consumption_ccf == Decimal("31.00")
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_a_file_of_old_months_alarms_no_one(tmp_path, water_customer):
    _, account = water_customer
    history(account, {"2024-08": "8.00", "2024-09": "8.00", "2024-10": "8.00"})
    meter_reads_import(path=reads_file(tmp_path, [(account.account_number, "2024-11", "40.00")]))
    assert not UsageAlert.objects.exists()  # a conversion's history, not news


def test_too_little_history_makes_no_alert(tmp_path):
    account = AccountLinkFactory().service_account
    AccountServiceFactory(service_account=account, service=Service.WATER)
    history(account, {"2026-09": "2.00", "2026-10": "2.00"})
    meter_reads_import(path=reads_file(tmp_path, [(account.account_number, "2026-11", "40.00")]))
    assert not UsageAlert.objects.exists()


def test_staff_see_the_month_with_a_leak_credit_one_click_away(
    client, tmp_path, water_customer, time_machine
):
    time_machine.move_to(dt.datetime(2026, 12, 2, 18, tzinfo=dt.UTC), tick=False)
    user, account = water_customer
    meter_reads_import(path=reads_file(tmp_path, [(account.account_number, "2026-11", "16.00")]))
    client.force_login(staff_user("Clerks"))

    page = client.get(reverse("staff_high_usage")).content.decode()  # last month by default

    assert account.account_number in page and "160%" in page
    link = reverse("staff_adjustment", args=[account.pk]) + "?kind=credit"
    assert link in page
    start = page.index(link)
    form = client.get(page[start : page.index('"', start)].replace("&amp;", "&")).content.decode()
    assert 'value="credit" selected' in form and "Leak credit: High water use" in form
    assert (
        "No alerts this month."
        in client.get(reverse("staff_high_usage"), {"month": "2026-10"}).content.decode()
    )
    client.force_login(UserFactory())
    assert client.get(reverse("staff_high_usage")).status_code == 302  # not staff


def test_the_account_page_and_the_bill_mark_the_month(client, tmp_path, water_customer, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 2, 18, tzinfo=dt.UTC), tick=False)
    user, account = water_customer
    meter_reads_import(path=reads_file(tmp_path, [(account.account_number, "2026-11", "16.00")]))
    bill = BillFactory(
        service_account=account, period=D(2026, 11, 1), issued_on=D(2026, 12, 1), due_date=D(2026, 12, 20)
    )
    client.force_login(user)

    page = client.get(reverse("service_account_detail", args=[account.pk])).content.decode()
    assert page.count("portal-chart__bar--marked") == 1 and "High use" in page
    bill_page = client.get(reverse("bill_detail", args=[account.pk, bill.pk])).content.decode()
    assert "High water use this month: 16.00 CCF, 160% of your usual." in bill_page
    from pypdf import PdfReader

    from billing.pdf import bill_pdf

    printed = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(bill_pdf(bill=bill))).pages)
    assert "High water use this month" in " ".join(printed.split())


def intervals_file(tmp_path: Path, account, gallons: list[str], start: dt.datetime) -> Path:
    path = tmp_path / "interval_reads.csv"
    rows = [
        f"{account.account_number},{(start + dt.timedelta(hours=i)).isoformat()},{value}\n"
        for i, value in enumerate(gallons)
    ]
    path.write_text("account_number,starts_at,gallons\n" + "".join(rows))
    return path


START = dt.datetime(2026, 11, 30, 0, tzinfo=dt.timezone(dt.timedelta(hours=-8)))


@pytest.mark.parametrize(
    ("gallons", "alert"),
    [
        (["2.5"] * 24, True),  # a whole day without a stop
        (["2.5"] * 11 + ["0"] + ["2.5"] * 12, False),  # one hour at zero: no leak
        (["2.5"] * 23, False),  # 23 hours are not a day
    ],
)
def test_water_that_never_stops_for_a_day_is_a_leak_alert(tmp_path, water_customer, gallons, alert):
    user, account = water_customer
    interval_reads_import(path=intervals_file(tmp_path, account, gallons, START))
    interval_reads_import(path=intervals_file(tmp_path, account, gallons, START))  # told once
    alerts = list(UsageAlert.objects.filter(kind="continuous_flow"))
    assert len(alerts) == (1 if alert else 0)
    emails = [m for m in mail.outbox if user.email in m.to]
    assert len(emails) == (1 if alert else 0)
    if alert:
        assert "Water ran all day" in emails[0].subject and "about 60 gallons" in emails[0].body


def test_interval_reads_with_problems_load_nothing_and_name_each_line(tmp_path, water_customer):
    from kernel.csvimport import CsvImportError

    _, account = water_customer
    path = tmp_path / "bad.csv"
    path.write_text(
        "account_number,starts_at,gallons\n"
        f"{account.account_number},2026-11-30T01:00:00,1\n"
        f"{account.account_number},2026-11-30T02:00:00-08:00,-1\n"
        "NOPE-1,2026-11-30T03:00:00-08:00,1\n"
    )
    with pytest.raises(CsvImportError) as raised:
        interval_reads_import(path=path)
    text = "\n".join(raised.value.errors)
    assert "line 2" in text and "line 3" in text and "line 4" in text
