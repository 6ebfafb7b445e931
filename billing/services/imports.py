"""The CSV imports of INTERFACES.md: transactions, rates, services and meter reads.

Each checks the whole file first and reports every problem with its line number; only a
file with no problems is written, in one transaction.
"""

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction

from accounts.models import ServiceAccount
from billing.calendar import parse_date, parse_period
from billing.models import (
    AccountService,
    BillLine,
    IntervalRead,
    LedgerEntry,
    RateSchedule,
    Service,
)
from billing.services.ledger import ledger_post_staged
from kernel.csvimport import CsvImportError, CsvRow, CsvStream, ImportSummary, csv_stage, read_csv
from kernel.db import staging_table
from kernel.money import parse_money


def _account_ids(rows: list[CsvRow], errors: list[str]) -> dict[str, int]:
    """Look up every account number in the file at once; report the unknown ones."""
    numbers = {row["account_number"] for row in rows if row["account_number"]}
    found = dict(
        ServiceAccount.objects.filter(account_number__in=numbers).values_list("account_number", "pk")
    )
    for row in rows:
        number = row["account_number"]
        if not number:
            errors.append(f"line {row.line}: account_number is required")
        elif number not in found:
            errors.append(f"line {row.line}: account_number {number} does not exist")
    return found


def _decimal(value: str, *, places: int) -> Decimal | None:
    try:
        number = Decimal(value)
    except ArithmeticError:
        return None
    if not number.is_finite() or number.as_tuple().exponent < -places:
        return None
    return number


# --- transactions.csv ---------------------------------------------------------------

TRANSACTION_KINDS = {
    "charge": (LedgerEntry.Kind.CHARGE, 1),
    "late_fee": (LedgerEntry.Kind.LATE_FEE, 1),
    "door_hanger_fee": (LedgerEntry.Kind.DOOR_HANGER_FEE, 1),
    "payment": (LedgerEntry.Kind.PAYMENT, -1),
    "credit": (LedgerEntry.Kind.CREDIT, -1),
}


TRANSACTION_STAGING = [
    ("line", "integer"),
    ("ok", "boolean"),  # no problem found on the row itself (its account is checked in SQL)
    ("ref", "text"),
    ("account_number", "text"),
    ("kind", "text"),
    ("amount", "numeric(12, 2)"),  # signed, as posted
    ("posted_on", "date"),
    ("due_date", "date"),
    ("description", "text"),
]

# Problems found in SQL, each as (line, order among the line's problems, message).
TRANSACTION_CHECKS_SQL = """
SELECT s.line, 0, 'account_number ' || s.account_number || ' does not exist'
FROM import_transactions s
WHERE s.account_number <> ''
  AND NOT EXISTS (SELECT 1 FROM accounts_serviceaccount a WHERE a.account_number = s.account_number)
UNION ALL
SELECT line, 1, 'ref ' || ref || ' already appears on line ' || first
FROM (SELECT line, ref, min(line) OVER (PARTITION BY ref) AS first FROM import_transactions WHERE ref <> '') d
WHERE line > first
UNION ALL
SELECT s.line, 9, 'ref ' || s.ref || ' was imported before with other values; '
                  || 'the ledger cannot be edited, so post a correcting row with a new ref'
FROM import_transactions s
JOIN accounts_serviceaccount a ON a.account_number = s.account_number
JOIN billing_ledgerentry e ON e.source_key = 'import:' || s.ref
WHERE s.ok AND (e.service_account_id, e.kind, e.amount, e.posted_on, e.due_date)
      IS DISTINCT FROM (a.id, s.kind, s.amount, s.posted_on, s.due_date)
  -- A ref repeated in the file is reported once, as repeated.
  AND NOT EXISTS (SELECT 1 FROM import_transactions p WHERE p.ref = s.ref AND p.line < s.line)
"""

TRANSACTIONS_TO_POST_SQL = """
SELECT a.id AS service_account_id, s.kind, s.amount, s.posted_on, s.due_date, s.description,
       'import:' || s.ref AS source_key, s.line AS ordinal
FROM import_transactions s JOIN accounts_serviceaccount a ON a.account_number = s.account_number
"""


