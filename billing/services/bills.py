"""The monthly bill run."""

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from accounts.models import ServiceAccount
from billing.calendar import add_months, due_date_for_period, local_today
from billing.hooks import BILL_NOTE_PROVIDERS
from billing.models import AccountService, Bill, BillLine, LedgerEntry, RateSchedule, Service
from billing.selectors import ledger_positions, past_due_total
from billing.services.ledger import billing_accounts_lock, ledger_post_staged
from kernel.db import insert_values, staging_table
from kernel.errors import ApplicationError
from kernel.money import quantize_money
from kernel.outbox import outbox_enqueue

SERVICE_ORDER = [Service.SEWER, Service.SURFACE_WATER, Service.WATER]
# Accounts billed per transaction: big enough that a chunk's fixed cost is small beside its rows,
# small enough that a payment posted meanwhile waits for the chunk's locks about a second at most.
BILL_CHUNK = 5000


@dataclass
class BillRunResult:
    period: dt.date
    issued_on: dt.date
    created: int = 0
    already_billed: int = 0
    missing_reads: list[str] = field(default_factory=list)
    bill_ids: list[int] = field(default_factory=list)
    queued: int = 0  # accounts handed to workers (fan-out)


def rates_in_force(*, period: dt.date) -> dict[str, RateSchedule]:
    """Each service's schedule with the latest effective date on or before the month's first day."""
    schedules = (
        RateSchedule.objects.filter(effective_date__lte=period)
        .order_by("service", "-effective_date")
        .distinct("service")
    )
    return {schedule.service: schedule for schedule in schedules}


def bill_line_amount(*, units: Decimal, schedule: RateSchedule, consumption_ccf: Decimal | None) -> Decimal:
    """units × monthly charge per unit + CCF × charge per CCF (water), rounded to cents half up."""
    amount = units * schedule.monthly_charge_per_unit
    if consumption_ccf is not None:
        amount += consumption_ccf * schedule.charge_per_ccf
    return quantize_money(amount)


def prorated_charge(*, units: Decimal, schedule: RateSchedule, days: int, days_in_month: int) -> Decimal:
    """The monthly charge for the days served, rounded to cents half up: multiplied before it is
    divided, so an amount that is exactly half a cent rounds up (the bill run's SQL does the same)."""
    return quantize_money(units * schedule.monthly_charge_per_unit * days / days_in_month)


def days_served(
    month: dt.date, *, first: dt.date | None = None, last: dt.date | None = None
) -> tuple[int, int]:
    """(days served, days in the month) for a service month, service starting on `first` and
    ending on `last` when either falls in it."""
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    start = first.day if first and (first.year, first.month) == (month.year, month.month) else 1
    end = last.day if last and (last.year, last.month) == (month.year, month.month) else days_in_month
    return max(end - start + 1, 0), days_in_month


def service_month_label(month: dt.date, *, first: dt.date | None = None, last: dt.date | None = None) -> str:
    """ "December 2026", or "December 10-31, 2026 (22 of 31 days)" for part of it."""
    days, days_in_month = days_served(month, first=first, last=last)
    if days == days_in_month:
        return f"{month:%B %Y}"
    start = first.day if first and first.replace(day=1) == month else 1
    return f"{month:%B} {start}-{start + days - 1}, {month:%Y} ({days} of {days_in_month} days)"


def _candidates(*, period: dt.date):
    return (
        ServiceAccount.objects.filter(status=ServiceAccount.Status.ACTIVE)
        .filter(Exists(AccountService.objects.filter(service_account=OuterRef("pk"))))
        .exclude(service_starts_on__gte=add_months(period, 1))  # not served yet in that month
        .exclude(Exists(Bill.objects.filter(service_account=OuterRef("pk"), period=period)))
        .values_list("pk", flat=True)
    )


def bill_candidates(*, period: dt.date) -> list[int]:
    """Active accounts that take a service and have no bill for the month yet."""
    return list(_candidates(period=period).order_by("pk"))


