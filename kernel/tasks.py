from celery import shared_task

# The names these tasks had before the kernel moved out of portal/, so a message queued by an
# earlier release (and the beat schedule) still finds them.


@shared_task(name="portal.tasks.outbox_flush_task")
def outbox_flush_task() -> dict:
    """Every minute: hand the queue the tasks it missed while it was down (kernel.outbox)."""
    from kernel.outbox import outbox_flush

    return outbox_flush()


@shared_task(name="portal.tasks.run_execute_task", acks_late=True)
def run_execute_task(run_pk: int) -> str:
    """A run started from the staff pages (kernel.runs)."""
    from kernel.runs import run_execute

    return run_execute(run_pk).status