def transactions_import(*, path: str | Path) -> ImportSummary:
    """Append ledger history from transactions.csv. Idempotent by `ref`; all rows or none.

    A ref imported before with the same values is left as it is; with other values it is
    an error, because the ledger cannot be edited (post a correction instead).

    The file is streamed: each row is checked on its own as it is read and COPYed into a staging
    table, then the checks that need the other rows (accounts, repeated refs, refs imported
    before) run set-based in SQL, so a file of millions of rows takes constant memory.
    """
    required = ["ref", "account_number", "date", "kind", "amount"]
    with (
        transaction.atomic(),
        CsvStream(path, required=required, optional=["due_date", "description"]) as stream,
    ):
        problems: list[tuple[int, int, str]] = []
        rows = csv_stage(
            stream,
            table="import_transactions",
            columns=TRANSACTION_STAGING,
            rows=_transaction_rows(stream, problems),
            problems=problems,
            checks_sql=TRANSACTION_CHECKS_SQL,
            empty="the file has no transaction rows",
        )
        added = ledger_post_staged(table=staging_table("import_postings", query=TRANSACTIONS_TO_POST_SQL))
    return ImportSummary(created=added, unchanged=rows - added, ignored_columns=stream.ignored_columns)


def _transaction_rows(stream: CsvStream, problems: list):
    """Each row of transactions.csv checked on its own, for the staging table: problems are added
    to `problems` as (line, order, message) and the row is still staged, for the checks across
    rows."""
    ref_at, account_at, date_at, kind_at, amount_at = (
        stream.index(name) for name in ("ref", "account_number", "date", "kind", "amount")
    )
    due_at, description_at = stream.index("due_date"), stream.index("description")
    # Dates and amounts repeat across a file's rows: each text is parsed once, and staged as the
    # text COPY reads (formatting a date or Decimal per row was a third of the import's Python).
    dates = functools.lru_cache(maxsize=100_000)(_iso_date)
    amounts = functools.lru_cache(maxsize=100_000)(_signed_amount)
    for line, values in stream:
        if not values[account_at]:
            problems.append((line, 0, "account_number is required"))
        found = []
        ref, number, kind_text, amount_text = (
            values[ref_at],
            values[account_at],
            values[kind_at],
            values[amount_at],
        )
        due_text = values[due_at] if due_at is not None else ""
        description = values[description_at] if description_at is not None else ""
        if not ref:
            found.append("ref is required")
        if len(ref) > 100:
            found.append("ref is longer than 100 characters")
        posted_on = dates(values[date_at])
        if posted_on is None:
            found.append(f"date {values[date_at]!r} is not a date like 2026-07-01")
        kind = TRANSACTION_KINDS.get(kind_text)
        if kind is None:
            found.append(f"kind {kind_text!r} is not one of: {', '.join(TRANSACTION_KINDS)}")
        kind_value, sign = kind or ("", 1)
        amount = amounts(amount_text, sign)
        if amount is None:
            found.append(f"amount {amount_text!r} is not a positive amount with two decimals, like 45.10")
        due_date = None
        if due_text:
            due_date = dates(due_text)
            if due_date is None:
                found.append(f"due_date {due_text!r} is not a date like 2026-07-20")
        elif kind is not None and kind[1] > 0:
            found.append(f"due_date is required for a {kind_text}")
        if len(description) > 200:
            found.append("description is longer than 200 characters")
        problems.extend((line, 2, problem) for problem in found)
        yield (
            line,
            not found and bool(number),
            ref,
            number,
            kind_value,
            amount,
            posted_on,
            due_date if sign > 0 else None,
            description,
        )


def _iso_date(text: str) -> str | None:
    day = parse_date(text)
    return day.isoformat() if day is not None else None


def _signed_amount(text: str, sign: int) -> str | None:
    """A positive amount's text as posted (negative for payments and credits), or None."""
    amount = parse_money(text)
    return str(amount * sign) if amount is not None and amount > 0 else None


# --- rates.csv ----------------------------------------------------------------------------


def rates_import(*, path: str | Path) -> ImportSummary:
    """Create or update rate schedules from rates.csv; all rows or none.

    A schedule that bills have already used cannot change: those bills were issued with it.
    """
    csv_file = read_csv(
        path,
        required=["service", "effective_date", "monthly_charge_per_unit"],
        optional=["charge_per_ccf"],
    )
    errors: list[str] = []
    incoming = _rate_rows(csv_file.rows, errors)
    result = ImportSummary(ignored_columns=csv_file.ignored_columns)
    changes = _rate_changes(incoming, result, errors)
    if errors:
        raise CsvImportError(errors)
    if not csv_file.rows:
        raise CsvImportError(["the file has no rate rows"])
    with transaction.atomic():
        for schedule in changes:
            if schedule.pk is None:
                result.created += 1
            else:
                result.updated += 1
            schedule.save()
    return result


