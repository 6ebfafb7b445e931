"""The certified list for the county tax collector (INTERFACES.md), as CSV or XLSX.

The same certifications always give the same bytes: rows sorted by tax lot then account
number, amounts with two decimals, and no timestamps of the moment of export.
"""

import csv
import datetime as dt
import io
from decimal import Decimal

from certification.models import Certification
from kernel.money import format_money
from kernel.spreadsheets import text_cell, xlsx_table

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
    """The same rows as the CSV, amounts as numbers; a frozen header, column widths and a totals
    row. Names and addresses are text cells whatever they start with (never a formula)."""
    rows = [
        [int(row[0]), *row[1:5], *(Decimal(v) for v in row[5:8]), row[8]]
        for row in certification_rows(year=year)
    ]
    return xlsx_table(
        title=f"Certified {year}",
        columns=COLUMNS,
        rows=rows,
        money_columns={5, 6, 7},
        text_columns=set(TEXT_COLUMNS),
        totals_label="Total",
        stamp=dt.datetime(year, 6, 21),
    )


def certification_export(*, year: int, fmt: str = "csv") -> bytes:
    if fmt == "xlsx":
        return certification_xlsx(year=year)
    return certification_csv(year=year)
