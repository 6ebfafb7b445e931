from celery import shared_task


@shared_task(acks_late=True)
def texts_send_queued_task() -> int:
    """Every ten minutes: the texts that waited for the end of quiet hours. Safe to run twice."""
    from accounts.texts import texts_send_queued

    return texts_send_queued()
