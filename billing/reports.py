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

from django.db.models import Q

from accounts.models import ServiceAccount
from billing.models import LedgerEntry
from billing.selectors import LedgerPosition, aging_buckets, ledger_positions
from kernel.money import ZERO, format_money
from kernel.spreadsheets import text_cell, xlsx_table

AGING_COLUMNS = ["account_number", "current", "days_1_30", "days_31_60", "days_61_90", "over_90", "total"]
BUCKET_KEYS = ["current", "1-30", "31-60", "61-90", "over 90"]
AGING_CHUNK = 2000  # accounts read at a time: memory stays flat however many there are


# --- one list with totals: a page, a CSV and an XLSX; every report is written through it ------


@dataclass
class TableReport:
    title: str
    columns: list[str]  # the CSV's header, snake_case
    headings: list[str]  # the page's column headings
    rows: list[list]
    money_columns: set[int] = field(default_factory=set)
    text_columns: set[int] = field(default_factory=set)
    stamp: dt.date = dt.date(2000, 1, 1)
    totals_label: str = "Total"

    def totals(self) -> list:
        return [
            sum((row[i] for row in self.rows), ZERO) if i in self.money_columns else ""
            for i in range(len(self.columns))
        ]

    def csv(self) -> bytes:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(
                [
                    format_money(v)
                    if i in self.money_columns
                    else text_cell(v)
                    if i in self.text_columns
                    else v
                    for i, v in enumerate(row)
                ]
            )
        return buffer.getvalue().encode("utf-8")

    def xlsx(self) -> bytes:
        return xlsx_table(
            title=self.title,
            columns=self.columns,
            rows=[[v.isoformat() if isinstance(v, dt.date) else v for v in row] for row in self.rows],
            money_columns=self.money_columns,
            text_columns=self.text_columns,
            totals_label=self.totals_label,
            stamp=dt.datetime.combine(self.stamp, dt.time()),
        )


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


def account_aging_row(position: LedgerPosition, *, as_of: dt.date) -> tuple[Decimal, ...]:
    """The five buckets of one account's balance and open items as of the date."""
    buckets = aging_buckets(position.open_items, as_of=as_of)
    unapplied = position.balance - sum((i.unpaid for i in position.open_items), ZERO)
    buckets["current"] += unapplied  # zero, or credit no charge has taken yet (negative)
    return tuple(buckets[key] for key in BUCKET_KEYS)


def aging_report(*, as_of: dt.date) -> AgingReport:
    """One row per account whose total as of the date is not zero, by account number.

    Every account with a ledger row has a balance row; an account's buckets are all zero exactly
    when its balance is (open items add up to a positive balance, credit is a negative one)."""
    report = AgingReport(as_of=as_of)
    accounts = list(
        ServiceAccount.objects.filter(billing__isnull=False)
        .order_by("account_number")
        .values_list("pk", "account_number", "customer_name")
    )
    for start in range(0, len(accounts), AGING_CHUNK):
        chunk = accounts[start : start + AGING_CHUNK]
        positions = ledger_positions(account_ids=[pk for pk, _, _ in chunk], as_of=as_of)
        for pk, number, name in chunk:
            if positions[pk].balance:
                report.rows.append(AgingRow(pk, number, name, account_aging_row(positions[pk], as_of=as_of)))
    return report


def aging_month_ends(*, today: dt.date, months: int = 12) -> list[tuple[dt.date, tuple, Decimal]]:
    """(month-end, bucket totals, total) for each of the last `months` month-ends, oldest first.
    A past month-end's aging barely changes (rows are rarely posted back in time): kept a day."""
    from django.core.cache import cache

    from billing.calendar import add_months

    history = []
    for n in range(months - 1, -1, -1):
        day = add_months(today.replace(day=1), -n) - dt.timedelta(days=1)
        key = f"finance-home:aging:{day.isoformat()}"
        totals = cache.get(key)
        if totals is None:
            totals = aging_report(as_of=day).totals
            cache.set(key, totals, 24 * 60 * 60)
        history.append((day, totals, sum(totals, ZERO)))
    return history