def _rate_rows(
    rows: list[CsvRow], errors: list[str]
) -> dict[tuple[str, object], tuple[int, Decimal, Decimal]]:
    """Each row of rates.csv checked: (service, effective date) -> (line, monthly, per CCF) for
    the good rows; each problem added to `errors`."""
    incoming: dict[tuple[str, object], tuple[int, Decimal, Decimal]] = {}
    for row in rows:
        problems = []
        service = row["service"]
        if service not in Service.values:
            problems.append(f"service {service!r} is not one of: {', '.join(Service.values)}")
        effective = parse_date(row["effective_date"])
        if effective is None:
            problems.append(f"effective_date {row['effective_date']!r} is not a date like 2026-07-01")
        monthly = _decimal(row["monthly_charge_per_unit"], places=4)
        if monthly is None or monthly < 0:
            problems.append(
                f"monthly_charge_per_unit {row['monthly_charge_per_unit']!r} is not an amount like 42.15"
            )
        per_ccf = _decimal(row["charge_per_ccf"] or "0", places=4)
        if per_ccf is None or per_ccf < 0:
            problems.append(f"charge_per_ccf {row['charge_per_ccf']!r} is not an amount like 3.2100")
        elif per_ccf and service != Service.WATER:
            problems.append("charge_per_ccf applies to water only; leave it empty for this service")
        key = (service, effective)
        if not problems and key in incoming:
            problems.append(f"{service} from {effective} already appears on line {incoming[key][0]}")
        errors.extend(f"line {row.line}: {p}" for p in problems)
        if not problems:
            incoming[key] = (row.line, monthly, per_ccf)
    return incoming


def _rate_changes(incoming: dict, result: ImportSummary, errors: list[str]) -> list[RateSchedule]:
    """The schedules to create or change (unchanged ones counted in `result`); a change to a
    schedule bills used is added to `errors`."""
    existing = {
        (s.service, s.effective_date): s
        for s in RateSchedule.objects.filter(service__in={k[0] for k in incoming})
    }
    used = set(
        BillLine.objects.filter(rate_schedule__in=list(existing.values()))
        .values_list("rate_schedule_id", flat=True)
        .distinct()
    )
    changes = []
    for key, (line, monthly, per_ccf) in incoming.items():
        schedule = existing.get(key)
        if schedule is None:
            changes.append(
                RateSchedule(
                    service=key[0],
                    effective_date=key[1],
                    monthly_charge_per_unit=monthly,
                    charge_per_ccf=per_ccf,
                )
            )
        elif (schedule.monthly_charge_per_unit, schedule.charge_per_ccf) != (monthly, per_ccf):
            if schedule.pk in used:
                errors.append(
                    f"line {line}: the {key[0]} rates from {key[1]} were used on bills already and "
                    "cannot change; add a schedule with a new effective date"
                )
            schedule.monthly_charge_per_unit, schedule.charge_per_ccf = monthly, per_ccf
            changes.append(schedule)
        else:
            result.unchanged += 1
    return changes


# --- services.csv -------------------------------------------------------------------------


def services_import(*, path: str | Path) -> ImportSummary:
    """Which services each account takes, and how many units; a second import replaces units."""
    csv_file = read_csv(path, required=["account_number", "service", "units"], optional=[])
    errors: list[str] = []
    accounts = _account_ids(csv_file.rows, errors)
    incoming: dict[tuple[int, str], tuple[int, Decimal]] = {}
    for row in csv_file.rows:
        problems = []
        service = row["service"]
        if service not in Service.values:
            problems.append(f"service {service!r} is not one of: {', '.join(Service.values)}")
        units = _decimal(row["units"], places=3)
        if units is None or units <= 0:
            problems.append(f"units {row['units']!r} is not a positive number like 1 or 1.5")
        elif units >= Decimal("10000000"):
            problems.append(f"units {row['units']!r} is too large")
        account_id = accounts.get(row["account_number"])
        key = (account_id, service)
        if not problems and account_id and key in incoming:
            problems.append(f"{row['account_number']} {service} already appears on line {incoming[key][0]}")
        errors.extend(f"line {row.line}: {p}" for p in problems)
        if not problems and account_id:
            incoming[key] = (row.line, units)
    if errors:
        raise CsvImportError(errors)
    if not csv_file.rows:
        raise CsvImportError(["the file has no service rows"])
    result = ImportSummary(ignored_columns=csv_file.ignored_columns)
    with transaction.atomic():
        existing = {
            (s.service_account_id, s.service): s
            for s in AccountService.objects.select_for_update().filter(
                service_account_id__in={k[0] for k in incoming}
            )
        }
        to_create, to_update = [], []
        for (account_id, service), (_, units) in incoming.items():
            current = existing.get((account_id, service))
            if current is None:
                to_create.append(AccountService(service_account_id=account_id, service=service, units=units))
            elif current.units != units:
                current.units = units
                to_update.append(current)
            else:
                result.unchanged += 1
        AccountService.objects.bulk_create(to_create, batch_size=2000)
        AccountService.objects.bulk_update(to_update, ["units"], batch_size=2000)
    result.created, result.updated = len(to_create), len(to_update)
    return result


