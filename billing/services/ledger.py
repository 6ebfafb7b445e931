"""Posting to the ledger: the only code that writes LedgerEntry rows or moves balances.

Locking policy: every posting locks the BillingAccount rows it touches with
SELECT ... FOR NO KEY UPDATE, in primary-key order, so two postings never deadlock and a
balance never misses a row. Blocks stay short and never call Stripe.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from billing.models import LedgerEntry
from kernel.errors import ApplicationError
from kernel.money import ZERO


@dataclass(frozen=True)
class Posting:
    """A ledger row to append. `amount` is signed: positive raises what is owed."""

    service_account_id: int
    kind: str
    amount: Decimal
    posted_on: dt.date
    source_key: str
    due_date: dt.date | None = None
    description: str = ""
    reverses_id: int | None = None


def billing_accounts_ensure(*, service_account_ids: Iterable[int]) -> None:
    """Make sure each service account has its BillingAccount row (the row we lock)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_billingaccount (service_account_id, balance, paperless, updated_at) "
            "SELECT id, 0, false, now() FROM unnest(%s::bigint[]) AS id "
            "ON CONFLICT (service_account_id) DO NOTHING",
            [sorted(set(service_account_ids))],
        )


def billing_accounts_lock(*, service_account_ids: Iterable[int]) -> list[int]:
    """Lock the accounts' balance rows, in primary-key order. Caller holds a transaction."""
    ids = sorted(set(service_account_ids))
    billing_accounts_ensure(service_account_ids=ids)
    # NO KEY UPDATE: blocks other postings to these accounts, not inserts that reference them.
    # Plain SQL with an array: a chunk of a run locks hundreds at once.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT service_account_id FROM billing_billingaccount WHERE service_account_id = ANY(%s) "
            "ORDER BY service_account_id FOR NO KEY UPDATE",
            [ids],
        )
        return [pk for (pk,) in cursor.fetchall()]


# Each row's created_at is the application's clock at the posting, as a bill's is: a bill reads
# the ledger "as it stood when it was made" by comparing the two.
LEDGER_COLUMNS = [
    "service_account_id",
    "kind",
    "amount",
    "posted_on",
    "due_date",
    "description",
    "source_key",
    "reverses_id",
]

POST_SQL = """
WITH added AS (
    INSERT INTO billing_ledgerentry ({columns}, created_at)
    SELECT {columns}, %s
    FROM unnest(%s::bigint[], %s::text[], %s::numeric[], %s::date[], %s::date[], %s::text[], %s::text[],
                %s::bigint[]) AS v({columns})
    ON CONFLICT (source_key) DO NOTHING
    RETURNING id, {columns}, created_at
), moved AS (
    UPDATE billing_billingaccount b SET balance = b.balance + d.delta, updated_at = now()
    FROM (SELECT service_account_id, sum(amount) AS delta FROM added GROUP BY service_account_id) d
    WHERE b.service_account_id = d.service_account_id
    RETURNING 1
)
SELECT * FROM added
""".format(columns=", ".join(LEDGER_COLUMNS))  # noqa: S608 (column names, not input)


def ledger_post(*, postings: Sequence[Posting]) -> list[LedgerEntry]:
    """Append ledger rows and move the balances with them, in one transaction.

    Safe to replay: a posting whose source_key is already in the ledger is skipped, and
    only the rows actually added are returned, in the order given. The caller may hold a
    transaction.
    """
    if not postings:
        return []
    keys = [p.source_key for p in postings]
    if len(set(keys)) != len(keys):
        raise ApplicationError("The same source key appears twice in one posting.")
    with transaction.atomic():
        billing_accounts_lock(service_account_ids=[p.service_account_id for p in postings])
        # After taking the locks: a concurrent replay of the same postings has either committed
        # (and its rows are skipped here) or waits for us. Rows and balances in one statement.
        with connection.cursor() as cursor:
            cursor.execute(
                POST_SQL,
                [
                    timezone.now(),
                    [p.service_account_id for p in postings],
                    [p.kind for p in postings],
                    [p.amount for p in postings],
                    [p.posted_on for p in postings],
                    [p.due_date for p in postings],
                    [p.description[:200] for p in postings],
                    keys,
                    [p.reverses_id for p in postings],
                ],
            )
            names = [column.name for column in cursor.description]
            rows = cursor.fetchall()
    order = {key: n for n, key in enumerate(keys)}
    entries = [LedgerEntry.from_db("default", names, row) for row in rows]
    return sorted(entries, key=lambda entry: order[entry.source_key])