def aging_csv(report: AgingReport) -> bytes:
    """The INTERFACES layout: `account_number,current,days_1_30,days_31_60,days_61_90,over_90,total`."""
    return TableReport(
        title=f"Aging {report.as_of.isoformat()}",
        columns=AGING_COLUMNS,
        headings=AGING_COLUMNS,
        rows=[[row.account_number, *row.buckets, row.total] for row in report.rows],
        money_columns={1, 2, 3, 4, 5, 6},
        text_columns={0},
        stamp=report.as_of,
    ).csv()


def aging_xlsx(report: AgingReport) -> bytes:
    """The same rows with the customer's name, a frozen header, column widths and a totals row."""
    columns = ["account_number", "customer_name", *AGING_COLUMNS[1:]]
    return TableReport(
        title=f"Aging {report.as_of.isoformat()}",
        columns=columns,
        headings=columns,
        rows=[[row.account_number, row.customer_name, *row.buckets, row.total] for row in report.rows],
        money_columns={2, 3, 4, 5, 6, 7},
        text_columns={0, 1},
        stamp=report.as_of,
    ).xlsx()


def aging_export(*, as_of: dt.date, fmt: str = "csv") -> tuple[AgingReport, bytes]:
    report = aging_report(as_of=as_of)
    return report, aging_xlsx(report) if fmt == "xlsx" else aging_csv(report)


# --- cash receipts ---------------------------------------------------------------------------

# How money came in, as finance counts it: a payment's channel and method, or "imported" for
# history brought from the old system (a ledger row with no payment record behind it).
RECEIPT_CHANNELS = [
    ("card_online", "Card online"),
    ("card_autopay", "Card autopay"),
    ("bank_online", "Bank account online"),
    ("phone", "Phone (clerk)"),
    ("phone_line", "Phone line (automated)"),
    ("bank_draft", "Bank draft"),
    ("mail", "Mail"),
    ("lobby", "Lobby"),
    ("drop_box", "Drop box"),
    ("lockbox", "Bank lockbox"),
    ("imported", "Imported"),
]
RECEIPT_CHANNEL_LABELS = dict(RECEIPT_CHANNELS)
RETURNED_PREFIXES = ("returned:", "ach-return:")  # a check or a bank draft that came back
REFUND_PREFIX = "refund:"


def receipt_channel(channel: str | None, method: str | None) -> str:
    if channel is None:
        return "imported"
    if channel == "autopay":  # bank autopay, on paper or online, goes in the NACHA file: a bank draft
        return "bank_draft" if method == "bank" else "card_autopay"
    if channel in ("online", "quick_pay"):
        return "bank_online" if method == "bank" else "card_online"
    return channel


