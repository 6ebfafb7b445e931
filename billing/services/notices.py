from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import NotificationKind
from accounts.notifications import email_send, users_for_account
from billing.models import Bill
from portal.i18n import local_date


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
        url = settings.PORTAL_BASE_URL + reverse("bill_detail", args=[bill.service_account_id, bill.pk])
        email_send(
            kind=NotificationKind.BILL_READY,
            subject=format_lazy(
                _("Your {month} bill for account {number}"),
                month=local_date(bill.period, "YEAR_MONTH_FORMAT"),
                number=bill.service_account.account_number,
            ),
            template="billing/emails/bill_ready",
            context={"bill": bill, "account": bill.service_account, "url": url},
            users=users_for_account(service_account=bill.service_account),
            account_number=bill.service_account.account_number,
            reference=f"bill:{bill.pk}",
        )
        announced += 1
    return announced
