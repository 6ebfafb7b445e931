from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from billing.models import Payment


def payment_send_receipt(*, payment: Payment) -> bool:
    """Email the receipt once: the row is claimed before sending."""
    if payment.status != Payment.Status.SUCCEEDED or not payment.receipt_email:
        return False
    claimed = Payment.objects.filter(pk=payment.pk, receipt_sent_at__isnull=True).update(
        receipt_sent_at=timezone.now()
    )
    if not claimed:
        return False
    context = {
        "payment": payment,
        "utility_name": settings.UTILITY_NAME,
        "utility_phone": settings.UTILITY_PHONE,
    }
    message = EmailMultiAlternatives(
        subject=f"Payment received: {payment.confirmation_number}",
        body=render_to_string("billing/emails/receipt.txt", context),
        to=[payment.receipt_email],
    )
    message.attach_alternative(render_to_string("billing/emails/receipt.html", context), "text/html")
    message.send()
    return True