def bills_run(
    *,
    period: dt.date,
    issued_on: dt.date | None = None,
    notify: bool = True,
    chunk_size: int = BILL_CHUNK,
    progress: Callable[[int], None] | None = None,
    fan_out: bool = False,
) -> BillRunResult:
    """Issue the bills for a service month: one per active account that takes a service.

    Safe to run again: accounts already billed for the month are skipped (and a unique
    constraint on account and month backs that up). Each chunk of accounts is billed in
    its own short transaction with the accounts' balance rows locked, so a payment posted
    meanwhile lands either before or after the bill, never halfway.
    """
    issued_on = issued_on or local_today()
    if issued_on < add_months(period, 1):
        raise ApplicationError(
            f"The service month {period:%Y-%m} has not ended; its bills can be issued from "
            f"{add_months(period, 1):%Y-%m-%d}."
        )
    rates = rates_in_force(period=period)
    candidates = bill_candidates(period=period)
    needed = set(
        AccountService.objects.filter(service_account_id__in=_candidates(period=period))
        .values_list("service", flat=True)
        .distinct()
    )
    missing = sorted(needed - set(rates))
    if missing:
        names = ", ".join(Service(s).label.lower() for s in missing)
        raise ApplicationError(
            f"No {names} rate is in force for {period:%Y-%m}; import rates first. Nothing was billed."
        )
    result = BillRunResult(
        period=period, issued_on=issued_on, already_billed=Bill.objects.filter(period=period).count()
    )
    for start in range(0, len(candidates), chunk_size):
        chunk = candidates[start : start + chunk_size]
        if fan_out:
            # Each chunk is a task: more workers, on more machines, make the run shorter.
            outbox_enqueue(
                "billing.tasks.bills_run_chunk",
                [chunk, period.isoformat(), issued_on.isoformat(), notify],
                items=len(chunk),
            )
            result.queued += len(chunk)
            continue
        _bill_chunk(chunk, period=period, issued_on=issued_on, rates=rates, result=result, notify=notify)
        if progress:
            progress(len(chunk))
    return result


def bills_run_chunk(
    *, account_ids: list[int], period: dt.date, issued_on: dt.date, notify: bool
) -> BillRunResult:
    """One chunk of a fanned-out bill run (a Celery task). Safe to run twice."""
    result = BillRunResult(period=period, issued_on=issued_on)
    _bill_chunk(
        account_ids,
        period=period,
        issued_on=issued_on,
        rates=rates_in_force(period=period),
        result=result,
        notify=notify,
    )
    return result


# What the run needs to know of each account of a chunk: the day its last bill was issued, whether
# it is billed for the month already, takes a service, takes water without the month's read, takes
# a service with no rate in force. Every table is read for the chunk's ids only ("= ANY"): else the
# planner reads every account's rows, each chunk, and a run's cost grows with the square of the
# accounts.
CHUNK_ACCOUNTS_SQL = """
SELECT a.id, a.account_number, a.service_starts_on,
       (SELECT b.issued_on FROM billing_bill b
        WHERE b.service_account_id = a.id AND b.period < %(period)s ORDER BY b.period DESC LIMIT 1),
       billed.id IS NOT NULL, s.service_account_id IS NOT NULL,
       COALESCE(s.water, false) AND r.consumption_ccf IS NULL, COALESCE(s.unrated, false)
FROM accounts_serviceaccount a
LEFT JOIN billing_bill billed
    ON billed.service_account_id = a.id AND billed.period = %(period)s AND billed.service_account_id = ANY(%(ids)s)
LEFT JOIN (
    SELECT service_account_id, bool_or(service = %(water)s) AS water,
           bool_or(NOT service = ANY(%(rated)s::text[])) AS unrated
    FROM billing_accountservice
    WHERE service_account_id = ANY(%(ids)s) GROUP BY service_account_id
) s ON s.service_account_id = a.id
LEFT JOIN billing_meterread r
    ON r.service_account_id = a.id AND r.period = %(period)s AND r.service_account_id = ANY(%(ids)s)
WHERE a.id = ANY(%(ids)s) AND a.status = %(active)s
ORDER BY a.id
"""