POST_STAGED_SQL = """
WITH added AS (
    INSERT INTO billing_ledgerentry
        (service_account_id, kind, amount, posted_on, due_date, description, source_key, created_at)
    SELECT s.service_account_id, s.kind, s.amount, s.posted_on, s.due_date, left(s.description, 200),
           s.source_key, %(now)s
    FROM {table} s
    WHERE NOT EXISTS (SELECT 1 FROM billing_ledgerentry e WHERE e.source_key = s.source_key)
    ORDER BY s.ordinal
    ON CONFLICT (source_key) DO NOTHING
    RETURNING service_account_id, amount
), moved AS (
    UPDATE billing_billingaccount b SET balance = b.balance + d.delta, updated_at = now()
    FROM (SELECT service_account_id, sum(amount) AS delta FROM added GROUP BY service_account_id) d
    -- The staged accounts as an array, so their balance rows are found by index: a join the
    -- planner may answer by reading every balance row, each chunk of a run.
    WHERE b.service_account_id = d.service_account_id
        AND b.service_account_id = ANY(ARRAY(SELECT DISTINCT service_account_id FROM {table}))
    RETURNING 1
)
SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM moved)
"""


def ledger_post_staged(*, table: str, locked: bool = False) -> int:
    """Append the rows of a staging table (service_account_id, kind, signed amount, posted_on,
    due_date, description, source_key, each source_key once, and ordinal: the order the rows
    are written in, as a file's line number) and move the balances with them,
    set-based: what ledger_post does for an import of millions of rows. The same rules hold: the
    accounts' balance rows are locked in primary-key order first, and a source_key already in the
    ledger is skipped. Returns how many rows were added. The caller holds a transaction, and with
    `locked`, the balance rows of every account in the table (a bill run locks its chunk first)."""
    with connection.cursor() as cursor:
        if not locked:
            cursor.execute(f"SELECT DISTINCT service_account_id FROM {table}")  # noqa: S608
            billing_accounts_lock(service_account_ids=[pk for (pk,) in cursor.fetchall()])
        cursor.execute(POST_STAGED_SQL.format(table=table), {"now": timezone.now()})
        added, _ = cursor.fetchone()
    return added


def ledger_reverse(
    *,
    entry: LedgerEntry,
    posted_on: dt.date,
    source_key: str,
    description: str,
    amount: Decimal | None = None,
) -> LedgerEntry | None:
    """Post a reversing row for `entry` (all of what is left of it, or `amount` of it).

    A reversal of a charge lowers what is owed on that charge; a reversal of a payment
    (a bounced check) raises it again. Returns None when the source_key was posted before.
    """
    with transaction.atomic():
        billing_accounts_lock(service_account_ids=[entry.service_account_id])
        if LedgerEntry.objects.filter(source_key=source_key).exists():
            return None  # a replay
        already = sum((r.amount for r in entry.reversals.all()), ZERO)
        left = entry.amount + already
        reverse = -left if amount is None else (-amount if entry.amount > 0 else amount)
        if left == 0 or abs(reverse) > abs(left) or reverse == 0:
            raise ApplicationError("That amount is more than what is left of the row to reverse.")
        posted = ledger_post(
            postings=[
                Posting(
                    service_account_id=entry.service_account_id,
                    kind=LedgerEntry.Kind.REVERSAL,
                    amount=reverse,
                    posted_on=posted_on,
                    source_key=source_key,
                    description=description,
                    reverses_id=entry.pk,
                )
            ]
        )
    return posted[0] if posted else None
