"""The certified list for the county tax collector (INTERFACES.md), as CSV or XLSX.

The same certifications always give the same bytes: rows sorted by tax lot then account
number, amounts with two decimals, and no timestamps of the moment of export.
"""

import csv
import datetime as dt
import io

from certification.models import Certification
from portal.money import format_money
from portal.spreadsheets import text_cell, zip_with_fixed_times

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


TEXT_COLUMNS = (1, 2, 3, 4, 8)  # account number, tax lot, owner, address, description


def certification_csv(*, year: int) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in certification_rows(year=year):
        writer.writerow([text_cell(v) if i in TEXT_COLUMNS else v for i, v in enumerate(row)])
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
    # Names and addresses are text cells whatever they start with: openpyxl would store a value
    # starting with "=" as a formula that runs when the file is opened.
    for cells in sheet.iter_rows(min_row=2):
        for index in TEXT_COLUMNS:
            cells[index].data_type = "s"
    fixed = dt.datetime(year, 6, 21)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    raw = io.BytesIO()
    workbook.save(raw)
    return zip_with_fixed_times(raw.getvalue(), fixed)


def certification_export(*, year: int, fmt: str = "csv") -> bytes:
    if fmt == "xlsx":
        return certification_xlsx(year=year)
    return certification_csv(year=year)
