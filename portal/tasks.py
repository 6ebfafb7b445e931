from celery import shared_task


@shared_task
def outbox_flush_task() -> dict:
    """Every minute: hand the queue the tasks it missed while it was down (portal.outbox)."""
    from portal.outbox import outbox_flush

    return outbox_flush()


@shared_task(acks_late=True)
def run_execute_task(run_pk: int) -> str:
    """A run started from the staff pages (portal.runs)."""
    from portal.runs import run_execute

    return run_execute(run_pk).status