# Every line of the chunk's bills, and the ledger rows each bill counts, in one table: the
# services (units x rate x share of the month served, plus CCF x rate for water, rounded half up
# to cents), then the rows dated since the account's last bill (only the debits become lines).
DRAFT_LINES_SQL = """
WITH draft AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(since)s::date[], %(days)s::int[], %(served)s::text[],
                         %(served_from)s::date[], %(served_to)s::date[])
        AS d(account_id, since, days, served, served_from, served_to)
), rate AS (
    SELECT * FROM unnest(%(services)s::text[], %(ranks)s::int[], %(rate_ids)s::bigint[],
                         %(monthly)s::numeric[], %(per_ccf)s::numeric[], %(labels)s::text[])
        AS r(service, rank, rate_id, monthly, per_ccf, label)
), kind AS (
    SELECT * FROM unnest(%(kinds)s::text[], %(kind_labels)s::text[]) AS k(kind, label)
)
SELECT d.account_id, 0 AS part, r.rank, NULL::date AS posted_on, s.id AS sort_id,
       left(r.label || ' service, ' || d.served, 200) AS description, s.service, s.units,
       r.monthly AS monthly_charge_per_unit, m.consumption_ccf,
       CASE WHEN m.consumption_ccf IS NOT NULL THEN r.per_ccf END AS charge_per_ccf,
       r.rate_id AS rate_schedule_id, NULL::bigint AS ledger_entry_id,
       round(s.units * r.monthly * d.days / %(days_in_month)s + COALESCE(m.consumption_ccf * r.per_ccf, 0), 2)
           AS amount,
       d.served_from, d.served_to
FROM draft d
-- "= ANY" as well: the chunk's rows are looked up by index, never a scan of every account's.
JOIN billing_accountservice s ON s.service_account_id = d.account_id AND s.service_account_id = ANY(%(ids)s)
JOIN rate r ON r.service = s.service
LEFT JOIN billing_meterread m
    ON s.service = %(water)s AND m.service_account_id = d.account_id AND m.period = %(period)s
        AND m.service_account_id = ANY(%(ids)s)
UNION ALL
SELECT d.account_id, 1, 0, l.posted_on, l.id,
       left(COALESCE(NULLIF(l.description, ''), k.label) || ' (posted ' || to_char(l.posted_on, 'MM/DD/YYYY') || ')',
            200),
       '', NULL, NULL, NULL, NULL, NULL, l.id, l.amount, NULL, NULL
FROM draft d
CROSS JOIN LATERAL (
    -- Each account's rows since its last bill, read by index; OFFSET 0 keeps the planner from
    -- turning this into a join that reads the whole ledger.
    SELECT l.id, l.kind, l.amount, l.posted_on, l.description FROM billing_ledgerentry l
    WHERE l.service_account_id = d.account_id AND l.posted_on > d.since AND l.posted_on <= %(issued_on)s
    OFFSET 0
) l
LEFT JOIN kind k ON k.kind = l.kind
"""

# What the lines add up to, per account: the services' total (the month's charge) and, of the rows
# since the last bill, their total, the payments and credits, and the debits billed again.
LINE_TOTALS = """
SELECT account_id,
       sum(amount) FILTER (WHERE part = 0) AS services,
       sum(amount) FILTER (WHERE part = 1) AS recent,
       sum(amount) FILTER (WHERE part = 1 AND amount < 0) AS credits,
       sum(amount) FILTER (WHERE part = 0 OR amount > 0) AS new_charges
FROM bill_draft_line GROUP BY account_id
"""

# The services' total is the month's charge: one per account and month, ever (its source key), so
# a replayed run posts nothing.
DRAFT_CHARGES_SQL = f"""
SELECT x.account_id AS service_account_id, %(kind)s::text AS kind, x.services AS amount,
       %(issued_on)s::date AS posted_on, %(due_date)s::date AS due_date, %(description)s::text AS description,
       'bill:' || x.account_id || ':' || %(month)s AS source_key, x.account_id AS ordinal
FROM ({LINE_TOTALS}) x WHERE x.services > 0
"""  # noqa: S608 (a constant query)

