"""An account's monthly water use and charges as CSV, and as Green Button "Download My Data": the
ESPI XML (NAESB REQ.21) that Green Button tools read, an Atom feed with, per account, a
UsagePoint of the water service kind, its MeterReading, the ReadingType (cubic feet, US dollars)
and an IntervalBlock with one reading per service month."""

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from xml.etree import ElementTree as ET

from django.conf import settings
from django.utils import timezone

from accounts.models import ServiceAccount
from billing.calendar import add_months
from billing.models import Bill, MeterRead
from billing.services.usage_alerts import GALLONS_PER_CCF

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"

# ESPI's codes (the enumerations of espi.xsd): the water service kind, potable water, cubic
# feet, data per interval ("delta"), normal values, forward flow, US dollars.
SERVICE_KIND_WATER = 2
COMMODITY_POTABLE_WATER = 9
UOM_CUBIC_FEET = 119
ACCUMULATION_DELTA = 4
DATA_QUALIFIER_NORMAL = 12
FLOW_FORWARD = 1
CURRENCY_USD = 840
COST_UNITS = 100000  # an IntervalReading's cost is in hundred-thousandths of the currency

CSV_COLUMNS = [
    "account_number",
    "service_month",
    "consumption_ccf",
    "consumption_gallons",
    "bill_issued_on",
    "new_charges",
    "total_due",
]


@dataclass(frozen=True)
class UsageRow:
    period: dt.date
    consumption_ccf: Decimal | None
    bill: Bill | None


def usage_rows(*, service_account: ServiceAccount) -> list[UsageRow]:
    """Every service month with a read or a bill, oldest first."""
    reads = dict(
        MeterRead.objects.filter(service_account=service_account).values_list("period", "consumption_ccf")
    )
    bills = {
        b.period: b for b in Bill.objects.filter(service_account=service_account).order_by("period", "pk")
    }
    return [
        UsageRow(period, reads.get(period), bills.get(period)) for period in sorted(set(reads) | set(bills))
    ]


def _csv_lines(service_account: ServiceAccount) -> Iterator[list[str]]:
    for row in usage_rows(service_account=service_account):
        ccf = row.consumption_ccf
        yield [
            service_account.account_number,
            f"{row.period:%Y-%m}",
            "" if ccf is None else f"{ccf:.2f}",
            "" if ccf is None else f"{(ccf * GALLONS_PER_CCF):.0f}",
            f"{row.bill.issued_on:%Y-%m-%d}" if row.bill else "",
            f"{row.bill.new_charges:.2f}" if row.bill else "",
            f"{row.bill.total_due:.2f}" if row.bill else "",
        ]


def usage_csv_stream(*, service_accounts: Iterable[ServiceAccount]) -> Iterator[str]:
    """The CSV a line at a time (the header first), for one account or all of them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for account in service_accounts:
        for line in _csv_lines(account):
            writer.writerow(line)
        yield flush()


def _epoch(day: dt.date) -> int:
    """Midnight at the start of `day`, local time, as ESPI's seconds since 1970 (UTC)."""
    return int(timezone.make_aware(dt.datetime.combine(day, dt.time())).timestamp())


def _entry(
    feed_id: str, path: str, title: str, content: ET.Element, *, up: str, related=(), updated: str
) -> ET.Element:
    entry = ET.Element(f"{{{ATOM}}}entry")
    ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, feed_id + path)}"
    ET.SubElement(entry, f"{{{ATOM}}}link", rel="self", href=path)
    ET.SubElement(entry, f"{{{ATOM}}}link", rel="up", href=up)
    for href in related:
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="related", href=href)
    ET.SubElement(entry, f"{{{ATOM}}}title").text = title
    wrapper = ET.SubElement(entry, f"{{{ATOM}}}content")
    wrapper.append(content)
    ET.SubElement(entry, f"{{{ATOM}}}published").text = updated
    ET.SubElement(entry, f"{{{ATOM}}}updated").text = updated
    return entry


def _espi(tag: str, children: list[tuple[str, object]] = ()) -> ET.Element:
    element = ET.Element(f"{{{ESPI}}}{tag}")
    for name, value in children:
        ET.SubElement(element, f"{{{ESPI}}}{name}").text = str(value)
    return element


