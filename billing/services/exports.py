import csv
import datetime as dt
import os
import tempfile
from pathlib import Path

from billing.models import Bill
from kernel.money import format_money
from kernel.spreadsheets import text_cell

BILL_FILE_COLUMNS = [
    "account_number",
    "period",
    "due_date",
    "previous_balance",
    "payments_and_credits",
    "new_charges",
    "total_due",
]


# With --mailing: where each paper bill goes (the mailing address, else the service address).
MAILING_COLUMNS = ["mail_name", "mail_address", "mail_city", "mail_state", "mail_zip"]


def mail_to_columns(account) -> list[str]:
    if account.mailing_address:
        return [
            account.mailing_name or account.customer_name,
            account.mailing_address,
            account.mailing_city,
            account.mailing_state,
            account.mailing_zip,
        ]
    return [
        account.customer_name,
        account.service_address,
        account.service_city,
        account.service_state,
        account.service_zip,
    ]


def bills_export_csv(
    *, period: dt.date, path: str | Path, exclude_paperless: bool = False, mailing: bool = False
) -> int:
    """The print-and-mail vendor's bill file: one row per bill, sorted by account number, in the
    layout of the bill file (docs); with `mailing`, the address each bill is mailed to follows.

    Written to a temporary file and moved into place, so a reader never sees half a file.
    """
    bills = Bill.objects.filter(period=period).select_related("service_account")
    if exclude_paperless:
        bills = bills.exclude(service_account__billing__paperless=True)
    bills = bills.order_by("service_account__account_number")
    target = Path(path)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (moved into place below)
        "w", newline="", encoding="utf-8", dir=target.parent or ".", delete=False, suffix=".tmp"
    )
    count = 0
    try:
        with handle:
            writer = csv.writer(handle)
            writer.writerow(BILL_FILE_COLUMNS + (MAILING_COLUMNS if mailing else []))
            for bill in bills.iterator(chunk_size=5000):
                writer.writerow(
                    [
                        text_cell(bill.service_account.account_number),
                        f"{bill.period:%Y-%m}",
                        bill.due_date.isoformat(),
                        format_money(bill.previous_balance),
                        format_money(bill.payments_and_credits),
                        format_money(bill.new_charges),
                        format_money(bill.total_due),
                        *(
                            [text_cell(value) for value in mail_to_columns(bill.service_account)]
                            if mailing
                            else []
                        ),
                    ]
                )
                count += 1
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return count
