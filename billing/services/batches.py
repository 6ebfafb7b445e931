"""Mail, lobby, drop-box and lockbox payments, entered by clerks in batches with a control total."""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import ServiceAccount, User
from accounts.selectors import service_account_find_by_number
from billing.calendar import parse_date
from billing.models import LedgerEntry, LockboxException, Payment, PaymentBatch
from billing.scanline import scan_line_read
from billing.services.ledger import Posting, ledger_post
from portal.audit import audit_record
from portal.csvimport import CsvImportError, read_csv
from portal.errors import ApplicationError
from portal.money import ZERO, parse_money


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


def payment_batch_post(*, batch: PaymentBatch, user: User | None, imported: bool = False) -> PaymentBatch:
    """Post every payment of the batch to the ledger, only when count and total match the control
    and the login may post it (`payment_batch_post_refusal`).

    All or none, in one transaction with the batch row and its payments locked: a batch posts once.
    """
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        payments = list(batch.payments.select_for_update().order_by("pk"))
        refusal = payment_batch_post_refusal(batch=batch, user=user, imported=imported)
        if refusal:
            raise ApplicationError(refusal)
        count, total = len(payments), sum((p.amount for p in payments), ZERO)
        postings = [
            Posting(
                service_account_id=p.service_account_id,
                kind=LedgerEntry.Kind.PAYMENT,
                amount=-p.amount,
                posted_on=p.received_on,
                description=f"{p.get_channel_display()} payment"
                + (f", check {p.check_number}" if p.check_number else ""),
                source_key=f"payment:{p.pk}",
            )
            for p in payments
        ]
        entries = {e.source_key: e for e in ledger_post(postings=postings)}
        now = timezone.now()
        for p in payments:
            p.ledger_entry = entries.get(f"payment:{p.pk}")
            p.status = Payment.Status.SUCCEEDED
            p.settled_at = now
        Payment.objects.bulk_update(payments, ["ledger_entry", "status", "settled_at"])
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


def _scan_line_said(text: str) -> str:
    if not text:
        return "(blank)"
    return f"(scan line {text.strip()!r} {'reads but matches no account' if scan_line_read(text) else 'does not read'})"


def lockbox_import(*, path: str | Path, user: User | None = None) -> LockboxResult:
    """The bank's lockbox file: `account_number,amount,check_number,date`, and optionally
    `scan_line`, the stub's scan line as the bank's machine read it.

    A row names its account by number, or, with the number left blank, by the scan line (whose
    check digit must match). Rows that match an account are posted as one lockbox batch; rows
    that match no account are listed as exceptions for a clerk (and not posted). A file is
    imported once.
    """
    raw = Path(path).read_bytes() if Path(path).is_file() else b""
    csv_file = read_csv(
        path, required=["account_number", "amount", "check_number", "date"], optional=["scan_line"]
    )
    digest = hashlib.sha256(raw).hexdigest()
    note = f"lockbox file {digest[:16]}"
    if PaymentBatch.objects.filter(kind=PaymentBatch.Kind.LOCKBOX, note=note).exists():
        raise CsvImportError(["this lockbox file was imported before; nothing was imported"])
    errors, rows = [], []
    numbers = {row["account_number"] for row in csv_file.rows}
    accounts = dict(
        ServiceAccount.objects.filter(account_number__in=numbers).values_list("account_number", "pk")
    )
    # The scan line, when the bank's machine read one, names the account too: it stands in for a
    # blank or unknown number, and a row whose number and scan line disagree waits for a clerk.
    disagree: set[int] = set()
    for row in csv_file.rows:
        if not row["scan_line"]:
            continue
        read = scan_line_read(row["scan_line"])
        found = service_account_find_by_number(number=read[0]) if read else None
        if found is None:
            continue
        typed = row["account_number"]
        if typed and typed in accounts and accounts[typed] != found.pk:
            disagree.add(row.line)
        elif not typed or typed not in accounts:
            row.values["account_number"] = found.account_number
            accounts[found.account_number] = found.pk
    result = LockboxResult(batch=None)
    held = []  # rows for a clerk: kept as LockboxException, shown on the staff home
    for row in csv_file.rows:
        amount = parse_money(row["amount"])
        paid_on = parse_date(row["date"])
        problems = []
        if amount is None or amount <= 0:
            problems.append(f"amount {row['amount']!r} is not a positive amount like 45.10")
        if paid_on is None:
            problems.append(f"date {row['date']!r} is not a date like 2026-07-01")
        if problems:
            errors.extend(f"line {row.line}: {p}" for p in problems)
        elif row.line in disagree:
            reason = (
                f"account {row['account_number']} and scan line {row['scan_line']!r} name different accounts"
            )
            result.exceptions.append(
                f"line {row.line}: {reason}: check {row['check_number']} for ${amount:,.2f} dated {paid_on}"
            )
            held.append((row, amount, paid_on, reason))
        elif row["account_number"] not in accounts:
            reason = f"account {row['account_number'] or _scan_line_said(row['scan_line'])} not found"
            result.exceptions.append(
                f"line {row.line}: {reason}: check {row['check_number']} for ${amount:,.2f} dated {paid_on}"
            )
            held.append((row, amount, paid_on, reason))
        else:
            rows.append((accounts[row["account_number"]], amount, row["check_number"][:32], paid_on))
    if errors:
        raise CsvImportError(errors)
    LockboxException.objects.bulk_create(
        [
            LockboxException(
                file_digest=digest[:16],
                line=row.line,
                account_text=(row["account_number"] or row["scan_line"] or "")[:200],
                check_number=row["check_number"][:32],
                amount=amount,
                paid_on=paid_on,
                reason=reason[:300],
            )
            for row, amount, paid_on, reason in held
        ],
        ignore_conflicts=True,
    )
    if not rows:
        return result
    with transaction.atomic():
        batch = PaymentBatch.objects.create(
            kind=PaymentBatch.Kind.LOCKBOX,
            deposit_date=max(r[3] for r in rows),
            control_total=sum((r[1] for r in rows), ZERO),
            control_count=len(rows),
            note=note,
            created_by=user,
        )
        Payment.objects.bulk_create(
            [
                Payment(
                    service_account_id=account_id,
                    amount=amount,
                    channel=Payment.Channel.LOCKBOX,
                    method=Payment.Method.CHECK,
                    check_number=check,
                    received_on=paid_on,
                    batch=batch,
                    created_by=user,
                )
                for account_id, amount, check, paid_on in rows
            ]
        )
        payment_batch_post(batch=batch, user=user, imported=True)
    result.batch = batch
    result.posted = len(rows)
    result.total = batch.control_total
    return result


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
