"""Mail, lobby, drop-box and lockbox payments, entered by clerks in batches with a control total."""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import ServiceAccount, User
from accounts.selectors import account_number_key
from billing.calendar import parse_date
from billing.models import LedgerEntry, LockboxException, Payment, PaymentBatch
from billing.models.payments import CONFIRMATION_ALPHABET
from billing.scanline import scan_line_read
from billing.services.ledger import ledger_post_staged
from kernel.audit import audit_record
from kernel.csvimport import CsvImportError, CsvStream, csv_stage
from kernel.db import insert_values, staging_table
from kernel.errors import ApplicationError
from kernel.money import ZERO, parse_money


def batch_keyed_by(*, batch: PaymentBatch, user: User) -> bool:
    """Whether this login opened the batch or entered any of its payments."""
    return batch.created_by_id == user.pk or batch.payments.filter(created_by=user).exists()


def _difference(count: int, total: Decimal, batch: PaymentBatch) -> str:
    parts = []
    if count != batch.control_count:
        missing = batch.control_count - count
        parts.append(f"{abs(missing)} payment(s) {'short' if missing > 0 else 'too many'}")
    if total != batch.control_total:
        missing = batch.control_total - total
        parts.append(f"${abs(missing):,.2f} {'short' if missing > 0 else 'over'}")
    return " and ".join(parts)


def payment_batch_post_refusal(
    *, batch: PaymentBatch, user: User | None, imported: bool = False
) -> str | None:
    """Why this login cannot post this batch as it stands, in words, or None when it can.

    Under the two-person rule (TWO_PERSON_RULE) nobody who keyed any of it may post it; a lockbox
    file (the bank's own count, nobody keyed it) is posted by its import (`imported=True`).
    """
    if batch.status == PaymentBatch.Status.POSTED:
        return "This batch was posted already."
    if batch.status == PaymentBatch.Status.VOIDED:
        return "This batch was voided; it cannot be posted."
    if settings.TWO_PERSON_RULE and not imported and (user is None or batch_keyed_by(batch=batch, user=user)):
        return (
            "You keyed this batch, so someone else must post it: another clerk or a supervisor. "
            "Nothing was posted."
        )
    totals = batch.payments.aggregate(count=Count("pk"), total=Sum("amount"))
    count, total = totals["count"], totals["total"] or ZERO
    if (count, total) != (batch.control_count, batch.control_total):
        return (
            f"The batch does not add up: {count} payment(s) entered totalling ${total:,.2f}; the "
            f"control is {batch.control_count} totalling ${batch.control_total:,.2f} "
            f"({_difference(count, total, batch)}). Nothing was posted."
        )
    return None


# A batch's payments as ledger postings, for ledger_post_staged: "Mail payment, check 1234".
BATCH_POSTINGS_SQL = """
SELECT p.service_account_id, %(kind)s::text AS kind, -p.amount AS amount, p.received_on AS posted_on,
       NULL::date AS due_date,
       COALESCE(c.label, p.channel) || ' payment'
           || CASE WHEN p.check_number <> '' THEN ', check ' || p.check_number ELSE '' END AS description,
       'payment:' || p.id AS source_key, p.id AS ordinal
FROM billing_payment p
LEFT JOIN unnest(%(channels)s::text[], %(labels)s::text[]) AS c(channel, label) ON c.channel = p.channel
WHERE p.batch_id = %(batch)s
"""

# Each payment linked to its ledger row, looked up by key row by row (a join would read the ledger).
BATCH_SETTLE_SQL = """
UPDATE billing_payment p
SET ledger_entry_id = (SELECT e.id FROM billing_ledgerentry e WHERE e.source_key = 'payment:' || p.id),
    status = %(succeeded)s, settled_at = %(now)s, updated_at = %(now)s
WHERE p.batch_id = %(batch)s
"""


