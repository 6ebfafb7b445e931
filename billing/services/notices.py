from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.notifications import email_send, users_for_account
from billing.hooks import past_due_help
from billing.models import Bill
from billing.notification_kinds import BILL_READY, PAST_DUE
from kernel.i18n import local_date


def bills_send_ready_notices(*, bill_ids: list[int]) -> int:
    """Email each linked login that a bill is ready; returns how many bills were announced.

    Each bill is claimed (ready_notice_sent_at set) before its emails go out, so a task
    that runs twice never sends a second notice.
    """
    announced = 0
    help_links = past_due_help()
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
            kind=BILL_READY,
            subject=format_lazy(
                _("Your {month} bill for account {number}"),
                month=local_date(bill.period, "YEAR_MONTH_FORMAT"),
                number=bill.service_account.account_number,
            ),
            template="billing/emails/bill_ready",
            context={"bill": bill, "account": bill.service_account, "url": url, "past_due_help": help_links},
            users=users_for_account(service_account=bill.service_account),
            account_number=bill.service_account.account_number,
            reference=f"bill:{bill.pk}",
        )
        announced += 1
    return announced


def delinquent_offer_send(*, service_account, by) -> int:
    """A clerk following up a past-due account offers a payment plan and bill assistance: the
    linked logins (and the account's own email) are emailed in their language, and the offer is
    noted on the account's contact log. Returns how many emails went."""
    from accounts.models import AccountNote
    from billing.calendar import local_today
    from billing.selectors import account_past_due
    from kernel.errors import ApplicationError
    from kernel.money import money

    if not by.has_perm("accounts.add_accountnote"):
        raise ApplicationError("Your role cannot contact customers about their accounts.")
    past_due = account_past_due(service_account=service_account, as_of=local_today())
    users = users_for_account(service_account=service_account)
    addresses = [service_account.email] if service_account.email else []
    if not users and not addresses:
        raise ApplicationError(
            f"Account {service_account.account_number} has no email: call, or print the past-due letter."
        )
    sent = email_send(
        kind=PAST_DUE,
        subject=format_lazy(
            _("Help with the past-due balance on account {number}"), number=service_account.account_number
        ),
        template="emails/notice",
        context={
            "lines": [
                format_lazy(
                    _("Account {number} has {amount} past due."),
                    number=service_account.account_number,
                    amount=money(past_due),
                ),
                _(
                    "If it is hard to pay it all at once, we can spread it over monthly payments with a payment "
                    "plan, and you may qualify for bill assistance, a credit on your bill."
                ),
                format_lazy(_("Call us at {phone}, or ask online."), phone=settings.UTILITY_PHONE),
            ],
            "link": settings.PORTAL_BASE_URL + reverse("service_account_detail", args=[service_account.pk]),
            "link_text": _("See the account and the options"),
        },
        users=users,
        addresses=addresses,
        required=True,
        reference=f"offer:{service_account.pk}:{local_today().isoformat()}",
        account_number=service_account.account_number,
    )
    AccountNote.objects.create(
        service_account=service_account,
        author=by,
        channel=AccountNote.Channel.EMAIL,
        text=f"Emailed the payment plan and bill assistance offer ({money(past_due)} past due).",
    )
    return sent


OFFER_LETTER_PAY_WITHIN_DAYS = 14


def delinquent_offer_letter(*, service_account, by) -> bytes:
    """The same offer as a letter to print and mail (for a customer with no email, or who asks
    for paper): a PDF in the account's language, noted on the contact log."""
    import datetime as dt

    from django.template.loader import render_to_string
    from django.utils import translation

    from accounts.models import AccountNote
    from accounts.notifications import account_language
    from billing.calendar import local_today
    from billing.layout import LAYOUT
    from billing.pdf import return_stub, utility_context
    from billing.selectors import account_past_due
    from kernel.errors import ApplicationError
    from kernel.money import money
    from kernel.pdf import html_to_pdf

    if not by.has_perm("accounts.add_accountnote"):
        raise ApplicationError("Your role cannot contact customers about their accounts.")
    today = local_today()
    past_due = account_past_due(service_account=service_account, as_of=today)
    if past_due <= 0:
        raise ApplicationError(f"Nothing is past due on account {service_account.account_number}.")
    language = account_language(service_account=service_account)
    with translation.override(language):
        html = render_to_string(
            "billing/offer_letter.html",
            {
                "account": service_account,
                "past_due": past_due,
                "today": today,
                "language": language,
                "layout": LAYOUT,
                "utility": utility_context(),
                "stub": return_stub(
                    account=service_account,
                    date_label=_("Pay by"),
                    date=today + dt.timedelta(days=OFFER_LETTER_PAY_WITHIN_DAYS),
                    amount_label=_("Amount past due"),
                    amount=past_due,
                ),
            },
        )
    pdf = html_to_pdf(html)
    AccountNote.objects.create(
        service_account=service_account,
        author=by,
        channel=AccountNote.Channel.LETTER,
        text=f"Printed the payment plan and bill assistance offer letter ({money(past_due)} past due).",
    )
    return pdf
