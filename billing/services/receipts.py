from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.notifications import email_send
from billing.models import Payment
from billing.notification_kinds import PAYMENT_RECEIVED


def payment_send_receipt(*, payment: Payment) -> bool:
    """Email the receipt once (the row is claimed before sending).

    A customer who paid while signed in gets it if their "payment received" switch is on;
    an address typed in for this payment (quick pay, a phone payment) always gets it.
    """
    if payment.status != Payment.Status.SUCCEEDED or not payment.receipt_email:
        return False
    claimed = Payment.objects.filter(pk=payment.pk, receipt_sent_at__isnull=True).update(
        receipt_sent_at=timezone.now()
    )
    if not claimed:
        return False
    payer = (
        payment.created_by if payment.channel in (Payment.Channel.ONLINE, Payment.Channel.AUTOPAY) else None
    )
    return bool(
        email_send(
            kind=PAYMENT_RECEIVED,
            subject=format_lazy(_("Payment received: {number}"), number=payment.confirmation_number),
            template="billing/emails/receipt",
            context={"payment": payment},
            users=[payer] if payer else [],
            addresses=[] if payer else [payment.receipt_email],
            account_number=payment.service_account.account_number if payment.service_account_id else "",
            reference=f"payment:{payment.pk}",
        )
    )
