"""Reads of the ledger and bills. Customer-facing reads are scoped to the login."""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount, User
from accounts.selectors import service_account_get_for_user
from billing.calendar import add_months, days_past_due
from billing.models import Bill, LedgerEntry, MeterRead, SavedCard
from kernel.i18n import local_date
from kernel.money import ZERO

AGING_BUCKETS = ["current", "1-30", "31-60", "61-90", "over 90"]


@dataclass(frozen=True)
class LedgerRow:
    """The fields the open-item arithmetic needs; built from model rows or value tuples."""

    id: int
    kind: str
    amount: Decimal
    posted_on: dt.date
    due_date: dt.date | None
    reverses_id: int | None

    @classmethod
    def of(cls, entry: LedgerEntry) -> "LedgerRow":
        return cls(entry.pk, entry.kind, entry.amount, entry.posted_on, entry.due_date, entry.reverses_id)


LEDGER_ROW_FIELDS = ["id", "kind", "amount", "posted_on", "due_date", "reverses_id"]


@dataclass(frozen=True)
class OpenItem:
    """The unpaid part of a charge or fee."""

    entry_id: int
    kind: str
    posted_on: dt.date
    due_date: dt.date
    amount: Decimal
    unpaid: Decimal


def open_items(rows: Iterable[LedgerRow], *, as_of: dt.date) -> list[OpenItem]:
    """What is still owed, row by row, counting only rows posted on or before as_of.

    A row that names another (a reversal, a transfer to the tax roll) settles that row.
    Every other payment and credit is applied to the oldest unpaid charges and fees first:
    by due date, then posting date, then id.
    """
    rows = [r for r in rows if r.posted_on <= as_of]
    net = {r.id: r.amount for r in rows if r.reverses_id is None}
    originals = {r.id: r for r in rows if r.reverses_id is None}
    loose: list[LedgerRow] = []
    for r in rows:
        if r.reverses_id is None:
            continue
        if r.reverses_id in net:
            net[r.reverses_id] += r.amount
        else:
            loose.append(r)
    debits: list[tuple[LedgerRow, Decimal]] = []
    credit = ZERO
    for row_id, amount in net.items():
        row = originals[row_id]
        if row.amount > 0:
            if amount > 0:
                debits.append((row, amount))
            else:
                credit += -amount  # reversed more than it was: the excess is a credit
        elif amount < 0:
            credit += -amount
        elif amount > 0:
            debits.append((row, amount))  # a payment reversed beyond itself
    for r in loose:
        if r.amount > 0:
            debits.append((r, r.amount))
        else:
            credit += -r.amount
    debits.sort(key=lambda pair: (pair[0].due_date or pair[0].posted_on, pair[0].posted_on, pair[0].id))
    items = []
    for row, amount in debits:
        applied = min(credit, amount)
        credit -= applied
        if amount - applied > 0:
            items.append(
                OpenItem(
                    entry_id=row.id,
                    kind=row.kind,
                    posted_on=row.posted_on,
                    due_date=row.due_date or row.posted_on,
                    amount=amount,
                    unpaid=amount - applied,
                )
            )
    return items


def past_due_total(items: Iterable[OpenItem], *, as_of: dt.date) -> Decimal:
    return sum((i.unpaid for i in items if days_past_due(i.due_date, as_of) > 0), ZERO)


def aging_buckets(items: Iterable[OpenItem], *, as_of: dt.date) -> dict[str, Decimal]:
    """Unpaid amounts by days past due: current, 1-30, 31-60, 61-90, over 90."""
    buckets = dict.fromkeys(AGING_BUCKETS, ZERO)
    for item in items:
        days = days_past_due(item.due_date, as_of)
        if days <= 0:
            key = "current"
        elif days <= 30:
            key = "1-30"
        elif days <= 60:
            key = "31-60"
        elif days <= 90:
            key = "61-90"
        else:
            key = "over 90"
        buckets[key] += item.unpaid
    return buckets


# --- what is open, read from the newest rows only --------------------------------------------
#
# Credits pay the oldest debits first, so what is still open is always the newest debits, in
# the open-item order, that add up to the balance: the oldest of them partly paid. With the
# balance the postings keep (BillingAccount.balance), the open items come from reading debits
# newest first until they cover it, however many years of paid history lie behind them. The
# rule itself stays `open_items` above; a test holds the two equal on generated histories.

