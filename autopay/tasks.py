import datetime as dt

from celery import shared_task

from billing.calendar import local_today


@shared_task(acks_late=True)
def autopay_daily() -> dict:
    """Daily: reminders for upcoming drafts, then today's drafts spread over workers in chunks.
    Safe to run twice: every draft is unique per enrollment and period."""
    from autopay.services.drafts import autopay_run, autopay_send_reminders

    today = local_today()
    reminders = autopay_send_reminders(on=today)
    autopay_run(on=today, fan_out=True)
    return {"date": today.isoformat(), "reminders": reminders}


@shared_task(acks_late=True)
def autopay_draft_chunk(due: list[dict], on: str) -> dict:
    """One chunk of the day's drafts."""
    from autopay.services.drafts import Due, autopay_draft_many

    items = [
        Due(
            **{
                **d,
                "period": dt.date.fromisoformat(str(d["period"])),
                "draft_date": dt.date.fromisoformat(str(d["draft_date"])),
            }
        )
        for d in due
    ]
    result = autopay_draft_many(due=items, on=dt.date.fromisoformat(on))
    return {"drafted": result.drafted, "succeeded": result.succeeded, "failed": result.failed}