def _account_entries(account: ServiceAccount, *, feed_id: str, updated: str) -> list[ET.Element]:
    base = f"RetailCustomer/{account.pk}/UsagePoint/1"
    meter = f"{base}/MeterReading/1"
    reading_type = f"ReadingType/{account.pk}"
    block = f"{meter}/IntervalBlock/1"
    usage_point = _espi("UsagePoint")
    category = ET.SubElement(usage_point, f"{{{ESPI}}}ServiceCategory")
    ET.SubElement(category, f"{{{ESPI}}}kind").text = str(SERVICE_KIND_WATER)
    rows = [row for row in usage_rows(service_account=account) if row.consumption_ccf is not None]
    interval_block = _espi("IntervalBlock")
    if rows:
        first, last = rows[0].period, add_months(rows[-1].period, 1)
        interval = ET.SubElement(interval_block, f"{{{ESPI}}}interval")
        ET.SubElement(interval, f"{{{ESPI}}}duration").text = str(_epoch(last) - _epoch(first))
        ET.SubElement(interval, f"{{{ESPI}}}start").text = str(_epoch(first))
    for row in rows:
        reading = ET.SubElement(interval_block, f"{{{ESPI}}}IntervalReading")
        if row.bill is not None:
            ET.SubElement(reading, f"{{{ESPI}}}cost").text = str(int(row.bill.new_charges * COST_UNITS))
        period = ET.SubElement(reading, f"{{{ESPI}}}timePeriod")
        start, end = _epoch(row.period), _epoch(add_months(row.period, 1))
        ET.SubElement(period, f"{{{ESPI}}}duration").text = str(end - start)
        ET.SubElement(period, f"{{{ESPI}}}start").text = str(start)
        # Whole cubic feet: 7.25 CCF is 725.
        ET.SubElement(reading, f"{{{ESPI}}}value").text = str(int(row.consumption_ccf * 100))
    title = f"{account.service_address}, {account.service_place}".strip(", ")
    return [
        _entry(
            feed_id,
            base,
            title,
            usage_point,
            up=f"RetailCustomer/{account.pk}/UsagePoint",
            related=[f"{base}/MeterReading"],
            updated=updated,
        ),
        _entry(
            feed_id,
            meter,
            f"Water use, account {account.account_number}",
            _espi("MeterReading"),
            up=f"{base}/MeterReading",
            related=[f"{meter}/IntervalBlock", reading_type],
            updated=updated,
        ),
        _entry(
            feed_id,
            reading_type,
            "Monthly water use, cubic feet",
            _espi(
                "ReadingType",
                [
                    ("accumulationBehaviour", ACCUMULATION_DELTA),
                    ("commodity", COMMODITY_POTABLE_WATER),
                    ("currency", CURRENCY_USD),
                    ("dataQualifier", DATA_QUALIFIER_NORMAL),
                    ("flowDirection", FLOW_FORWARD),
                    ("powerOfTenMultiplier", 0),
                    ("uom", UOM_CUBIC_FEET),
                ],
            ),
            up="ReadingType",
            updated=updated,
        ),
        _entry(
            feed_id, block, "Service months", interval_block, up=f"{meter}/IntervalBlock", updated=updated
        ),
    ]


def _xml(element: ET.Element) -> str:
    # Each piece declares the namespaces it uses, so the feed is whole whatever prefixes other
    # code has registered with ElementTree.
    return ET.tostring(element, encoding="unicode")


def usage_espi_stream(*, service_accounts: Iterable[ServiceAccount], title: str) -> Iterator[str]:
    """The Green Button feed a piece at a time: the feed's head, each account's entries, the end."""
    updated = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    feed_id = f"{settings.PORTAL_BASE_URL}/{title}"
    head = []
    for tag, text in (
        ("id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, feed_id + updated)}"),
        ("title", title),
        ("updated", updated),
    ):
        element = ET.Element(f"{{{ATOM}}}{tag}")
        element.text = text
        head.append(_xml(element))
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="{ATOM}" xmlns:espi="{ESPI}">' + "".join(head)
    for account in service_accounts:
        for entry in _account_entries(account, feed_id=feed_id, updated=updated):
            yield _xml(entry)
    yield "</feed>\n"