@dataclass
class CashReceipts:
    start: dt.date
    end: dt.date
    # (day, channel) -> [count, amount]; amounts positive as money in or out
    receipts: dict = field(default_factory=dict)
    returned: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    batches: list = field(default_factory=list)

    def days(self) -> list[dt.date]:
        return sorted({day for day, _ in (*self.receipts, *self.returned, *self.refunds)})

    def day_rows(self) -> list[dict]:
        """One row per day: received per channel, the day's receipts, returned, refunded and net."""
        rows = []
        for day in self.days():
            by_channel = [self.receipts.get((day, key), [0, ZERO])[1] for key, _ in RECEIPT_CHANNELS]
            received = sum(by_channel, ZERO)
            returned = sum((v[1] for (d, _), v in self.returned.items() if d == day), ZERO)
            refunded = sum((v[1] for (d, _), v in self.refunds.items() if d == day), ZERO)
            rows.append(
                {
                    "day": day,
                    "channels": by_channel,
                    "received": received,
                    "returned": returned,
                    "refunded": refunded,
                    "net": received - returned - refunded,
                }
            )
        return rows

    def every_day(self) -> list[dict]:
        """Received on each day from the first to the last, a day with nothing at zero."""
        received = {row["day"]: row["received"] for row in self.day_rows()}
        days = (self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1))
        return [{"day": day, "received": received.get(day, ZERO)} for day in days]

    def totals(self) -> dict:
        rows = self.day_rows()
        return {
            "channels": [sum((r["channels"][i] for r in rows), ZERO) for i in range(len(RECEIPT_CHANNELS))],
            "received": sum((r["received"] for r in rows), ZERO),
            "returned": sum((r["returned"] for r in rows), ZERO),
            "refunded": sum((r["refunded"] for r in rows), ZERO),
            "net": sum((r["net"] for r in rows), ZERO),
        }

    def lines(self) -> list[tuple[dt.date, str, str, int, Decimal]]:
        """(day, kind, channel, count, amount), kind being received, returned or refunded; money
        out negative, so the amounts add up to the net."""
        out = []
        for kind, table, sign in (
            ("received", self.receipts, 1),
            ("returned", self.returned, -1),
            ("refunded", self.refunds, -1),
        ):
            out.extend(
                (day, kind, channel, count, sign * amount)
                for (day, channel), (count, amount) in table.items()
            )
        order = {key: i for i, (key, _) in enumerate(RECEIPT_CHANNELS)}
        kinds = {"received": 0, "returned": 1, "refunded": 2}
        return sorted(out, key=lambda line: (line[0], kinds[line[1]], order[line[2]]))


def cash_receipts(*, start: dt.date, end: dt.date) -> CashReceipts:
    """Money in by posting day and channel, from the ledger's payment rows (every payment posts
    exactly one); checks and drafts that came back, and card refunds, apart; the batches deposited."""
    from billing.models import PaymentBatch

    report = CashReceipts(start=start, end=end)

    def add(table, key, amount):
        count, total = table.get(key, [0, ZERO])
        table[key] = [count + 1, total + amount]

    for day, amount, channel, method in LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.PAYMENT, posted_on__range=(start, end)
    ).values_list("posted_on", "amount", "payment__channel", "payment__method"):
        add(report.receipts, (day, receipt_channel(channel, method)), -amount)
    for day, amount, key, channel, method in LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.REVERSAL,
        reverses__kind=LedgerEntry.Kind.PAYMENT,
        posted_on__range=(start, end),
    ).values_list(
        "posted_on", "amount", "source_key", "reverses__payment__channel", "reverses__payment__method"
    ):
        table = report.refunds if key.startswith(REFUND_PREFIX) else report.returned
        add(table, (day, receipt_channel(channel, method)), amount)
    report.batches = list(
        PaymentBatch.objects.filter(deposit_date__range=(start, end), status=PaymentBatch.Status.POSTED)
        .order_by("deposit_date", "pk")
        .values("pk", "deposit_date", "kind", "control_count", "control_total", "note")
    )
    return report


CASH_COLUMNS = ["date", "kind", "channel", "count", "amount"]


def cash_table(report: CashReceipts) -> TableReport:
    """One line per day, kind and channel; money out negative, so the lines add up to the net."""
    return TableReport(
        title=f"Cash {report.start.isoformat()} {report.end.isoformat()}",
        columns=CASH_COLUMNS,
        headings=CASH_COLUMNS,
        rows=[list(line) for line in report.lines()],
        money_columns={4},
        stamp=report.end,
        totals_label="Net",
    )


def cash_csv(report: CashReceipts) -> bytes:
    return cash_table(report).csv()


def cash_xlsx(report: CashReceipts) -> bytes:
    return cash_table(report).xlsx()


# --- list reports registered by the apps -----------------------------------------------


