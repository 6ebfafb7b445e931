from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.models import Bill


def bills_send_ready_notices(*, bill_ids: list[int]) -> int:
    """Email each linked login that a bill is ready; returns how many bills were announced.

    Each bill is claimed (ready_notice_sent_at set) before its emails go out, so a task
    that runs twice never sends a second notice.
    """
    announced = 0
    bills = Bill.objects.filter(pk__in=bill_ids, ready_notice_sent_at__isnull=True).select_related(
        "service_account"
    )
    for bill in bills:
        claimed = Bill.objects.filter(pk=bill.pk, ready_notice_sent_at__isnull=True).update(
            ready_notice_sent_at=timezone.now()
        )
        if not claimed:
            continue
        recipients = User.objects.filter(
            account_links__service_account=bill.service_account, is_active=True
        ).values_list("email", flat=True)
        url = settings.PORTAL_BASE_URL + reverse("bill_detail", args=[bill.service_account_id, bill.pk])
        context = {
            "bill": bill,
            "account": bill.service_account,
            "url": url,
            "utility_name": settings.UTILITY_NAME,
            "utility_phone": settings.UTILITY_PHONE,
        }
        subject = f"Your {bill.period:%B %Y} bill for account {bill.service_account.account_number} is ready"
        for email in recipients:
            message = EmailMultiAlternatives(
                subject=subject,
                body=render_to_string("billing/emails/bill_ready.txt", context),
                to=[email],
            )
            message.attach_alternative(
                render_to_string("billing/emails/bill_ready.html", context), "text/html"
            )
            message.send()
        announced += 1
    return announced