# Each account's balance as of a day: the kept balance less the rows dated after it.
BALANCES_AS_OF_SQL = """
SELECT a.id, COALESCE(b.balance, 0) - COALESCE(later.total, 0)
FROM unnest(%(ids)s::bigint[]) AS a(id)
LEFT JOIN billing_billingaccount b ON b.service_account_id = a.id
LEFT JOIN LATERAL (
    SELECT SUM(l.amount) AS total FROM billing_ledgerentry l
    WHERE l.service_account_id = a.id AND l.posted_on > %(as_of)s
) later ON true
"""

# Each account's balance (the one given, or the kept one as of the day) and its newest debits in
# open-item order, with what their reversals left of them, for the accounts that owe. A positive
# row that names another row of the account (a returned payment) changes that row, not the open
# debits; one whose row is not there (a reversal of a reversal) is a debit itself.
NEWEST_DEBITS_SQL = """
WITH acct AS (
    SELECT a.id, COALESCE(a.given, COALESCE(b.balance, 0) - COALESCE(later.total, 0)) AS balance
    FROM unnest(%(ids)s::bigint[], %(given)s::numeric[]) AS a(id, given)
    LEFT JOIN billing_billingaccount b ON b.service_account_id = a.id
    LEFT JOIN LATERAL (
        SELECT SUM(l.amount) AS total FROM billing_ledgerentry l
        WHERE a.given IS NULL AND l.service_account_id = a.id AND l.posted_on > %(as_of)s
    ) later ON true
)
SELECT acct.id, acct.balance, d.id, d.kind, d.amount + COALESCE(r.total, 0), d.posted_on, d.due_date
FROM acct
LEFT JOIN LATERAL (
    SELECT e.id, e.kind, e.amount, e.posted_on, e.due_date, e.reverses_id
    FROM billing_ledgerentry e
    WHERE acct.balance > 0 AND e.service_account_id = acct.id AND e.amount > 0
        AND e.posted_on <= %(as_of)s {created}
    ORDER BY COALESCE(e.due_date, e.posted_on) DESC, e.posted_on DESC, e.id DESC
    LIMIT %(limit)s
) d ON true
LEFT JOIN LATERAL (
    SELECT SUM(x.amount) AS total FROM billing_ledgerentry x
    WHERE x.reverses_id = d.id AND x.service_account_id = acct.id AND x.posted_on <= %(as_of)s {created_x}
) r ON d.reverses_id IS NULL
WHERE d.id IS NULL OR d.reverses_id IS NULL OR NOT EXISTS (
    -- Looked up by its id, row by row: a join here would make the planner scan the whole ledger.
    SELECT 1 FROM billing_ledgerentry o
    WHERE o.id = d.reverses_id AND o.service_account_id = acct.id AND o.reverses_id IS NULL
        AND o.posted_on <= %(as_of)s {created_o}
)
ORDER BY acct.id, COALESCE(d.due_date, d.posted_on) DESC, d.posted_on DESC, d.id DESC
"""


# Newest debits read per owing account, in turn: doubling, so an account is read at most about
# twice as far back as it owes (a fixed big step would read further for every account that owes).
DEBITS_READ = (4, 8, 16, 32, 64, 128, 256, None)


@dataclass(frozen=True)
class LedgerPosition:
    """An account's balance on a day and what of it is open, oldest first."""

    balance: Decimal
    open_items: list[OpenItem]


def balances_as_of(*, account_ids: Iterable[int], as_of: dt.date) -> dict[int, Decimal]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(BALANCES_AS_OF_SQL, {"ids": list(account_ids), "as_of": as_of})
        return dict(cursor.fetchall())


