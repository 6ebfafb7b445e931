"""Usage downloads: the CSV, and Green Button XML read back by an independent Green Button parser
(greenbutton_objects) with the same months, volumes and costs; for the customer's own account
only, and for every account for staff."""

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from greenbutton_objects import enums
from greenbutton_objects.parse import parse_feed

from accounts.tests.factories import AccountLinkFactory, UserFactory, staff_user
from billing.models import MeterRead
from billing.tests.factories import BillFactory

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def history():
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    for month, ccf in ((9, "7.25"), (10, "8.00"), (11, "12.50")):
        MeterRead.objects.create(
            service_account=account, period=D(2026, month, 1), consumption_ccf=Decimal(ccf)
        )
    BillFactory(
        service_account=account,
        period=D(2026, 10, 1),
        issued_on=D(2026, 11, 1),
        due_date=D(2026, 11, 20),
        new_charges=Decimal("61.40"),
    )
    return user, account


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_csv_has_each_month_with_its_use_and_charges(client, history):
    user, account = history
    client.force_login(user)

    response = client.get(reverse("usage_download", args=[account.pk, "csv"]))

    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="water-use-{account.account_number}.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert [
        (r["service_month"], r["consumption_ccf"], r["consumption_gallons"], r["new_charges"]) for r in rows
    ] == [
        ("2026-09", "7.25", "5423", ""),
        ("2026-10", "8.00", "5984", "61.40"),
        ("2026-11", "12.50", "9350", ""),
    ]


def test_green_button_xml_reads_back_with_an_independent_parser(client, history, tmp_path):
    user, account = history
    client.force_login(user)
    # Another library naming Atom's namespace its own way must not break the feed.
    ElementTree.register_namespace("atom", "http://www.w3.org/2005/Atom")

    response = client.get(reverse("usage_download", args=[account.pk, "xml"]))

    path = tmp_path / "green-button.xml"
    path.write_bytes(body(response))
    (usage_point,) = parse_feed(str(path))
    assert usage_point.serviceCategory == enums.ServiceKind.water
    (meter_reading,) = usage_point.meterReadings
    assert meter_reading.readingType.uom == enums.UomType.cubicFeet
    assert meter_reading.readingType.commodity == enums.CommodityType.potableWater
    assert meter_reading.readingType.currency == enums.CurrencyCode.usd
    readings = list(meter_reading.intervalReadings)
    assert [r.value for r in readings] == [725, 800, 1250]  # cubic feet
    assert [r.cost for r in readings] == [None, 61.4, None]  # the October bill's new charges, in dollars
    starts = [r.timePeriod.start for r in readings]
    assert starts[0].astimezone(dt.UTC) == dt.datetime(2026, 9, 1, 7, tzinfo=dt.UTC)  # midnight Pacific
    # Local months: November has the hour daylight saving gives back.
    assert [r.timePeriod.duration for r in readings] == [
        dt.timedelta(days=30),
        dt.timedelta(days=31),
        dt.timedelta(days=30, hours=1),
    ]


def test_a_customer_downloads_only_their_own_and_staff_download_every_account(client, history, tmp_path):
    user, account = history
    other = AccountLinkFactory().service_account
    MeterRead.objects.create(service_account=other, period=D(2026, 11, 1), consumption_ccf=Decimal("3"))
    client.force_login(user)
    assert client.get(reverse("usage_download", args=[other.pk, "csv"])).status_code == 404
    assert client.get(reverse("usage_download", args=[account.pk, "pdf"])).status_code == 404
    assert client.get(reverse("staff_usage_download", args=["csv"])).status_code == 302  # not staff

    client.force_login(staff_user("Finance"))
    rows = list(
        csv.DictReader(io.StringIO(body(client.get(reverse("staff_usage_download", args=["csv"]))).decode()))
    )
    assert {r["account_number"] for r in rows} == {account.account_number, other.account_number}
    path = tmp_path / "all.xml"
    path.write_bytes(body(client.get(reverse("staff_usage_download", args=["xml"]))))
    assert len(parse_feed(str(path))) == 2


def shape(element) -> tuple:
    """An element's name and its children's shapes, in order: the structure without the values."""
    return (element.tag, tuple(shape(child) for child in element))


def values(root, path: str) -> list[str]:
    namespaces = {"atom": "http://www.w3.org/2005/Atom", "espi": "http://naesb.org/espi"}
    return [e.text for e in root.iterfind(path, namespaces)]


def test_green_button_xml_has_the_structure_and_codes_of_the_fixture(client, history):
    """The fixture is written after the published Green Button sample feeds (see its header)."""
    user, account = history
    client.force_login(user)
    fixture = ElementTree.parse(Path(__file__).parent / "fixtures" / "green_button_water.xml").getroot()  # noqa: S314

    ours = ElementTree.fromstring(body(client.get(reverse("usage_download", args=[account.pk, "xml"]))))  # noqa: S314

    assert shape(ours) == shape(fixture)
    for path in (
        ".//espi:ServiceCategory/espi:kind",
        ".//espi:ReadingType/*",
        ".//espi:IntervalReading/espi:value",
        ".//espi:IntervalReading/espi:cost",
        ".//espi:IntervalReading/espi:timePeriod/espi:duration",
        ".//espi:IntervalReading/espi:timePeriod/espi:start",
        ".//espi:IntervalBlock/espi:interval/*",
    ):
        assert values(ours, path) == values(fixture, path), path
    assert values(ours, "atom:entry/atom:link[@rel='self']") == values(
        fixture, "atom:entry/atom:link[@rel='self']"
    )
