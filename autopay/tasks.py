import datetime as dt

from celery import shared_task

from billing.calendar import local_today


@shared_task(acks_late=True)
def autopay_daily() -> dict:
    """Daily: reminders for upcoming drafts and scheduled payments, bank debits settled, scheduled
    payments made, then today's drafts spread over workers in chunks.
    Safe to run twice: every draft is unique per enrollment and period."""
    from autopay.services.bank import bank_payments_settle
    from autopay.services.drafts import autopay_run, autopay_send_reminders
    from autopay.services.scheduled import scheduled_payments_remind, scheduled_payments_run

    today = local_today()
    reminders = autopay_send_reminders(on=today) + scheduled_payments_remind(on=today)
    # Bank debits whose settlement date has come post today; accounts past their prenote wait are verified.
    settled = bank_payments_settle(on=today)
    scheduled = scheduled_payments_run(on=today)
    autopay_run(on=today, fan_out=True)
    return {
        "date": today.isoformat(),
        "reminders": reminders,
        "settled": settled,
        "scheduled_paid": scheduled.paid + scheduled.sent,
    }


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