def ledger_positions(
    *,
    account_ids: Iterable[int],
    as_of: dt.date,
    balances: dict[int, Decimal] | None = None,
    created_by: dt.datetime | None = None,
) -> dict[int, LedgerPosition]:
    """Balance and open items of many accounts as of a day (rows dated on or before it), in a few
    queries whose cost does not grow with the years of history.

    `balances` and `created_by` read the ledger as it stood at a moment (a bill's issue): only
    rows written by then, against the balance the caller knows for that moment.
    """
    from django.db import connection

    ids = list(dict.fromkeys(account_ids))
    given = balances or {}
    created = {"created": "", "created_x": "", "created_o": ""}
    if created_by is not None:
        created = {
            name: f"AND {alias}.created_at <= %(created_by)s"
            for name, alias in (("created", "e"), ("created_x", "x"), ("created_o", "o"))
        }
    sql = NEWEST_DEBITS_SQL.format(**created)
    positions: dict[int, LedgerPosition] = {}
    # One query: the balances and, for the accounts that owe, a few newest debits each (most owe
    # one or two bills). Only the accounts whose few did not cover their balance are read again,
    # with twice as many each time, so even those do not read all their history.
    owing, limits = ids, iter(DEBITS_READ)
    while owing:
        limit = next(limits)
        balance: dict[int, Decimal] = {}
        debits: dict[int, list[tuple]] = {pk: [] for pk in owing}
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {
                    "ids": owing,
                    "given": [given.get(pk) for pk in owing],
                    "as_of": as_of,
                    "limit": limit,
                    "created_by": created_by,
                },
            )
            for account_id, account_balance, *debit in cursor.fetchall():
                balance[account_id] = account_balance
                if debit[0] is not None:
                    debits[account_id].append(debit)
        short = []
        for pk in owing:
            items = _newest_open(debits[pk], balance=balance[pk]) if balance[pk] > 0 else []
            if items is None and limit is not None:
                short.append(pk)
                continue
            if items is None:
                # All debits do not cover the balance: only a payment reversed beyond itself
                # does that (posting refuses it). The whole ledger then decides.
                items = _open_items_full(pk, as_of=as_of, created_by=created_by)
            positions[pk] = LedgerPosition(balance=balance[pk], open_items=items)
        owing = short
    return positions


def _open_items_full(service_account_id: int, *, as_of: dt.date, created_by: dt.datetime | None):
    entries = LedgerEntry.objects.filter(service_account_id=service_account_id)
    if created_by is not None:
        entries = entries.filter(created_at__lte=created_by)
    return open_items([LedgerRow(*v) for v in entries.values_list(*LEDGER_ROW_FIELDS)], as_of=as_of)


def _newest_open(debits: list[tuple], *, balance: Decimal) -> list[OpenItem] | None:
    """Open items from debits read newest first; None when they do not cover the balance."""
    items = []
    left = balance
    for entry_id, kind, net, posted_on, due_date in debits:
        if net <= 0:
            continue  # reversed in full (or beyond): the balance counts it
        unpaid = min(net, left)
        items.append(OpenItem(entry_id, kind, posted_on, due_date or posted_on, net, unpaid))
        left -= unpaid
        if left <= 0:
            return items[::-1]
    return None


def ledger_rows_for_account(*, service_account_id: int) -> list[LedgerRow]:
    return [
        LedgerRow(*values)
        for values in LedgerEntry.objects.filter(service_account_id=service_account_id).values_list(
            *LEDGER_ROW_FIELDS
        )
    ]


def account_position(*, service_account: ServiceAccount, as_of: dt.date) -> LedgerPosition:
    return ledger_positions(account_ids=[service_account.pk], as_of=as_of)[service_account.pk]


def account_open_items(*, service_account: ServiceAccount, as_of: dt.date) -> list[OpenItem]:
    return account_position(service_account=service_account, as_of=as_of).open_items


def account_past_due(*, service_account: ServiceAccount, as_of: dt.date) -> Decimal:
    return past_due_total(account_open_items(service_account=service_account, as_of=as_of), as_of=as_of)


def account_aging(*, service_account: ServiceAccount, as_of: dt.date) -> dict[str, Decimal]:
    return aging_buckets(account_open_items(service_account=service_account, as_of=as_of), as_of=as_of)


def account_balance(*, service_account: ServiceAccount, as_of: dt.date | None = None) -> Decimal:
    balances = balances_as_of(account_ids=[service_account.pk], as_of=as_of or dt.date.max)
    return balances[service_account.pk]


@dataclass(frozen=True)
class AccountSummary:
    """What the account page and the dashboard lead with, for one account on a day."""

    account: ServiceAccount
    balance: Decimal
    amount_due: Decimal
    past_due: Decimal
    latest_bill: Bill | None
    open_items: list[OpenItem]
    aging: dict[str, Decimal]

    @property
    def credit(self) -> Decimal:
        return max(-self.balance, ZERO)


