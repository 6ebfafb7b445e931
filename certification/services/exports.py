"""The certified list for the county tax collector (INTERFACES.md), as CSV or XLSX.

The same certifications always give the same bytes: rows sorted by tax lot then account
number, amounts with two decimals, and no timestamps of the moment of export.
"""

import csv
import datetime as dt
import io
import zipfile

from certification.models import Certification
from portal.money import format_money

COLUMNS = [
    "year",
    "account_number",
    "tax_lot",
    "owner_name",
    "service_address",
    "delinquent_amount",
    "processing_fee",
    "total_certified",
    "description",
]


def certification_rows(*, year: int) -> list[list[str]]:
    certifications = (
        Certification.objects.filter(year=year)
        .exclude(status=Certification.Status.WITHDRAWN)
        .select_related("service_account")
        .order_by("tax_lot", "service_account__account_number")
    )
    return [
        [
            str(c.year),
            c.service_account.account_number,
            c.tax_lot,
            c.owner_name,
            c.service_address,
            format_money(c.delinquent_amount),
            format_money(c.processing_fee),
            format_money(c.total_certified),
            c.description,
        ]
        for c in certifications
    ]


def certification_csv(*, year: int) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(certification_rows(year=year))
    return buffer.getvalue().encode("utf-8")


def certification_xlsx(*, year: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"Certified {year}"
    sheet.append(COLUMNS)
    for row in certification_rows(year=year):
        # Amounts as numbers with two decimals shown; everything else as text, exactly as in the CSV.
        sheet.append([int(row[0]), *row[1:5], *(float(v) for v in row[5:8]), row[8]])
    for cells in sheet.iter_rows(min_row=2, min_col=6, max_col=8):
        for cell in cells:
            cell.number_format = "0.00"
    fixed = dt.datetime(year, 6, 21)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    raw = io.BytesIO()
    workbook.save(raw)
    return _zip_with_fixed_times(raw.getvalue(), fixed)


def _zip_with_fixed_times(data: bytes, when: dt.datetime) -> bytes:
    """openpyxl stamps each zip entry with the time of saving; stamp them all with `when` instead."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def certification_export(*, year: int, fmt: str = "csv") -> bytes:
    if fmt == "xlsx":
        return certification_xlsx(year=year)
    return certification_csv(year=year)