@dataclass(frozen=True)
class TableReportKind:
    key: str
    title: str
    by: str  # "range" (from and to dates) or "year"
    build: object  # (start=, end=) or (year=) -> TableReport
    help: str = ""


TABLE_REPORTS: dict[str, TableReportKind] = {}


def table_report_register(kind: TableReportKind) -> None:
    TABLE_REPORTS[kind.key] = kind


def adjustments_report(*, start: dt.date, end: dt.date) -> TableReport:
    """Each adjustment's ledger row posted in the range, and each reversal of one, with the
    amount as the ledger has it (a credit, a waiver or a write-off lowers what is owed: negative),
    so the total is what adjustments did to receivables."""
    from billing.models import Adjustment

    adjustments = {
        a.pk: a
        for a in Adjustment.objects.filter(
            Q(ledger_entry__posted_on__range=(start, end)) | Q(reversal_entry__posted_on__range=(start, end))
        ).select_related(
            "service_account", "reason", "requested_by", "reviewed_by", "ledger_entry", "reversal_entry"
        )
    }
    rows = []
    for entry in (
        LedgerEntry.objects.filter(posted_on__range=(start, end))
        .filter(Q(source_key__startswith="adjustment:") | Q(source_key__startswith="adjustment-reversal:"))
        .select_related("service_account")
        .order_by("posted_on", "pk")
    ):
        pk = int(entry.source_key.split(":")[1])
        a = adjustments[pk]
        undone = entry.source_key.startswith("adjustment-reversal:")
        rows.append(
            [
                entry.posted_on,
                entry.service_account.account_number,
                ("Reversal of a " if undone else "") + str(a.get_kind_display()),
                a.reason.name,
                entry.amount,
                a.requested_by.email,
                a.reviewed_by.email if a.reviewed_by else "",
                a.memo,
            ]
        )
    return TableReport(
        title=f"Adjustments {start} {end}",
        columns=[
            "posted_on",
            "account_number",
            "kind",
            "reason",
            "amount",
            "asked_by",
            "approved_by",
            "memo",
        ],
        headings=["Posted", "Account", "Kind", "Reason", "Amount", "Asked by", "Approved by", "Memo"],
        rows=rows,
        money_columns={4},
        text_columns={1, 3, 7},
        stamp=end,
    )


def refunds_and_returns_report(*, start: dt.date, end: dt.date) -> TableReport:
    rows = []
    for entry in (
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.REVERSAL,
            reverses__kind=LedgerEntry.Kind.PAYMENT,
            posted_on__range=(start, end),
        )
        .select_related("service_account", "reverses")
        .order_by("posted_on", "pk")
    ):
        key = entry.source_key
        what = (
            "Card refund"
            if key.startswith(REFUND_PREFIX)
            else "Returned bank draft"
            if key.startswith("ach-return:")
            else "Returned check"
            if key.startswith("returned:")
            else "Payment reversed"
        )
        rows.append(
            [
                entry.posted_on,
                entry.service_account.account_number,
                what,
                entry.reverses.posted_on,
                entry.amount,
                entry.description,
            ]
        )
    return TableReport(
        title=f"Refunds and returns {start} {end}",
        columns=["posted_on", "account_number", "what", "payment_posted_on", "amount", "description"],
        headings=["Posted", "Account", "What", "Payment of", "Amount", "Description"],
        rows=rows,
        money_columns={4},
        text_columns={1, 5},
        stamp=end,
    )


table_report_register(
    TableReportKind(
        key="adjustments",
        title="Adjustments and write-offs",
        by="range",
        build=adjustments_report,
        help="every adjustment posted in the days chosen: credits, debits, fee waivers, write-offs.",
    )
)
table_report_register(
    TableReportKind(
        key="refunds-and-returns",
        title="Refunds and returns",
        by="range",
        build=refunds_and_returns_report,
        help="card refunds, and checks and bank drafts that came back, by the day they were posted.",
    )
)