def account_summaries(*, accounts: list[ServiceAccount], as_of: dt.date) -> list[AccountSummary]:
    """The summary of each account, in the order given, in a fixed number of queries."""
    ids = [a.pk for a in accounts]
    positions = ledger_positions(account_ids=ids, as_of=as_of)
    latest = {
        bill.service_account_id: bill
        for bill in Bill.objects.filter(service_account_id__in=ids)
        .order_by("service_account_id", "-period")
        .distinct("service_account_id")
    }
    return [
        AccountSummary(
            account=account,
            balance=positions[account.pk].balance,
            amount_due=max(positions[account.pk].balance, ZERO),
            past_due=past_due_total(positions[account.pk].open_items, as_of=as_of),
            latest_bill=latest.get(account.pk),
            open_items=positions[account.pk].open_items,
            aging=aging_buckets(positions[account.pk].open_items, as_of=as_of),
        )
        for account in accounts
    ]


def account_summary(*, service_account: ServiceAccount, as_of: dt.date) -> AccountSummary:
    (summary,) = account_summaries(accounts=[service_account], as_of=as_of)
    return summary


# --- scoped to the login ---------------------------------------------------------------


def saved_cards_usable(*, user: User) -> QuerySet[SavedCard]:
    """The login's saved cards that can still be charged: not removed, not past their expiry month."""
    from billing.calendar import local_today

    today = local_today()
    return (
        SavedCard.objects.filter(user=user, removed_at__isnull=True)
        .exclude(exp_year__lt=today.year)
        .exclude(exp_year=today.year, exp_month__lt=today.month)
        .order_by("-pk")
    )


def bill_list_for_account(*, service_account: ServiceAccount) -> QuerySet[Bill]:
    return Bill.objects.filter(service_account=service_account).order_by("-period")


def bill_get_for_user(*, user: User, account_pk: int, bill_pk: int) -> Bill:
    """A bill of one of the login's own accounts, or 404."""
    account = service_account_get_for_user(user=user, pk=account_pk)
    bill = get_object_or_404(
        Bill.objects.select_related("service_account").prefetch_related("lines"),
        service_account=account,
        pk=bill_pk,
    )
    return bill


def ledger_entries_for_account(*, service_account: ServiceAccount) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(service_account=service_account).order_by("-posted_on", "-id")


@dataclass(frozen=True)
class UsageMonth:
    period: dt.date
    consumption_ccf: Decimal | None


def water_usage_for_account(*, service_account: ServiceAccount, through: dt.date, months: int = 13):
    """The last `months` service months up to `through`, with None where there is no read."""
    first = add_months(through.replace(day=1), -(months - 1))
    reads = dict(
        MeterRead.objects.filter(
            service_account=service_account, period__gte=first, period__lte=through
        ).values_list("period", "consumption_ccf")
    )
    return [UsageMonth(add_months(first, i), reads.get(add_months(first, i))) for i in range(months)]


@dataclass(frozen=True)
class BalanceMismatch:
    account_number: str
    balance: Decimal
    ledger_total: Decimal