def payment_batch_payments_save(*, batch: PaymentBatch, payments, deleted, by: User) -> None:
    """Save the checks a clerk keyed into an open batch (each takes the batch's channel and deposit
    date, and waits to be posted) and delete those removed. The batch is locked and checked
    again: one posted or voided while the form was open takes no more payments (they would never
    reach the ledger)."""
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != PaymentBatch.Status.OPEN:
            raise ApplicationError(
                f"The batch was {batch.get_status_display().lower()} meanwhile; its payments were not changed."
            )
        channel = {"mail": "mail", "lobby": "lobby", "drop_box": "drop_box"}.get(batch.kind, "mail")
        for payment in payments:
            payment.batch = batch
            payment.channel = channel
            payment.received_on = batch.deposit_date
            payment.status = Payment.Status.PENDING
            payment.created_by = payment.created_by or by
            payment.save()
        for payment in deleted:
            payment.delete()


def payment_batch_post(*, batch: PaymentBatch, user: User | None, imported: bool = False) -> PaymentBatch:
    """Post every payment of the batch to the ledger, only when count and total match the control
    and the login may post it (`payment_batch_post_refusal`).

    All or none, in one transaction with the batch row and its payments locked: a batch posts once.
    Set-based, so a lockbox file of any size posts in a few statements.
    """
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), COALESCE(sum(amount), 0) FROM "
                "(SELECT amount FROM billing_payment WHERE batch_id = %s ORDER BY id FOR UPDATE) p",
                [batch.pk],
            )
            count, total = cursor.fetchone()
        refusal = payment_batch_post_refusal(batch=batch, user=user, imported=imported)
        if refusal:
            raise ApplicationError(refusal)
        now = timezone.now()
        ledger_post_staged(
            table=staging_table(
                "batch_postings",
                query=BATCH_POSTINGS_SQL,
                params={
                    "kind": LedgerEntry.Kind.PAYMENT,
                    "channels": [channel.value for channel in Payment.Channel],
                    "labels": [str(channel.label) for channel in Payment.Channel],
                    "batch": batch.pk,
                },
            )
        )
        with connection.cursor() as cursor:
            cursor.execute(
                BATCH_SETTLE_SQL, {"succeeded": Payment.Status.SUCCEEDED, "now": now, "batch": batch.pk}
            )
        batch.status = PaymentBatch.Status.POSTED
        batch.posted_by = user
        batch.posted_at = now
        batch.save(update_fields=["status", "posted_by", "posted_at"])
        audit_record(
            actor=user,
            action="batch.post",
            target=batch,
            summary=f"Posted payment batch {batch}: {count} payment(s), ${total:,.2f}",
            changes={"status": ["open", "posted"], "count": count, "total": total},
        )
    return batch


def payment_batch_void(*, batch: PaymentBatch, user: User, reason: str) -> PaymentBatch:
    """Set aside an open batch that was keyed wrong (its control total is fixed when it is
    opened): its payments never reach the ledger; the checks are keyed again in a new batch."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Say why the batch is voided.")
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != PaymentBatch.Status.OPEN:
            raise ApplicationError(
                f"Only an open batch can be voided; this one is {batch.get_status_display()}."
            )
        count = batch.payments.update(status=Payment.Status.CANCELED, failure_message="Batch voided")
        batch.status = PaymentBatch.Status.VOIDED
        batch.note = f"{batch.note} Voided: {reason}".strip()[:200]
        batch.save(update_fields=["status", "note"])
        audit_record(
            actor=user,
            action="batch.void",
            target=batch,
            summary=f"Voided payment batch {batch}: {reason}",
            changes={"status": ["open", "voided"], "payments": count, "reason": reason},
        )
    return batch


@dataclass
class LockboxResult:
    batch: PaymentBatch | None
    posted: int = 0
    total: Decimal = ZERO
    exceptions: list[str] = field(default_factory=list)


LOCKBOX_STAGING = [
    ("line", "integer"),
    ("account_number", "text"),
    ("scan_line", "text"),
    ("scan_key", "text"),  # the account key the scan line reads as, when it reads
    ("check_number", "text"),
    ("amount", "numeric(12,2)"),
    ("paid_on", "date"),
]

# Each row with the account its number names and the one its scan line names (by the same key
# as service_account_find_by_number, through its index).
LOCKBOX_MATCH_SQL = """
SELECT s.*, typed.id AS typed_id, scanned.id AS scanned_id
FROM lockbox_rows s
LEFT JOIN accounts_serviceaccount typed ON s.account_number <> '' AND typed.account_number = s.account_number
LEFT JOIN LATERAL (
    SELECT a.id FROM accounts_serviceaccount a
    WHERE s.scan_key IS NOT NULL AND upper(replace(a.account_number, '-', '')) = s.scan_key
    ORDER BY a.id LIMIT 1
) scanned ON true
"""

# Rows for a clerk: the number and the scan line name different accounts, or no account is found.
LOCKBOX_HELD_SQL = """
SELECT line, account_number, scan_line, scan_key IS NOT NULL, check_number, amount, paid_on,
       scanned_id IS NOT NULL AND typed_id IS NOT NULL
