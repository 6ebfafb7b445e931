"""Finance reports read from the ledger. First, accounts-receivable aging.

Aging as of a date: every ledger row posted on or before it, payments and credits applied to the
oldest charges and fees first (`open_items`, the rule certification follows), each unpaid part in
the bucket of its days past due, and credit not yet applied to any charge a negative amount in
`current`. Charges transferred to the tax roll are settled by the transfer and drop out. An
account's five buckets add up to its balance as of the date.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import ServiceAccount
from billing.models import LedgerEntry
from billing.selectors import LEDGER_ROW_FIELDS, LedgerRow, aging_buckets, open_items
from portal.money import ZERO, format_money
from portal.spreadsheets import text_cell, xlsx_table

AGING_COLUMNS = ["account_number", "current", "days_1_30", "days_31_60", "days_61_90", "over_90", "total"]
BUCKET_KEYS = ["current", "1-30", "31-60", "61-90", "over 90"]
AGING_CHUNK = 2000  # accounts read at a time: memory stays flat however many there are


@dataclass(frozen=True)
class AgingRow:
    account_id: int
    account_number: str
    customer_name: str
    buckets: tuple[Decimal, Decimal, Decimal, Decimal, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


@dataclass
class AgingReport:
    as_of: dt.date
    rows: list[AgingRow] = field(default_factory=list)

    @property
    def totals(self) -> tuple[Decimal, ...]:
        return tuple(sum((row.buckets[i] for row in self.rows), ZERO) for i in range(5))

    @property
    def total(self) -> Decimal:
        return sum(self.totals, ZERO)


def account_aging_row(rows: list[LedgerRow], *, as_of: dt.date) -> tuple[Decimal, ...]:
    """The five buckets of one account's ledger rows as of the date."""
    posted = [r for r in rows if r.posted_on <= as_of]
    items = open_items(posted, as_of=as_of)
    buckets = aging_buckets(items, as_of=as_of)
    unapplied = sum((r.amount for r in posted), ZERO) - sum((i.unpaid for i in items), ZERO)
    buckets["current"] += unapplied  # zero, or credit no charge has taken yet (negative)
    return tuple(buckets[key] for key in BUCKET_KEYS)


def aging_report(*, as_of: dt.date) -> AgingReport:
    """One row per account whose total as of the date is not zero, by account number."""
    report = AgingReport(as_of=as_of)
    accounts = list(
        ServiceAccount.objects.filter(ledger_entries__posted_on__lte=as_of)
        .distinct()
        .order_by("account_number")
        .values_list("pk", "account_number", "customer_name")
    )
    for start in range(0, len(accounts), AGING_CHUNK):
        chunk = accounts[start : start + AGING_CHUNK]
        ledger: dict[int, list[LedgerRow]] = {pk: [] for pk, _, _ in chunk}
        for values in LedgerEntry.objects.filter(
            service_account_id__in=list(ledger), posted_on__lte=as_of
        ).values_list("service_account_id", *LEDGER_ROW_FIELDS):
            ledger[values[0]].append(LedgerRow(*values[1:]))
        for pk, number, name in chunk:
            buckets = account_aging_row(ledger[pk], as_of=as_of)
            if any(buckets):
                report.rows.append(AgingRow(pk, number, name, buckets))
    return report


def aging_csv(report: AgingReport) -> bytes:
    """The INTERFACES layout: `account_number,current,days_1_30,days_31_60,days_61_90,over_90,total`."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(AGING_COLUMNS)
    for row in report.rows:
        writer.writerow(
            [text_cell(row.account_number), *(format_money(v) for v in (*row.buckets, row.total))]
        )
    return buffer.getvalue().encode("utf-8")


def aging_xlsx(report: AgingReport) -> bytes:
    """The same rows with the customer's name, a frozen header, column widths and a totals row."""
    columns = ["account_number", "customer_name", *AGING_COLUMNS[1:]]
    return xlsx_table(
        title=f"Aging {report.as_of.isoformat()}",
        columns=columns,
        rows=[[row.account_number, row.customer_name, *row.buckets, row.total] for row in report.rows],
        money_columns={2, 3, 4, 5, 6, 7},
        text_columns={0, 1},
        totals_label="Total",
        stamp=dt.datetime.combine(report.as_of, dt.time()),
    )


def aging_export(*, as_of: dt.date, fmt: str = "csv") -> tuple[AgingReport, bytes]:
    report = aging_report(as_of=as_of)
    return report, aging_xlsx(report) if fmt == "xlsx" else aging_csv(report)