def ledger_balance_mismatches() -> list[BalanceMismatch]:
    """Accounts whose kept balance differs from the sum of their ledger rows (in SQL)."""
    from django.db import connection

    sql = """
        SELECT sa.account_number, COALESCE(ba.balance, 0), COALESCE(l.total, 0)
        FROM accounts_serviceaccount sa
        LEFT JOIN billing_billingaccount ba ON ba.service_account_id = sa.id
        LEFT JOIN (
            SELECT service_account_id, SUM(amount) AS total
            FROM billing_ledgerentry GROUP BY service_account_id
        ) l ON l.service_account_id = sa.id
        WHERE COALESCE(ba.balance, 0) <> COALESCE(l.total, 0)
        ORDER BY sa.account_number
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [BalanceMismatch(*row) for row in cursor.fetchall()]


OWING_CHUNK = 5000  # accounts read at a time by owing_open_items


def owing_open_items(*, as_of: dt.date) -> dict[int, list[OpenItem]]:
    """The open items of every account that owes something on a day, in account order, for the
    runs over all accounts (notices, the certification sweep). Read in chunks through
    ledger_positions: the cost follows the number of accounts, not the years of history."""
    from billing.models import BillingAccount

    ids = list(BillingAccount.objects.order_by("pk").values_list("pk", flat=True))
    owing: dict[int, list[OpenItem]] = {}
    for start in range(0, len(ids), OWING_CHUNK):
        chunk = ids[start : start + OWING_CHUNK]
        positions = ledger_positions(account_ids=chunk, as_of=as_of)
        owing.update((pk, positions[pk].open_items) for pk in chunk if positions[pk].open_items)
    return owing


def open_items_for_accounts(*, account_ids, as_of: dt.date) -> dict[int, list[OpenItem]]:
    """Open items of many accounts at once (for notice and fee runs)."""
    positions = ledger_positions(account_ids=account_ids, as_of=as_of)
    return {pk: position.open_items for pk, position in positions.items()}


BILL_DESCRIPTION = re.compile(r"^Bill for ([A-Z][a-z]+ [0-9]{4})$")


def ledger_description(*, kind: str, description: str):
    """A ledger row as a customer reads it, in their language: the bill run's "Bill for May 2026"
    and the fee kinds are written anew; other text (imported history) is shown as it was kept."""
    match = BILL_DESCRIPTION.match(description or "")
    if kind == LedgerEntry.Kind.CHARGE and match:
        try:
            month = dt.datetime.strptime(match.group(1), "%B %Y").date()
        except ValueError:
            return description
        return format_lazy(_("Bill for {month}"), month=local_date(month, "YEAR_MONTH_FORMAT"))
    if kind in (LedgerEntry.Kind.LATE_FEE, LedgerEntry.Kind.DOOR_HANGER_FEE) or not description:
        return LedgerEntry.Kind(kind).label
    return description


@dataclass(frozen=True)
class PastDueLine:
    description: str
    due_date: dt.date
    unpaid: Decimal


@dataclass(frozen=True)
class BillStatement:
    """What a bill shows beside its totals, from the ledger as it stood on the issue date."""

    last_payment_amount: Decimal | None
    last_payment_on: dt.date | None
    past_due: list[PastDueLine]
    # The bill's "payments and credits since" split in two: what the customer paid or was
    # credited, and what moved to the county's tax roll (no longer owed to the utility).
    payments_and_credits: Decimal
    transferred_to_tax_roll: Decimal
    # Everything moved to the tax roll up to the issue date: the note on the bill.
    certified_total: Decimal


def bill_statement(*, bill: Bill) -> BillStatement:
    """From the ledger as the bill run saw it: rows dated after the issue, or written after the bill
    with an earlier date (a lockbox check, a late sweep), are not part of this bill. The bill's
    total is the balance the run saw, so its open items are read from the newest debits."""
    seen = LedgerEntry.objects.filter(
        service_account_id=bill.service_account_id,
        posted_on__lte=bill.issued_on,
        created_at__lte=bill.created_at,
    )
    last = seen.filter(kind=LedgerEntry.Kind.PAYMENT, amount__lt=0).order_by("-posted_on", "-id").first()
    previous = (
        Bill.objects.filter(service_account_id=bill.service_account_id, period__lt=bill.period)
        .order_by("-period")
        .values_list("issued_on", flat=True)
        .first()
    )
    since = previous or bill.period - dt.timedelta(days=1)  # as the bill run counts it
    position = ledger_positions(
        account_ids=[bill.service_account_id],
        as_of=bill.issued_on,
        balances={bill.service_account_id: bill.total_due},
        created_by=bill.created_at,
    )[bill.service_account_id]
    overdue = [item for item in position.open_items if days_past_due(item.due_date, bill.issued_on) > 0]
    descriptions = (
        dict(
            LedgerEntry.objects.filter(pk__in=[i.entry_id for i in overdue]).values_list("pk", "description")
        )
        if overdue
        else {}
    )
    past_due = [
        PastDueLine(
            description=ledger_description(kind=item.kind, description=descriptions.get(item.entry_id, "")),
            due_date=item.due_date,
            unpaid=item.unpaid,
        )
        for item in overdue
    ]
    transfers = list(
        seen.filter(kind=LedgerEntry.Kind.TAX_ROLL_TRANSFER).values_list("pk", "amount", "posted_on")
    )
    transferred = -sum((amount for _, amount, posted_on in transfers if since < posted_on), ZERO)
    # A withdrawn or lowered certification reverses (part of) its transfer: that part is owed here again.
    returned = ZERO
    if transfers:
        returned = (
            seen.filter(reverses_id__in=[pk for pk, _, _ in transfers]).aggregate(total=Sum("amount"))[
                "total"
            ]
            or ZERO
        )
    return BillStatement(
        last_payment_amount=-last.amount if last else None,
        last_payment_on=last.posted_on if last else None,
        past_due=past_due,
        payments_and_credits=bill.payments_and_credits - transferred,
        transferred_to_tax_roll=transferred,
        certified_total=-sum((amount for _, amount, _ in transfers), ZERO) - returned,
    )


@dataclass(frozen=True)
class LedgerLine:
    entry: LedgerEntry
    balance: Decimal  # the account's balance after this row
    settled: list  # for a payment or credit: [(description, amount), ...] of what it paid


def ledger_with_running_balance(*, service_account: ServiceAccount) -> list[LedgerLine]:
    """Every ledger row, newest first, with the balance after it and, for each payment or credit,
    the charges it paid: credits are applied in date order to the oldest unpaid charges first,
    the same rule the open items follow."""
    entries = list(LedgerEntry.objects.filter(service_account=service_account).order_by("posted_on", "id"))
    # As open_items does: each reversal (a returned check, a waived fee, a tax-roll transfer)
    # first nets into the row it names; what is left of each credit then pays the oldest debits.
    net = {e.id: e.amount for e in entries if e.reverses_id is None}
    for e in entries:
        if e.reverses_id is not None and e.reverses_id in net:
            net[e.reverses_id] += e.amount
    originals = [e for e in entries if e.reverses_id is None or e.reverses_id not in net]
    debits = sorted(
        [[e, net.get(e.id, e.amount)] for e in originals if e.amount > 0 and net.get(e.id, e.amount) > 0],
        key=lambda pair: (pair[0].due_date or pair[0].posted_on, pair[0].posted_on, pair[0].id),
    )
    settled: dict[int, list] = {}
    for entry in originals:
        left = -net.get(entry.id, entry.amount)
        if entry.amount >= 0 or left <= 0:
            continue
        paid = []
        for pair in debits:
            if left <= 0:
                break
            if pair[1] <= 0:
                continue
            take = min(left, pair[1])
            pair[1] -= take
            left -= take
            paid.append((ledger_description(kind=pair[0].kind, description=pair[0].description), take))
        settled[entry.id] = paid
    lines, balance = [], ZERO
    for entry in entries:
        balance += entry.amount
        lines.append(LedgerLine(entry=entry, balance=balance, settled=settled.get(entry.id, [])))
    return lines[::-1]


@dataclass
class WorklistRow:
    account: ServiceAccount
    past_due: Decimal
    oldest_due: dt.date
    last_note: object  # accounts.AccountNote | None
    promise_broken: bool
    actions: list = field(default_factory=list)  # the staff page adds what the login may do


def delinquent_worklist(*, today: dt.date, limit: int = 200) -> list[WorklistRow]:
    """Past-due accounts to call, oldest and largest first. An account with a promise to pay whose
    date has not passed is left off; the day after the date, if what was promised has not been
    paid since the note, it comes back marked as a broken promise."""
    from accounts.models import AccountNote

    account_ids = (
        LedgerEntry.objects.filter(amount__gt=0, due_date__lt=today)
        .values_list("service_account_id", flat=True)
        .distinct()
    )
    items = open_items_for_accounts(account_ids=account_ids, as_of=today)
    owing = {pk: i for pk, i in items.items() if past_due_total(i, as_of=today) > 0}
    from billing.hooks import WORKLIST_EXCLUSIONS

    for provider in WORKLIST_EXCLUSIONS:
        for pk in provider(account_ids=list(owing), as_of=today):
            owing.pop(pk, None)
    latest_notes = {}
    for note in AccountNote.objects.filter(service_account_id__in=list(owing)).order_by(
        "service_account_id", "-created_at"
    ):
        latest_notes.setdefault(note.service_account_id, note)
    promises = {}
    for note in AccountNote.objects.filter(
        service_account_id__in=list(owing), promised_on__isnull=False
    ).order_by("service_account_id", "-created_at"):
        promises.setdefault(note.service_account_id, note)
    accounts = ServiceAccount.objects.in_bulk(list(owing))
    # The payments since the promises, in one query for every account with one.
    payments: dict[int, list] = {}
    if promises:
        for pk, at, amount in LedgerEntry.objects.filter(
            service_account_id__in=list(promises),
            kind=LedgerEntry.Kind.PAYMENT,
            created_at__gte=min(p.created_at for p in promises.values()),
        ).values_list("service_account_id", "created_at", "amount"):
            payments.setdefault(pk, []).append((at, amount))
    rows = []
    for pk, open_list in owing.items():
        promise = promises.get(pk)
        broken = False
        if promise is not None:
            if promise.promised_on >= today:
                continue  # promised, not yet due: off the list until the day after
            paid = -sum((amount for at, amount in payments.get(pk, []) if at >= promise.created_at), ZERO)
            broken = paid < promise.promised_amount
        overdue = [i for i in open_list if days_past_due(i.due_date, today) > 0]
        rows.append(
            WorklistRow(
                account=accounts[pk],
                past_due=past_due_total(open_list, as_of=today),
                oldest_due=min(i.due_date for i in overdue),
                last_note=latest_notes.get(pk),
                promise_broken=broken,
            )
        )
    rows.sort(key=lambda r: (r.oldest_due, -r.past_due, r.account.account_number))
    return rows[:limit]


def staff_queues(*, user) -> list[dict]:
    """Billing's work waiting for staff, for the staff home (each app adds its own through hooks):
    each queue the login's role may work, with its count (None: not counted) and its page."""
    return [
        {"label": label, "count": count(), "url": url()}
        for permission, label, count, url in _billing_queues()
        if user.has_perm(permission)
    ]


