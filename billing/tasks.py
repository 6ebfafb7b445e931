import logging

from celery import shared_task

from billing.calendar import add_months, local_today

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def bills_run_previous_month() -> dict:
    """Monthly: bill the service month that just ended. Safe to run twice."""
    from billing.services.bills import bills_run

    period = add_months(local_today().replace(day=1), -1)
    # The chunks go to the workers: more workers, on more machines, make the run shorter.
    result = bills_run(period=period, fan_out=True)
    return {"period": f"{period:%Y-%m}", "queued": result.queued}


@shared_task(acks_late=True)
def bills_run_chunk(account_ids: list[int], period: str, issued_on: str, notify: bool) -> dict:
    """A chunk of a bill run. Safe to run twice: billed accounts are skipped under their locks."""
    import datetime as dt

    from billing.services.bills import bills_run_chunk as run_chunk

    result = run_chunk(
        account_ids=account_ids,
        period=dt.date.fromisoformat(period),
        issued_on=dt.date.fromisoformat(issued_on),
        notify=notify,
    )
    return {"created": result.created, "missing_reads": result.missing_reads}


@shared_task(acks_late=True)
def bills_notify_ready(bill_ids: list[int]) -> int:
    """Email the linked logins that their bill is ready. Safe to run twice: each bill's
    notice is recorded once (see billing.services.notices)."""
    from billing.services.notices import bills_send_ready_notices

    return bills_send_ready_notices(bill_ids=bill_ids)


@shared_task(acks_late=True)
def payment_after_success(payment_id: int) -> None:
    """After a payment succeeds: keep the card if asked, and send the receipt (once)."""
    from billing.models import Payment
    from billing.services.payments import payment_keep_card
    from billing.services.receipts import payment_send_receipt

    payment = Payment.objects.get(pk=payment_id)
    payment_keep_card(payment=payment)
    payment_send_receipt(payment=payment)


@shared_task(acks_late=True)
def payments_after_success(payment_ids: list[int]) -> None:
    """payment_after_success for the payments settled together (an autopay chunk). One that fails
    does not hold up the others' receipts; the reconciliation finishes it later."""
    failed = None
    for payment_id in payment_ids:
        try:
            payment_after_success(payment_id)
        except Exception as exc:  # noqa: BLE001 (raised again below, after the rest)
            logger.warning("After-payment work failed for payment %s", payment_id)
            failed = failed or exc
    if failed is not None:
        raise failed


@shared_task(acks_late=True)
def payments_reconcile_task() -> dict:
    """Every 15 minutes: settle payments left pending by asking Stripe. Safe to run twice."""
    from billing.services.payments import payments_reconcile

    return payments_reconcile()