# --- meter_reads.csv ----------------------------------------------------------------------


METER_READ_STAGING = [
    ("line", "integer"),
    ("ok", "boolean"),
    ("account_number", "text"),
    ("period", "date"),
    ("consumption_ccf", "numeric(10, 2)"),
]

# The checks across rows, as (line, order among the line's problems, message), over the staged
# rows joined to their accounts (m.account_id is null for an unknown number).
METER_READ_CHECKS_SQL = """
WITH m AS (
    SELECT s.*, a.id AS account_id,
           EXISTS (SELECT 1 FROM billing_accountservice x
                   WHERE x.service_account_id = a.id AND x.service = %(water)s) AS water
    FROM import_meter_reads s LEFT JOIN accounts_serviceaccount a ON a.account_number = s.account_number
), fine AS (
    SELECT m.*, min(line) OVER (PARTITION BY account_id, period) AS first
    FROM m WHERE ok AND account_id IS NOT NULL AND water
)
SELECT line, 0, 'account_number ' || account_number || ' does not exist'
FROM m WHERE account_number <> '' AND account_id IS NULL
UNION ALL
SELECT line, 3, 'account ' || account_number || ' does not take water service'
FROM m WHERE account_id IS NOT NULL AND NOT water
UNION ALL
SELECT line, 4, account_number || ' ' || to_char(period, 'YYYY-MM') || ' already appears on line ' || first
FROM fine WHERE line > first
UNION ALL
SELECT f.line, 5, to_char(f.period, 'YYYY-MM') || ' was billed with ' || r.consumption_ccf
                  || ' CCF and cannot change; a clerk can post an adjustment instead'
FROM fine f
JOIN billing_meterread r ON r.service_account_id = f.account_id AND r.period = f.period
WHERE f.line = f.first AND r.consumption_ccf <> f.consumption_ccf
  AND EXISTS (SELECT 1 FROM billing_bill b WHERE b.service_account_id = f.account_id AND b.period = f.period)
"""

METER_READS_WRITE_SQL = """
WITH incoming AS (
    SELECT a.id AS account_id, s.period, s.consumption_ccf
    FROM import_meter_reads s JOIN accounts_serviceaccount a ON a.account_number = s.account_number
), counted AS (
    SELECT count(*) FILTER (WHERE r.id IS NULL) AS created,
           count(*) FILTER (WHERE r.consumption_ccf <> i.consumption_ccf) AS updated,
           count(*) FILTER (WHERE r.consumption_ccf = i.consumption_ccf) AS unchanged
    FROM incoming i
    LEFT JOIN billing_meterread r ON r.service_account_id = i.account_id AND r.period = i.period
), written AS (
    INSERT INTO billing_meterread (service_account_id, period, consumption_ccf)
    SELECT account_id, period, consumption_ccf FROM incoming
    ON CONFLICT (service_account_id, period) DO UPDATE SET consumption_ccf = EXCLUDED.consumption_ccf
    WHERE billing_meterread.consumption_ccf <> EXCLUDED.consumption_ccf
    RETURNING 1
)
SELECT created, updated, unchanged, (SELECT count(*) FROM written) FROM counted
"""


def meter_reads_import(*, path: str | Path) -> ImportSummary:
    """Water use per account and service month. A month already billed cannot change.

    Streamed like transactions_import: rows checked as read into a staging table, the checks
    across rows in SQL, then one upsert."""
    with (
        transaction.atomic(),
        CsvStream(path, required=["account_number", "period", "consumption_ccf"], optional=[]) as stream,
    ):
        problems: list[tuple[int, int, str]] = []
        csv_stage(
            stream,
            table="import_meter_reads",
            columns=METER_READ_STAGING,
            rows=_meter_read_rows(stream, problems),
            problems=problems,
            checks_sql=METER_READ_CHECKS_SQL,
            params={"water": Service.WATER.value},
            empty="the file has no meter read rows",
        )
        with connection.cursor() as cursor:
            cursor.execute(METER_READS_WRITE_SQL)
            created, updated, unchanged, _ = cursor.fetchone()
            cursor.execute("SELECT DISTINCT period FROM import_meter_reads")
            periods = {period for (period,) in cursor.fetchall()}
    # Each month just read: high use against the account's own history, told once.
    from billing.services.usage_alerts import high_usage_alerts_send

    high_usage_alerts_send(periods=periods)
    return ImportSummary(
        created=created, updated=updated, unchanged=unchanged, ignored_columns=stream.ignored_columns
    )


