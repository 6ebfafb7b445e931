from celery import shared_task


@shared_task
def outbox_flush_task() -> dict:
    """Every minute: hand the queue the tasks it missed while it was down (portal.outbox)."""
    from portal.outbox import outbox_flush

    return outbox_flush()
