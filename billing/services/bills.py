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
from django.utils import timezone

from accounts.models import ServiceAccount
from billing.calendar import add_months, due_date_for_period, local_today
from billing.hooks import BILL_NOTE_PROVIDERS
from billing.models import AccountService, Bill, LedgerEntry, RateSchedule, Service
from billing.selectors import LEDGER_ROW_FIELDS, LedgerRow, ledger_positions, past_due_total
from billing.services.ledger import Posting, billing_accounts_lock, ledger_post
from portal.db import copy_rows, sequence_next_values
from portal.errors import ApplicationError
from portal.money import ZERO, quantize_money
from portal.outbox import outbox_enqueue

SERVICE_ORDER = [Service.SEWER, Service.SURFACE_WATER, Service.WATER]


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


def bill_line_amount(
    *, units: Decimal, schedule: RateSchedule, consumption_ccf: Decimal | None, share: Decimal = Decimal("1")
) -> Decimal:
    """units × monthly charge per unit (× the share of the month served) + CCF × charge per CCF
    (water), rounded to cents half up."""
    amount = units * schedule.monthly_charge_per_unit * share
    if consumption_ccf is not None:
        amount += consumption_ccf * schedule.charge_per_ccf
    return quantize_money(amount)


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


class Line(NamedTuple):
    """A bill line before it is written (the run COPYs them: no model instances)."""

    description: str
    amount: Decimal
    service: str = ""
    units: Decimal | None = None
    monthly_charge_per_unit: Decimal | None = None
    consumption_ccf: Decimal | None = None
    charge_per_ccf: Decimal | None = None
    rate_schedule_id: int | None = None
    ledger_entry_id: int | None = None
    served_from: dt.date | None = None
    served_to: dt.date | None = None