# The bills and their lines are written with INSERT ... SELECT: each column's expression here,
# every other column of the model its default (kernel.db.insert_values), so a column added to the
# model is never left out. The balance as of the issue day less the rows since the last bill is
# the previous balance.
BILL_COLUMNS = {
    "service_account_id": "f.account_id",
    "period": "%(period)s",
    "issued_on": "%(issued_on)s",
    "due_date": "%(due_date)s",
    "previous_balance": "f.previous_balance",
    "payments_and_credits": "f.payments_and_credits",
    "new_charges": "f.new_charges",
    "total_due": "f.previous_balance - f.payments_and_credits + f.new_charges",
    "past_due_amount": "f.past_due",
    # The month's charge, looked up by its key row by row (a join would scan the ledger).
    "ledger_entry_id": "CASE WHEN f.services > 0 THEN ("
    "SELECT e.id FROM billing_ledgerentry e WHERE e.source_key = 'bill:' || f.account_id || ':' || %(month)s) END",
    "notes": "f.notes",
}
BILLS_FROM_SQL = f"""
FROM (
    SELECT d.account_id, d.balance - COALESCE(x.recent, 0) AS previous_balance,
           -COALESCE(x.credits, 0) AS payments_and_credits, COALESCE(x.new_charges, 0) AS new_charges,
           d.past_due, d.notes, x.services
    FROM unnest(%(ids)s::bigint[], %(balances)s::numeric[], %(past_due)s::numeric[], %(notes)s::text[])
        AS d(account_id, balance, past_due, notes)
    LEFT JOIN ({LINE_TOTALS}) x ON x.account_id = d.account_id
) f
ORDER BY f.account_id
RETURNING id, service_account_id
"""  # noqa: S608 (a constant query)

LINE_COLUMNS = {
    "bill_id": "b.id",
    "position": "row_number() OVER (PARTITION BY l.account_id ORDER BY l.part, l.rank, l.posted_on, l.sort_id)",
    **{
        name: f"l.{name}"
        for name in (
            "description",
            "service",
            "units",
            "monthly_charge_per_unit",
            "consumption_ccf",
            "charge_per_ccf",
            "rate_schedule_id",
            "ledger_entry_id",
            "amount",
            "served_from",
            "served_to",
        )
    },
}
LINES_FROM_SQL = """
FROM bill_draft_line l
JOIN unnest(%(bill_ids)s::bigint[], %(account_ids)s::bigint[]) AS b(id, account_id) ON b.account_id = l.account_id
WHERE l.part = 0 OR l.amount > 0
"""


def _insert_sql(model, given: dict[str, str], rest: str) -> tuple[str, dict]:
    columns, expressions, params = insert_values(model, given)
    table = model._meta.db_table
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} {rest}", params  # noqa: S608


class _Billable(NamedTuple):
    """An account of a chunk that gets a bill, and what Python works out for it."""

    account_id: int
    since: dt.date  # rows dated after this day are new on this bill
    starts_on: dt.date | None  # service began during the month: the bill counts the days
    balance: Decimal  # as of the issue day
    past_due: Decimal
    notes: str


@transaction.atomic
def _bill_chunk(
    account_ids: list[int],
    *,
    period: dt.date,
    issued_on: dt.date,
    rates: dict[str, RateSchedule],
    result: BillRunResult,
    notify: bool,
) -> None:
    """Bill a chunk of accounts, set-based: the lines, figures, charges, bills and their lines are
    worked out and written by a few statements for the whole chunk, whatever its size."""
    billing_accounts_lock(service_account_ids=account_ids)
    billable = _chunk_billable(account_ids, period=period, issued_on=issued_on, rates=rates, result=result)
    if not billable:
        return
    due_date = due_date_for_period(period)
    _draft_lines(billable, period=period, issued_on=issued_on, rates=rates)
    month = f"{period:%Y-%m}"
    staging_table(
        "bill_charge",
        query=DRAFT_CHARGES_SQL,
        params={
            "kind": LedgerEntry.Kind.CHARGE,
            "issued_on": issued_on,
            "due_date": due_date,
            "description": f"Bill for {period:%B %Y}",
            "month": month,
        },
    )
    ledger_post_staged(table="bill_charge", locked=True)
    bills_sql, bill_params = _insert_sql(Bill, BILL_COLUMNS, BILLS_FROM_SQL)
    lines_sql, line_params = _insert_sql(BillLine, LINE_COLUMNS, LINES_FROM_SQL)
    with connection.cursor() as cursor:
        cursor.execute(
            bills_sql,
            {
                **bill_params,
                "ids": [a.account_id for a in billable],
                "balances": [a.balance for a in billable],
                "past_due": [a.past_due for a in billable],
                "notes": [a.notes for a in billable],
                "month": month,
                "period": period,
                "issued_on": issued_on,
                "due_date": due_date,
            },
        )
        bills = sorted(cursor.fetchall(), key=lambda row: row[1])  # in account order
        bill_ids = [pk for pk, _ in bills]
        cursor.execute(
            lines_sql,
            {**line_params, "bill_ids": bill_ids, "account_ids": [account_id for _, account_id in bills]},
        )
    result.created += len(bill_ids)
    result.bill_ids.extend(bill_ids)
    if notify:
        # Owed to the queue with the bills themselves: with Redis down, the emails wait (outbox).
        outbox_enqueue("billing.tasks.bills_notify_ready", [bill_ids], items=len(bill_ids))


