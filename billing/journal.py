"""The journal for the general ledger: a period's ledger rows summarised by account code.

Each ledger row becomes one debit and one credit of the same amount, so the journal balances by
construction:

- a bill's charge: debit receivables, credit the revenue of each service on the bill (its lines);
  a charge with no bill (imported history) credits "service revenue, imported history";
- a late fee or door-hanger fee: debit receivables, credit that fee; a returned check's fee:
  credit returned payment fees;
- a payment: debit cash, credit receivables;
- an assistance credit: debit assistance credits; any other credit: debit billing adjustments;
- an adjustment: a write-off debits bad debt written off, a credit debits billing adjustments,
  a debit credits them;
- a transfer to the tax roll: debit the tax-roll receivable, credit receivables;
- a reversal (a returned check, a refund, a fee waived, a charge corrected): the row it reverses,
  the other way round; a charge on a bill of several services, corrected, debits billing
  adjustments.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from billing.models import BillLine, GLAccount, LedgerEntry
from billing.reports import TableReport
from kernel.money import ZERO

Role = GLAccount.Role
SERVICE_REVENUE = {
    "sewer": Role.REVENUE_SEWER,
    "surface_water": Role.REVENUE_SURFACE_WATER,
    "water": Role.REVENUE_WATER,
}
FEE_REVENUE = {
    LedgerEntry.Kind.LATE_FEE: Role.FEES_LATE,
    LedgerEntry.Kind.DOOR_HANGER_FEE: Role.FEES_DOOR_HANGER,
}


@dataclass
class Journal:
    start: dt.date
    end: dt.date
    debits: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    credits: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    rows: int = 0

    def add(self, debit: str, credit: str, amount: Decimal) -> None:
        self.debits[debit] += amount
        self.credits[credit] += amount

    def lines(self) -> list[tuple[str, str, Decimal, Decimal]]:
        """(code, name, debit, credit) for each account code used, by code (two roles the utility
        gave one code are one line)."""
        accounts = {a.role: (a.code, a.name) for a in GLAccount.objects.all()}
        merged: dict[str, list] = {}
        for role in set(self.debits) | set(self.credits):
            code, name = accounts.get(role, ("(no code)", Role(role).label))  # a role not set up yet
            line = merged.setdefault(code, [code, name, ZERO, ZERO])
            line[2] += self.debits[role]
            line[3] += self.credits[role]
        return [tuple(merged[code]) for code in sorted(merged)]

    @property
    def total_debits(self) -> Decimal:
        return sum(self.debits.values(), ZERO)

    @property
    def total_credits(self) -> Decimal:
        return sum(self.credits.values(), ZERO)


def _mapping(row, *, split: dict, adjustment_kind: str | None) -> list[tuple[str, str, Decimal]]:
    """(debit role, credit role, amount) for one ledger row that reverses nothing."""
    kind, amount, key = row["kind"], row["amount"], row["source_key"]
    size = abs(amount)
    if kind == LedgerEntry.Kind.CHARGE:
        services = split.get(row["id"])
        if not services:
            return [(Role.RECEIVABLES, Role.REVENUE_OTHER, size)]
        return [(Role.RECEIVABLES, SERVICE_REVENUE[service], part) for service, part in services.items()]
    if kind in FEE_REVENUE:
        return [(Role.RECEIVABLES, FEE_REVENUE[kind], size)]
    if kind == LedgerEntry.Kind.PAYMENT:
        return [(Role.CASH, Role.RECEIVABLES, size)]
    if kind == LedgerEntry.Kind.TAX_ROLL_TRANSFER:
        return [(Role.TAX_ROLL_RECEIVABLE, Role.RECEIVABLES, size)]
    if kind == LedgerEntry.Kind.CREDIT:
        debit = Role.ASSISTANCE if key.startswith("assist:") else Role.ADJUSTMENTS
        return [(debit, Role.RECEIVABLES, size)]
    # An adjustment, or any other row: by its sign.
    if key.startswith("returned-fee:"):
        return [(Role.RECEIVABLES, Role.FEES_RETURNED, size)]
    if adjustment_kind == "write_off":
        return [(Role.WRITE_OFFS, Role.RECEIVABLES, size)]
    if amount > 0:
        return [(Role.RECEIVABLES, Role.ADJUSTMENTS, size)]
    return [(Role.ADJUSTMENTS, Role.RECEIVABLES, size)]


def _revenue_split(charge_ids) -> dict[int, dict[str, Decimal]]:
    """Each bill charge's amount by service, from its bill's service lines."""
    split: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for entry_id, service, total in (
        BillLine.objects.filter(bill__ledger_entry_id__in=charge_ids, ledger_entry__isnull=True)
        .exclude(service="")
        .values_list("bill__ledger_entry_id", "service")
        .annotate(total=Sum("amount"))
    ):
        split[entry_id][service] = total
    return split


FIELDS = ["id", "kind", "amount", "source_key", "reverses_id", "adjustment__kind"]


def journal(*, start: dt.date, end: dt.date) -> Journal:
    """The journal of every ledger row posted from `start` to `end`."""
    result = Journal(start=start, end=end)
    rows = list(LedgerEntry.objects.filter(posted_on__range=(start, end)).values(*FIELDS).order_by("id"))
    # Each reversal's chain back to the row that reversed nothing (a waiver undone reverses a
    # reversal): read a step at a time, few rows each.
    known = {r["id"]: r for r in rows}
    wanted = {r["reverses_id"] for r in rows if r["kind"] == LedgerEntry.Kind.REVERSAL} - set(known)
    while wanted:
        found = {r["id"]: r for r in LedgerEntry.objects.filter(pk__in=wanted).values(*FIELDS)}
        known.update(found)
        wanted = {r["reverses_id"] for r in found.values() if r["kind"] == LedgerEntry.Kind.REVERSAL} - set(
            known
        )
    charge_ids = [r["id"] for r in known.values() if r["kind"] == LedgerEntry.Kind.CHARGE]
    split = _revenue_split(charge_ids)
    for row in rows:
        result.rows += 1
        if row["kind"] != LedgerEntry.Kind.REVERSAL:  # a tax-roll transfer names its charge too
            for debit, credit, amount in _mapping(row, split=split, adjustment_kind=row["adjustment__kind"]):
                result.add(debit, credit, amount)
            continue
        original, flips = row, 0
        while original["kind"] == LedgerEntry.Kind.REVERSAL:
            original, flips = known[original["reverses_id"]], flips + 1
        pairs = _mapping(original, split=split, adjustment_kind=original["adjustment__kind"])
        if len(pairs) == 1:
            debit, credit, _ = pairs[0]
        else:  # part of a bill of several services: a correction of the bill
            debit, credit = Role.RECEIVABLES, Role.ADJUSTMENTS
        if flips % 2:  # the row it reverses, the other way round (a reversal of that, as it was)
            debit, credit = credit, debit
        result.add(debit, credit, abs(row["amount"]))
    return result


JOURNAL_COLUMNS = ["code", "name", "debit", "credit"]


def journal_table(entries: Journal) -> TableReport:
    return TableReport(
        title=f"Journal {entries.start.isoformat()} {entries.end.isoformat()}",
        columns=JOURNAL_COLUMNS,
        headings=JOURNAL_COLUMNS,
        rows=[list(line) for line in entries.lines()],
        money_columns={2, 3},
        text_columns={0, 1},
        stamp=entries.end,
    )


def journal_csv(entries: Journal) -> bytes:
    return journal_table(entries).csv()


def journal_xlsx(entries: Journal) -> bytes:
    return journal_table(entries).xlsx()