def bill_candidates(*, period: dt.date) -> list[int]:
    """Active accounts that take a service and have no bill for the month yet."""
    return list(
        ServiceAccount.objects.filter(status=ServiceAccount.Status.ACTIVE)
        .filter(Exists(AccountService.objects.filter(service_account=OuterRef("pk"))))
        .exclude(service_starts_on__gte=add_months(period, 1))  # not served yet in that month
        .exclude(Exists(Bill.objects.filter(service_account=OuterRef("pk"), period=period)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def bills_run(
    *,
    period: dt.date,
    issued_on: dt.date | None = None,
    notify: bool = True,
    chunk_size: int = 500,
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
        AccountService.objects.filter(service_account_id__in=candidates)
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


ROWS_SINCE_SQL = """
SELECT l.service_account_id, {fields}, l.description
FROM unnest(%(ids)s::bigint[], %(since)s::date[]) AS a(id, since)
JOIN billing_ledgerentry l ON l.service_account_id = a.id AND l.posted_on > a.since
ORDER BY l.service_account_id, l.posted_on, l.id
"""


def _rows_since_last_bill(account_ids: list[int], previous_issue: dict[int, dt.date], *, default: dt.date):
    """Each account's ledger rows dated after its last bill's issue (or `default`), oldest first."""

    sql = ROWS_SINCE_SQL.format(fields=", ".join(f"l.{name}" for name in LEDGER_ROW_FIELDS))
    with connection.cursor() as cursor:
        cursor.execute(
            sql, {"ids": account_ids, "since": [previous_issue.get(pk, default) for pk in account_ids]}
        )
        yield from cursor.fetchall()


CHUNK_ACCOUNTS_SQL = """
SELECT a.id, a.account_number, a.service_starts_on, r.consumption_ccf, previous.issued_on,
       EXISTS (SELECT 1 FROM billing_bill b WHERE b.service_account_id = a.id AND b.period = %(period)s)
FROM accounts_serviceaccount a
LEFT JOIN billing_meterread r ON r.service_account_id = a.id AND r.period = %(period)s
LEFT JOIN LATERAL (
    SELECT b.issued_on FROM billing_bill b
    WHERE b.service_account_id = a.id AND b.period < %(period)s
    ORDER BY b.period DESC LIMIT 1
) previous ON true
WHERE a.id = ANY(%(ids)s) AND a.status = %(active)s
ORDER BY a.id
"""

CHUNK_SERVICES_SQL = """
SELECT service_account_id, service, units FROM billing_accountservice WHERE service_account_id = ANY(%s)
"""


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
    billing_accounts_lock(service_account_ids=account_ids)
    # One read of what each account's bill needs; accounts closed since the candidates were
    # listed (a final bill under way) are not in it, so never billed again.
    with connection.cursor() as cursor:
        cursor.execute(
            CHUNK_ACCOUNTS_SQL, {"ids": account_ids, "period": period, "active": ServiceAccount.Status.ACTIVE}
        )
        accounts = cursor.fetchall()
        cursor.execute(CHUNK_SERVICES_SQL, [account_ids])
        services: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
        for pk, service, units in cursor.fetchall():
            services[pk].append((service, units))
    result.already_billed += sum(1 for *_, billed in accounts if billed)
    accounts = [row for row in accounts if not row[-1]]
    account_ids = [row[0] for row in accounts]
    numbers = {pk: number for pk, number, *_ in accounts}
    # Accounts whose service started after the month's first day: the first bill counts the days.
    starts = {pk: starts_on for pk, _, starts_on, *_ in accounts if starts_on and starts_on > period}
    reads = {pk: read for pk, _, _, read, *_ in accounts if read is not None}
    previous_issue = {pk: issued for pk, _, _, _, issued, _ in accounts if issued is not None}
    # Only the rows since each account's last bill, its kept balance and its newest debits are read:
    # the cost of a bill does not grow with the years of history behind it.
    first_bill_since = period - dt.timedelta(days=1)
    window: dict[int, list[tuple[LedgerRow, str]]] = defaultdict(list)
    for values in _rows_since_last_bill(account_ids, previous_issue, default=first_bill_since):
        window[values[0]].append((LedgerRow(*values[1:-1]), values[-1]))
    positions = ledger_positions(account_ids=account_ids, as_of=issued_on)

    due_date = due_date_for_period(period)
    labels = {service.value: str(service.label) for service in Service}  # translated once a chunk
    drafts = []
    for pk in account_ids:
        taken = services.get(pk)
        if not taken:
            continue
        if any(service == Service.WATER for service, _ in taken) and pk not in reads:
            result.missing_reads.append(numbers[pk])
            continue
        lines = []
        first_day = starts.get(pk)
        days, days_in_month = days_served(period, first=first_day)
        served = service_month_label(period, first=first_day)
        for service, units in sorted(taken, key=lambda s: SERVICE_ORDER.index(s[0])):
            schedule = rates[service]
            consumption = reads.get(pk) if service == Service.WATER else None
            lines.append(
                Line(
                    description=f"{labels[service]} service, {served}",
                    amount=bill_line_amount(
                        units=units,
                        schedule=schedule,
                        consumption_ccf=consumption,
                        share=Decimal(days) / Decimal(days_in_month),
                    ),
                    service=service,
                    units=units,
                    monthly_charge_per_unit=schedule.monthly_charge_per_unit,
                    consumption_ccf=consumption,
                    charge_per_ccf=schedule.charge_per_ccf if consumption is not None else None,
                    rate_schedule_id=schedule.pk,
                    served_from=first_day,
                    served_to=period.replace(day=days_in_month) if first_day else None,
                )
            )
        service_total = sum((line.amount for line in lines), ZERO)
        since_rows = window.get(pk, [])
        recent = [(r, text) for r, text in since_rows if r.posted_on <= issued_on]
        balance_as_of_since = positions[pk].balance - sum((r.amount for r, _ in recent), ZERO)
        payments_and_credits = -sum((r.amount for r, _ in recent if r.amount < 0), ZERO)
        for row, text in recent:
            if row.amount > 0:
                label = LedgerEntry.Kind(row.kind).label
                lines.append(
                    Line(
                        description=f"{text or label} (posted {row.posted_on:%m/%d/%Y})",
                        amount=row.amount,
                        ledger_entry_id=row.id,
                    )
                )
        new_charges = sum((line.amount for line in lines), ZERO)
        past_due = past_due_total(positions[pk].open_items, as_of=issued_on)
        bill = Bill(
            service_account_id=pk,
            period=period,
            issued_on=issued_on,
            due_date=due_date,
            previous_balance=balance_as_of_since,
            payments_and_credits=payments_and_credits,
            new_charges=new_charges,
            total_due=balance_as_of_since - payments_and_credits + new_charges,
            past_due_amount=past_due,
        )
        drafts.append((bill, lines, service_total))

    postings = [
        Posting(
            service_account_id=bill.service_account_id,
            kind=LedgerEntry.Kind.CHARGE,
            amount=service_total,
            posted_on=issued_on,
            due_date=due_date,
            description=f"Bill for {period:%B %Y}",
            # One charge per account and month, ever: a replayed run posts nothing.
            source_key=f"bill:{bill.service_account_id}:{period:%Y-%m}",
        )
        for bill, _, service_total in drafts
        if service_total > 0
    ]
    entries = {e.service_account_id: e for e in ledger_post(postings=postings)}
    notes: dict[int, list[str]] = defaultdict(list)
    for provider in BILL_NOTE_PROVIDERS:
        for account_id, lines in provider(
            account_ids=account_ids, period=period, issued_on=issued_on
        ).items():
            notes[account_id] += lines
    bills = [bill for bill, _, _ in drafts]
    # Bills are COPYed too, with ids taken from their sequence first so the lines can refer to them.
    for bill, pk in zip(bills, sequence_next_values("billing_bill", len(bills)), strict=True):
        bill.pk = pk
        bill.ledger_entry = entries.get(bill.service_account_id)
        bill.notes = "\n".join(notes.get(bill.service_account_id, []))
    now = timezone.now()
    copy_rows(
        "billing_bill",
        [
            "id",
            "service_account_id",
            "period",
            "issued_on",
            "due_date",
            "previous_balance",
            "payments_and_credits",
            "new_charges",
            "total_due",
            "past_due_amount",
            "ledger_entry_id",
            "notes",
            "created_at",
        ],
        (
            [
                bill.pk,
                bill.service_account_id,
                bill.period,
                bill.issued_on,
                bill.due_date,
                bill.previous_balance,
                bill.payments_and_credits,
                bill.new_charges,
                bill.total_due,
                bill.past_due_amount,
                bill.ledger_entry_id,
                bill.notes,
                now.isoformat(),
            ]
            for bill in bills
        ),
    )
    # Lines are the bulk of the rows a bill run writes: COPY them.
    copy_rows(
        "billing_billline",
        [
            "bill_id",
            "position",
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
        ],
        (
            [
                bill.pk,
                position,
                line.description[:200],
                line.service,
                line.units,
                line.monthly_charge_per_unit,
                line.consumption_ccf,
                line.charge_per_ccf,
                line.rate_schedule_id,
                line.ledger_entry_id,
                line.amount,
                line.served_from,
                line.served_to,
            ]
            for bill, (_, lines, _) in zip(bills, drafts, strict=True)
            for position, line in enumerate(lines, start=1)
        ),
    )
    result.created += len(bills)
    result.bill_ids.extend(bill.pk for bill in bills)
    if notify and bills:
        # Owed to the queue with the bills themselves: with Redis down, the emails wait (outbox).
        outbox_enqueue("billing.tasks.bills_notify_ready", [[bill.pk for bill in bills]], items=len(bills))