def _chunk_billable(
    account_ids: list[int],
    *,
    period: dt.date,
    issued_on: dt.date,
    rates: dict[str, RateSchedule],
    result: BillRunResult,
) -> list[_Billable]:
    """The chunk's accounts to bill now, with their balance, past-due amount and notes; accounts
    billed already, without a service or without the month's water read are counted in `result`.
    Accounts closed since the candidates were listed (a final bill under way) are left out, so
    never billed again."""
    with connection.cursor() as cursor:
        cursor.execute(
            CHUNK_ACCOUNTS_SQL,
            {
                "ids": account_ids,
                "period": period,
                "water": Service.WATER,
                "active": ServiceAccount.Status.ACTIVE,
                "rated": list(rates),
            },
        )
        rows = cursor.fetchall()
    ready = []
    for pk, number, starts_on, last_issued, billed, takes_service, missing_read, unrated in rows:
        if unrated:
            # A service added since the run checked its rates: never a bill that leaves it out.
            raise ApplicationError(
                f"Account {number} takes a service with no rate in force for {period:%Y-%m}; import rates "
                "first. This chunk was not billed."
            )
        if billed:
            result.already_billed += 1
        elif missing_read:
            result.missing_reads.append(number)
        elif takes_service:
            ready.append((pk, starts_on, last_issued))
    ids = [pk for pk, _, _ in ready]
    # The kept balance and the newest debits only: a bill's cost does not grow with the history.
    positions = ledger_positions(account_ids=ids, as_of=issued_on)
    notes: dict[int, list[str]] = defaultdict(list)
    for provider in BILL_NOTE_PROVIDERS:
        for account_id, lines in provider(account_ids=ids, period=period, issued_on=issued_on).items():
            notes[account_id] += lines
    first_bill_since = period - dt.timedelta(days=1)
    return [
        _Billable(
            account_id=pk,
            since=last_issued or first_bill_since,
            starts_on=starts_on if starts_on and starts_on > period else None,
            balance=positions[pk].balance,
            past_due=past_due_total(positions[pk].open_items, as_of=issued_on),
            notes="\n".join(notes.get(pk, [])),
        )
        for pk, starts_on, last_issued in ready
    ]


def _draft_lines(
    billable: list[_Billable], *, period: dt.date, issued_on: dt.date, rates: dict[str, RateSchedule]
) -> None:
    """Stage every line of the chunk's bills (bill_draft_line)."""
    days_in_month = calendar.monthrange(period.year, period.month)[1]
    served = {}  # the few days service can have begun on, labelled once each
    for account in billable:
        if account.starts_on not in served:
            served[account.starts_on] = (
                days_served(period, first=account.starts_on)[0],
                service_month_label(period, first=account.starts_on),
            )
    schedules = [(SERVICE_ORDER.index(service), schedule) for service, schedule in rates.items()]
    staging_table(
        "bill_draft_line",
        query=DRAFT_LINES_SQL,
        params={
            "ids": [a.account_id for a in billable],
            "since": [a.since for a in billable],
            "days": [served[a.starts_on][0] for a in billable],
            "served": [served[a.starts_on][1] for a in billable],
            "served_from": [a.starts_on for a in billable],
            "served_to": [period.replace(day=days_in_month) if a.starts_on else None for a in billable],
            # Labels translated once a chunk, in the language the run speaks.
            "services": [schedule.service for _, schedule in schedules],
            "ranks": [rank for rank, _ in schedules],
            "rate_ids": [schedule.pk for _, schedule in schedules],
            "monthly": [schedule.monthly_charge_per_unit for _, schedule in schedules],
            "per_ccf": [schedule.charge_per_ccf for _, schedule in schedules],
            "labels": [str(Service(schedule.service).label) for _, schedule in schedules],
            "kinds": [kind.value for kind in LedgerEntry.Kind],
            "kind_labels": [str(kind.label) for kind in LedgerEntry.Kind],
            "days_in_month": days_in_month,
            "water": Service.WATER,
            "period": period,
            "issued_on": issued_on,
        },
    )