FROM lockbox_matched
WHERE (scanned_id IS NOT NULL AND typed_id IS NOT NULL AND typed_id <> scanned_id)
   OR (typed_id IS NULL AND scanned_id IS NULL)
ORDER BY line
"""

LOCKBOX_POSTED = """
FROM lockbox_matched
WHERE COALESCE(typed_id, scanned_id) IS NOT NULL AND (scanned_id IS NULL OR typed_id IS NULL OR typed_id = scanned_id)
"""

CONFIRMATION_CHARACTERS = 9


def _confirmation_sql() -> str:
    """A payment's confirmation number drawn in SQL as new_confirmation_number draws it in Python:
    "P" and nine characters of CONFIRMATION_ALPHABET, each from a random byte of its own
    (gen_random_uuid, a strong random source; the alphabet has 32 characters, so a byte modulo 32
    picks each evenly)."""
    picks = " || ".join(
        "substr(%(alphabet)s, get_byte(uuid_send(gen_random_uuid()), 0) %% 32 + 1, 1)"
        for _ in range(CONFIRMATION_CHARACTERS)
    )
    return f"'P' || {picks}"


def _lockbox_rows(stream: CsvStream, problems: list):
    """Each row of a lockbox file checked on its own, for the staging table."""
    account_at, amount_at, check_at, date_at = (
        stream.index(name) for name in ("account_number", "amount", "check_number", "date")
    )
    scan_at = stream.index("scan_line")
    for line, values in stream:
        amount, paid_on = parse_money(values[amount_at]), parse_date(values[date_at])
        if amount is None or amount <= 0:
            problems.append((line, 0, f"amount {values[amount_at]!r} is not a positive amount like 45.10"))
            amount = None
        if paid_on is None:
            problems.append((line, 1, f"date {values[date_at]!r} is not a date like 2026-07-01"))
        scan_line = values[scan_at] if scan_at is not None else ""
        read = scan_line_read(scan_line) if scan_line else None
        yield (
            line,
            values[account_at],
            scan_line,
            account_number_key(read[0]) if read else None,
            values[check_at],
            amount,
            paid_on,
        )


def _file_digest(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def lockbox_import(*, path: str | Path, user: User | None = None) -> LockboxResult:
    """The bank's lockbox file: `account_number,amount,check_number,date`, and optionally
    `scan_line`, the stub's scan line as the bank's machine read it.

    A row names its account by number, or, with the number left blank, by the scan line (whose
    check digit must match). Rows that match an account are posted as one lockbox batch; rows
    that match no account are listed as exceptions for a clerk (and not posted). A file is
    imported once.

    The file is streamed into a staging table and matched, held and posted set-based, so a file of
    any size takes the same memory (only the list of exceptions grows with them).
    """
    with (
        transaction.atomic(),
        CsvStream(
            path, required=["account_number", "amount", "check_number", "date"], optional=["scan_line"]
        ) as stream,
    ):
        digest = _file_digest(path)
        note = f"lockbox file {digest[:16]}"
        with connection.cursor() as cursor:
            # The same file imported twice at once: the second waits here, then finds the first.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [note])
        if PaymentBatch.objects.filter(kind=PaymentBatch.Kind.LOCKBOX, note=note).exists():
            raise CsvImportError(["this lockbox file was imported before; nothing was imported"])
        problems: list[tuple[int, int, str]] = []
        csv_stage(
            stream,
            table="lockbox_rows",
            columns=LOCKBOX_STAGING,
            rows=_lockbox_rows(stream, problems),
            problems=problems,
        )
        staging_table("lockbox_matched", query=LOCKBOX_MATCH_SQL)
        result = LockboxResult(batch=None)
        _lockbox_hold(result, digest=digest)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), COALESCE(sum(amount), 0), max(paid_on) {LOCKBOX_POSTED}")  # noqa: S608
            count, total, deposit_date = cursor.fetchone()
        if not count:
            return result
        batch = PaymentBatch.objects.create(
            kind=PaymentBatch.Kind.LOCKBOX,
            deposit_date=deposit_date,
            control_total=total,
            control_count=count,
            note=note,
            created_by=user,
        )
        _lockbox_payments(batch, user=user)
        payment_batch_post(batch=batch, user=user, imported=True)
    result.batch = batch
    result.posted = count
    result.total = total
    return result


def _lockbox_hold(result: LockboxResult, *, digest: str) -> None:
    """Keep the rows a clerk must resolve (LockboxException, shown on the staff home) and list them."""
    held = []
    with connection.cursor() as cursor:
        cursor.execute(LOCKBOX_HELD_SQL)
        for line, number, scan_line, reads, check, amount, paid_on, disagree in cursor.fetchall():
            if disagree:
                reason = f"account {number} and scan line {scan_line!r} name different accounts"
            elif number:
                reason = f"account {number} not found"
            elif not scan_line:
                reason = "account (blank) not found"
            else:
                said = "reads but matches no account" if reads else "does not read"
                reason = f"account (scan line {scan_line.strip()!r} {said}) not found"
            result.exceptions.append(
                f"line {line}: {reason}: check {check} for ${amount:,.2f} dated {paid_on}"
            )
            held.append(
                LockboxException(
                    file_digest=digest[:16],
                    line=line,
                    account_text=(number or scan_line or "")[:200],
                    check_number=check[:32],
                    amount=amount,
                    paid_on=paid_on,
                    reason=reason[:300],
                )
            )
    LockboxException.objects.bulk_create(held, batch_size=5000, ignore_conflicts=True)


def _lockbox_payments(batch: PaymentBatch, *, user: User | None) -> None:
    """The matched rows as the batch's check payments, in the file's order, each with its own
    confirmation number (drawn again for the rare one already taken)."""
    columns, expressions, params = insert_values(
        Payment,
        {
            "service_account_id": "COALESCE(typed_id, scanned_id)",
            "amount": "amount",
            "channel": "%(channel)s",
            "method": "%(method)s",
            "check_number": "left(check_number, 32)",
            "received_on": "paid_on",
            "batch_id": "%(batch)s",
            "created_by_id": "%(user)s",
            "confirmation_number": "confirmation",
        },
    )
    params.update(
        channel=Payment.Channel.LOCKBOX,
        method=Payment.Method.CHECK,
        batch=batch.pk,
        user=user.pk if user else None,
        alphabet=CONFIRMATION_ALPHABET,
    )
    draw = _confirmation_sql()
    staging_table(
        "lockbox_payments", query=f"SELECT *, {draw} AS confirmation {LOCKBOX_POSTED}", params=params
    )
    with connection.cursor() as cursor:
        while True:
            # A number some payment has, or two rows drew alike: draw those again.
            cursor.execute(
                f"UPDATE lockbox_payments r SET confirmation = {draw} FROM ("  # noqa: S608
                "  SELECT line, row_number() OVER (PARTITION BY confirmation ORDER BY line) AS n FROM lockbox_payments"
                ") d WHERE d.line = r.line AND (d.n > 1 OR EXISTS ("
                "  SELECT 1 FROM billing_payment p WHERE p.confirmation_number = r.confirmation))",
                params,
            )
            if not cursor.rowcount:
                break
        cursor.execute(
            f"INSERT INTO billing_payment ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(expressions)} FROM lockbox_payments ORDER BY line",
            params,
        )


def lockbox_exception_post(*, exception: LockboxException, account: ServiceAccount, by: User) -> Payment:
    """Match a lockbox check to the account the clerk found (from the stub, the check or a call):
    a lockbox batch of one, its amount and date as the bank's file gave them, posted by another
    person under the two-person rule."""
    if not by.has_perm("billing.add_payment"):
        raise ApplicationError("Your role cannot post payments.")
    with transaction.atomic():
        exception = LockboxException.objects.select_for_update().get(pk=exception.pk)
        if exception.status != LockboxException.Status.OPEN:
            raise ApplicationError(f"This check was {exception.get_status_display().lower()} already.")
        batch = PaymentBatch.objects.create(
            kind=PaymentBatch.Kind.LOCKBOX,
            deposit_date=exception.paid_on,
            control_total=exception.amount,
            control_count=1,
            note=f"lockbox exception {exception.pk}",
            created_by=by,
        )
        payment = Payment.objects.create(
            service_account=account,
            amount=exception.amount,
            channel=Payment.Channel.LOCKBOX,
            method=Payment.Method.CHECK,
            check_number=exception.check_number,
            received_on=exception.paid_on,
            batch=batch,
            created_by=by,
        )
        # The amount and date are the bank's, but the account is the clerk's choice: under the
        # two-person rule the batch waits in "Payment batches to post" for someone else.
        if not payment_batch_post_refusal(batch=batch, user=by):
            payment_batch_post(batch=batch, user=by)
        exception.status = LockboxException.Status.POSTED
        exception.payment = payment
        exception.resolved_by = by
        exception.resolved_at = timezone.now()
        exception.save(update_fields=["status", "payment", "resolved_by", "resolved_at"])
        audit_record(
            actor=by,
            action="lockbox.exception_post",
            target=exception,
            summary=f"{by.email} posted lockbox check {exception.check_number} (${exception.amount:,.2f}) "
            f"to account {account.account_number}",
            account_number=account.account_number,
        )
    return payment


def lockbox_exception_return(*, exception: LockboxException, by: User, note: str) -> LockboxException:
    """The check could not be matched and went back to the sender: the clerk says how."""
    if not by.has_perm("billing.add_payment"):
        raise ApplicationError("Your role cannot resolve lockbox checks.")
    note = (note or "").strip()
    if not note:
        raise ApplicationError("Say how the check went back (for example: mailed back to the payer on 12/2).")
    with transaction.atomic():
        exception = LockboxException.objects.select_for_update().get(pk=exception.pk)
        if exception.status != LockboxException.Status.OPEN:
            raise ApplicationError(f"This check was {exception.get_status_display().lower()} already.")
        exception.status = LockboxException.Status.RETURNED
        exception.resolution_note = note[:300]
        exception.resolved_by = by
        exception.resolved_at = timezone.now()
        exception.save(update_fields=["status", "resolution_note", "resolved_by", "resolved_at"])
        audit_record(
            actor=by,
            action="lockbox.exception_return",
            target=exception,
            summary=f"{by.email} returned lockbox check {exception.check_number} (${exception.amount:,.2f}): {note}",
        )
    return exception
