"""Work for the Celery queue that is never lost when Redis is down.

Code that writes something and then owes the queue a task (the bill run's "bill ready" emails,
a payment's receipt, the chunks of a fanned-out run) calls `outbox_enqueue` inside its
transaction. The task is recorded in the database with the write, so both happen or neither
does; it is handed to the broker when the transaction commits. When the broker does not answer,
the row waits and `outbox_flush` (beat, every minute) hands it over once Redis is back. Every
task sent this way is safe to run twice, because a row can be handed over twice (sent, then the
mark lost). A task that cannot be sent for a reason of its own (renamed in a deploy) is marked
failed with its error and skipped, so it never holds up the others; staff see it in admin. A task that cannot be sent for a reason of its own (renamed in a deploy) is marked
failed with its error and skipped, so it never holds up the others; staff see it in admin.

After one failure this process stops trying for BROKER_RETRY_SECONDS, so a bill run with Redis
down costs one timeout, not one per chunk.
"""

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from kernel.models import OutboxTask

logger = logging.getLogger(__name__)

BROKER_RETRY_SECONDS = 60
# A row younger than this is left to the commit hook that is about to send it.
FLUSH_GRACE_SECONDS = 30
KEEP_SENT_DAYS = 30
_broker_down_until = 0.0


def outbox_enqueue(task: str, args: list, *, items: int = 1) -> OutboxTask:
    """Record `task(*args)` as owed to the queue, in the caller's transaction; send on commit."""
    row = OutboxTask.objects.create(task=task, args=args, items=items)
    transaction.on_commit(lambda: _send_after_commit(row.pk), robust=True)
    return row


def _send_after_commit(pk: int) -> None:
    if time.monotonic() < _broker_down_until:
        return  # the broker failed a moment ago: outbox_flush sends it
    with transaction.atomic():
        # Locked, so a flush running now skips it rather than sending it too.
        row = (
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, queued_at__isnull=True)
            .first()
        )
        if row is not None:
            _send(row)


# What a broker that is down or unreachable raises; anything else is this one task's fault.
BROKER_DOWN = (OperationalError, RedisError, ConnectionError, TimeoutError, OSError)


def _send(row: OutboxTask) -> bool | None:
    """True: handed over. False: the broker is down (try later). None: this task cannot be
    sent (renamed in a deploy, arguments that do not encode): recorded on the row for staff and
    skipped, so it does not hold up the rest."""
    global _broker_down_until
    try:
        import_string(row.task).apply_async(args=row.args)
    except BROKER_DOWN:
        _broker_down_until = time.monotonic() + BROKER_RETRY_SECONDS
        OutboxTask.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        logger.warning(
            "The queue did not take task %s (outbox %s); outbox_flush will send it", row.task, row.pk
        )
        return False
    except Exception as exc:  # noqa: BLE001 (one task's fault must not stop the others)
        OutboxTask.objects.filter(pk=row.pk).update(
            attempts=F("attempts") + 1,
            failed_at=timezone.now(),
            last_error=f"{type(exc).__name__}: {exc}"[:500],
        )
        logger.error("Outbox task %s (%s) cannot be sent: %s", row.pk, row.task, type(exc).__name__)
        return None
    OutboxTask.objects.filter(pk=row.pk).update(queued_at=timezone.now(), attempts=F("attempts") + 1)
    return True


def outbox_flush(*, grace_seconds: int = FLUSH_GRACE_SECONDS, chunk_size: int = 200) -> dict:
    """Hand the queue every task still owed to it. Stops at the first failure (the broker is
    still down); the next flush goes on. Safe to run in several processes at once."""
    global _broker_down_until
    _broker_down_until = 0.0
    sent = 0
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    while True:
        with transaction.atomic():
            rows = list(
                OutboxTask.objects.select_for_update(skip_locked=True)
                .filter(queued_at__isnull=True, failed_at__isnull=True, created_at__lte=cutoff)
                .order_by("pk")[:chunk_size]
            )
            if not rows:
                break
            down = False
            for row in rows:
                outcome = _send(row)
                if outcome is False:
                    down = True
                    break
                sent += outcome is True
        if down:
            break
    # Sent long ago: kept a while for questions ("was the receipt queued?"), then let go.
    OutboxTask.objects.filter(queued_at__lt=timezone.now() - timedelta(days=KEEP_SENT_DAYS)).delete()
    return {"sent": sent, "waiting": outbox_waiting()}


def outbox_waiting(*, task: str | None = None, since=None) -> int:
    """How many items (emails, accounts) wait for the queue, for one task or all, of the rows
    written since a moment (a run's start) or ever."""
    rows = OutboxTask.objects.filter(queued_at__isnull=True, failed_at__isnull=True)
    if task:
        rows = rows.filter(task=task)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return rows.aggregate(total=Sum("items"))["total"] or 0