def _meter_read_rows(stream: CsvStream, problems: list):
    """Each row of meter_reads.csv checked on its own, for the staging table."""
    account_at, period_at, consumption_at = (
        stream.index(name) for name in ("account_number", "period", "consumption_ccf")
    )
    periods = functools.lru_cache(maxsize=10_000)(parse_period)
    for line, values in stream:
        number, period_text, consumption_text = values[account_at], values[period_at], values[consumption_at]
        if not number:
            problems.append((line, 0, "account_number is required"))
        found = []
        period = periods(period_text)
        if period is None:
            found.append(f"period {period_text!r} is not a month like 2026-10")
        consumption = _decimal(consumption_text, places=2)
        if consumption is None or consumption < 0:
            found.append(f"consumption_ccf {consumption_text!r} is not a number of CCF like 7 or 7.25")
            consumption = None
        elif consumption >= Decimal("100000000"):
            found.append(f"consumption_ccf {consumption_text!r} is too large")
            consumption = None
        problems.extend((line, 2, problem) for problem in found)
        yield line, not found and bool(number), number, period, consumption


# --- interval_reads.csv -------------------------------------------------------------------


def interval_reads_import(*, path: str | Path) -> ImportSummary:
    """Smart meters' reads, an interval (an hour, say) per row: account_number, starts_at (ISO
    8601 with its UTC offset, like 2026-11-30T14:00:00-08:00) and gallons. All rows or none; then
    the continuous-flow check for each account in the file."""
    csv_file = read_csv(path, required=["account_number", "starts_at", "gallons"], optional=[])
    errors: list[str] = []
    accounts = _account_ids(csv_file.rows, errors)
    incoming: dict[tuple[int, dt.datetime], tuple[int, Decimal]] = {}
    for row in csv_file.rows:
        problems = []
        try:
            starts = dt.datetime.fromisoformat(row["starts_at"])
        except ValueError:
            starts = None
        if starts is None or starts.tzinfo is None:
            problems.append(f"starts_at {row['starts_at']!r} is not a time like 2026-11-30T14:00:00-08:00")
        gallons = _decimal(row["gallons"], places=2)
        if gallons is None or gallons < 0 or gallons >= Decimal("100000000"):
            problems.append(f"gallons {row['gallons']!r} is not a number of gallons like 12 or 12.5")
        account_id = accounts.get(row["account_number"])
        key = (account_id, starts)
        if not problems and account_id and key in incoming:
            problems.append(
                f"{row['account_number']} {row['starts_at']} already appears on line {incoming[key][0]}"
            )
        errors.extend(f"line {row.line}: {p}" for p in problems)
        if not problems and account_id:
            incoming[key] = (row.line, gallons)
    if errors:
        raise CsvImportError(errors)
    if not csv_file.rows:
        raise CsvImportError(["the file has no interval read rows"])
    existing = {
        (r.service_account_id, r.starts_at): r
        for r in IntervalRead.objects.filter(
            service_account_id__in={k[0] for k in incoming},
            starts_at__gte=min(k[1] for k in incoming),
            starts_at__lte=max(k[1] for k in incoming),
        )
    }
    result = ImportSummary(ignored_columns=csv_file.ignored_columns)
    to_create, to_update = [], []
    for key, (_line, gallons) in incoming.items():
        read = existing.get(key)
        if read is None:
            to_create.append(IntervalRead(service_account_id=key[0], starts_at=key[1], gallons=gallons))
        elif read.gallons != gallons:
            read.gallons = gallons
            to_update.append(read)
        else:
            result.unchanged += 1
    with transaction.atomic():
        IntervalRead.objects.bulk_create(to_create, batch_size=5000)
        IntervalRead.objects.bulk_update(to_update, ["gallons"], batch_size=5000)
    result.created, result.updated = len(to_create), len(to_update)
    from billing.services.usage_alerts import continuous_flow_alert_send

    latest: dict[int, dt.datetime] = {}
    for account_id, starts in incoming:
        latest[account_id] = max(latest.get(account_id, starts), starts)
    for account_id, last in latest.items():
        continuous_flow_alert_send(service_account_id=account_id, until=last + dt.timedelta(hours=1))
    return result
