"""Posting to the ledger: the only code that writes LedgerEntry rows or moves balances.

Locking policy: every posting locks the BillingAccount rows it touches with
SELECT ... FOR NO KEY UPDATE, in primary-key order, so two postings never deadlock and a
balance never misses a row. Blocks stay short and never call Stripe.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from billing.models import BillingAccount, LedgerEntry
from portal.errors import ApplicationError
from portal.money import ZERO


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
    wanted = set(service_account_ids)
    missing = wanted - set(BillingAccount.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    rows = [BillingAccount(service_account_id=pk) for pk in missing]
    BillingAccount.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)


def billing_accounts_lock(*, service_account_ids: Iterable[int]) -> list[int]:
    """Lock the accounts' balance rows, in primary-key order. Caller holds a transaction."""
    ids = sorted(set(service_account_ids))
    billing_accounts_ensure(service_account_ids=ids)
    # NO KEY UPDATE: blocks other postings to these accounts, not inserts that reference them.
    return list(
        BillingAccount.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def ledger_post(*, postings: Sequence[Posting]) -> list[LedgerEntry]:
    """Append ledger rows and move the balances with them, in one transaction.

    Safe to replay: a posting whose source_key is already in the ledger is skipped, and
    only the rows actually added are returned. The caller may hold a transaction.
    """
    if not postings:
        return []
    keys = [p.source_key for p in postings]
    if len(set(keys)) != len(keys):
        raise ApplicationError("The same source key appears twice in one posting.")
    with transaction.atomic():
        billing_accounts_lock(service_account_ids=[p.service_account_id for p in postings])
        # Checked after taking the locks: a concurrent replay of the same postings has
        # either committed (and is seen here) or waits for us.
        existing = set(LedgerEntry.objects.filter(source_key__in=keys).values_list("source_key", flat=True))
        new = [p for p in postings if p.source_key not in existing]
        entries = LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    service_account_id=p.service_account_id,
                    kind=p.kind,
                    amount=p.amount,
                    posted_on=p.posted_on,
                    due_date=p.due_date,
                    description=p.description[:200],
                    source_key=p.source_key,
                    reverses_id=p.reverses_id,
                )
                for p in new
            ],
            batch_size=2000,
        )
        deltas: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for p in new:
            deltas[p.service_account_id] += p.amount
        _balances_add(deltas)
    return entries


POST_STAGED_SQL = """
WITH added AS (
    INSERT INTO billing_ledgerentry
        (service_account_id, kind, amount, posted_on, due_date, description, source_key, created_at)
    SELECT s.service_account_id, s.kind, s.amount, s.posted_on, s.due_date, left(s.description, 200),
           s.source_key, now()
    FROM {table} s
    WHERE NOT EXISTS (SELECT 1 FROM billing_ledgerentry e WHERE e.source_key = s.source_key)
    ORDER BY s.service_account_id, s.posted_on, s.source_key
    RETURNING service_account_id, amount
), moved AS (
    UPDATE billing_billingaccount b SET balance = b.balance + d.delta, updated_at = now()
    FROM (SELECT service_account_id, sum(amount) AS delta FROM added GROUP BY service_account_id) d
    WHERE b.service_account_id = d.service_account_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM moved)
"""


def ledger_post_staged(*, table: str) -> int:
    """Append the rows of a staging table (service_account_id, kind, signed amount, posted_on,
    due_date, description, source_key, each source_key once) and move the balances with them,
    set-based: what ledger_post does for an import of millions of rows. The same rules hold: the
    accounts' balance rows are locked in primary-key order first, and a source_key already in the
    ledger is skipped. Returns how many rows were added. The caller holds a transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_billingaccount (service_account_id, balance, paperless, updated_at) "  # noqa: S608
            f"SELECT DISTINCT service_account_id, 0, false, now() FROM {table} "
            "ON CONFLICT (service_account_id) DO NOTHING"
        )
        cursor.execute(
            "SELECT service_account_id FROM billing_billingaccount "  # noqa: S608
            f"WHERE service_account_id IN (SELECT service_account_id FROM {table}) "
            "ORDER BY service_account_id FOR NO KEY UPDATE"
        )
        cursor.execute(POST_STAGED_SQL.format(table=table))
        added, _ = cursor.fetchone()
    return added


def _balances_add(deltas: dict[int, Decimal]) -> None:
    """Move many balances in one statement (the rows are locked by the caller)."""
    if not deltas:
        return
    items = sorted(deltas.items())
    values = ", ".join(["(%s, %s::numeric)"] * len(items))
    params = [value for item in items for value in item]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE billing_billingaccount AS b SET balance = b.balance + v.delta, updated_at = now() "  # noqa: S608
            f"FROM (VALUES {values}) AS v(id, delta) WHERE b.service_account_id = v.id",
            params,
        )


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