def _billing_queues():
    """(permission, label, count, url) of each of billing's queues; count and url are read only
    for the queues a login may see."""
    from django.urls import reverse
    from django.utils import timezone

    from accounts.selectors import follow_ups_due
    from billing.calendar import local_today
    from billing.models import Adjustment, LockboxException, Payment, PaymentBatch, Refund, ServiceRequest

    def admin_list(model: str, query: str) -> str:
        return reverse(f"admin:billing_{model}_changelist") + query

    def stuck_payments() -> int:
        since = timezone.now() - dt.timedelta(hours=1)
        pending = [Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION]
        return Payment.objects.filter(status__in=pending, created_at__lt=since).count()

    return [
        (
            "billing.view_servicerequest",
            "Start, stop and move requests",
            lambda: ServiceRequest.objects.filter(status__in=ServiceRequest.OPEN_STATUSES).count(),
            lambda: reverse("staff_service_requests"),
        ),
        (
            "billing.post_paymentbatch",
            "Payment batches to post",
            lambda: PaymentBatch.objects.filter(status=PaymentBatch.Status.OPEN).count(),
            lambda: admin_list("paymentbatch", "?status__exact=open"),
        ),
        (
            "billing.add_payment",
            "Lockbox checks to resolve",
            lambda: LockboxException.objects.filter(status=LockboxException.Status.OPEN).count(),
            lambda: reverse("staff_lockbox_exceptions"),
        ),
        (
            "billing.approve_refund",
            "Refunds to approve",
            lambda: Refund.objects.filter(status=Refund.Status.AWAITING_APPROVAL).count(),
            lambda: admin_list("refund", "?status__exact=awaiting_approval"),
        ),
        (
            "billing.approve_adjustment",
            "Adjustments to approve",
            lambda: Adjustment.objects.filter(status=Adjustment.Status.AWAITING_APPROVAL).count(),
            lambda: reverse("staff_adjustments"),
        ),
        (
            "billing.view_payment",
            "Card payments pending over an hour",
            stuck_payments,
            lambda: admin_list("payment", "?status__in=pending,requires_action"),
        ),
        # Not counted: finding them reads the ledger of every account that owes.
        (
            "accounts.add_accountnote",
            "Delinquent accounts to follow up",
            lambda: None,
            lambda: reverse("staff_worklist"),
        ),
        (
            "accounts.view_accountnote",
            "Follow-ups due today",
            lambda: follow_ups_due(today=local_today()).count(),
            lambda: reverse("staff_follow_ups"),
        ),
    ]
