"""Letters and emails about unpaid bills: past-due notices and the April pre-certification notice
(and, for a utility that shuts service off, late and door-hanger notices). Letters are printed
in one PDF batch for mailing whatever the email switches say; emails follow the switches."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from accounts.notifications import account_language, email_send, users_for_account
from billing.calendar import days_past_due, local_today
from billing.layout import LAYOUT
from billing.models import LedgerEntry
from billing.notification_kinds import PAST_DUE
from billing.pdf import return_stub, utility_context
from billing.selectors import OpenItem, ledger_description, owing_open_items, past_due_total
from certification.models import Notice
from certification.notification_kinds import PRECERTIFICATION
from certification.services.sweep import cutoff_date, latest_due_date
from kernel.i18n import local_date
from kernel.money import ZERO, money
from kernel.pdf import html_to_pdf


@dataclass
class Letter:
    account: ServiceAccount
    amount: Decimal
    lines: list  # lazy texts: written in the letter's language when the batch is printed
    language: str = settings.LANGUAGE_CODE
    title: object = ""
    # Every unpaid charge and fee, with its due date (filled in by _print_batch).
    items: list[OpenItem] = field(default_factory=list)
    pay_by: dt.date | None = None
    # What happens if it stays unpaid (certification, turn-off): lazy text.
    consequence: object = ""
    stub: dict = field(default_factory=dict)
    descriptions: dict = field(default_factory=dict)

    @property
    def charges(self) -> list[tuple[object, dt.date, Decimal]]:
        return [
            (
                ledger_description(kind=item.kind, description=self.descriptions.get(item.entry_id, "")),
                item.due_date,
                item.unpaid,
            )
            for item in self.items
        ]


# The paper each batch is printed on, named on its cover sheet for whoever loads the printer
# (the Astoria program's gold late notice and green door hanger, for example).
def paper_for(kind: str) -> str:
    return {
        Notice.Kind.LATE: settings.LATE_NOTICE_PAPER,
        Notice.Kind.DOOR_HANGER: settings.DOOR_HANGER_PAPER,
    }.get(kind, settings.LETTER_PAPER)


OFFERS = format_lazy(
    _(
        "If you cannot pay it all, call us at {phone}: we offer payment plans and bill assistance. You can "
        "also ask for them online at {url}."
    ),
    phone=settings.UTILITY_PHONE,
    url=settings.PORTAL_BASE_URL + "/assistance/",
)


@dataclass
class NoticeRun:
    kind: str
    letters: list[Letter] = field(default_factory=list)
    batch_file: Path | None = None
    already: int = 0


def _print_batch(run: NoticeRun, *, title: str, name: str, today: dt.date) -> None:
    """One PDF for the run: a cover sheet (what, how many, on which paper), then the letters
    sorted for the mail by ZIP code. Each letter lists every unpaid charge and ends in a
    return stub; a door hanger, left on the door for anyone to read, shows no access code."""
    if not run.letters:
        return
    door_hanger = run.kind == Notice.Kind.DOOR_HANGER
    # Mail is sorted by the ZIP it goes to; door hangers are hung at the service address.
    run.letters.sort(
        key=lambda letter: (
            letter.account.service_zip if door_hanger else letter.account.mail_to_zip,
            letter.account.account_number,
        )
    )
    entry_ids = [item.entry_id for letter in run.letters for item in letter.items]
    descriptions = dict(LedgerEntry.objects.filter(pk__in=entry_ids).values_list("pk", "description"))
    for letter in run.letters:
        letter.descriptions = descriptions
        account = letter.account
        letter.stub = return_stub(
            account=account,
            date_label=_("Pay by"),
            date=letter.pay_by,
            amount_label=_("Amount to pay"),
            amount=letter.amount,
            to_lines=[account.customer_name, account.service_address, account.service_place]
            if door_hanger
            else None,
        )
    html = render_to_string(
        "certification/letters.html",
        {
            "title": title,
            "letters": run.letters,
            "today": today,
            "paper": paper_for(run.kind),
            "door_hanger": door_hanger,
            "layout": LAYOUT,
            "utility": utility_context(),
        },
    )
    folder = Path(settings.NOTICES_ROOT)
    folder.mkdir(parents=True, exist_ok=True)
    run.batch_file = folder / name
    html_to_pdf(html, run.batch_file)


def _record(kind: str, account: ServiceAccount, occasion: str, amount: Decimal, batch: str) -> bool:
    try:
        with transaction.atomic():
            Notice.objects.create(
                kind=kind, service_account=account, occasion=occasion, amount=amount, batch_file=batch
            )
    except IntegrityError:
        return False  # sent before
    return True


def _send(
    run: NoticeRun,
    *,
    kind: str,
    occasion: str,
    email_kind: str,
    subject,
    batch_name: str,
    title: str,
    today: dt.date,
):
    # Recorded and printed together: a batch that fails to print records nothing, so the next
    # run prints those letters instead of taking them for sent.
    with transaction.atomic():
        for letter in run.letters[:]:
            if not _record(kind, letter.account, occasion, letter.amount, batch_name):
                run.letters.remove(letter)
                run.already += 1
        for letter in run.letters:
            letter.language = account_language(service_account=letter.account)
            letter.title = title
        _print_batch(run, title=title, name=batch_name, today=today)
    for letter in run.letters:
        email_send(
            kind=email_kind,
            subject=subject(letter),
            template="emails/notice",
            context={
                "lines": [
                    *letter.lines,
                    format_lazy(
                        _("Please pay {amount} by {date}."),
                        amount=money(letter.amount),
                        date=local_date(letter.pay_by),
                    ),
                    *filter(None, [letter.consequence]),
                    OFFERS,
                ],
                "link": settings.PORTAL_BASE_URL
                + reverse("service_account_detail", args=[letter.account.pk]),
                "link_text": _("See the account and pay online"),
            },
            users=users_for_account(service_account=letter.account),
            account_number=letter.account.account_number,
            reference=f"notice:{kind}:{letter.account.pk}:{occasion}",
        )


def notices_past_due(*, as_of: dt.date) -> NoticeRun:
    """To accounts past due by at least PAST_DUE_NOTICE_MINIMUM on `as_of`, once per date.

    A utility that shuts service off sends none: its late notices and door hangers, with their
    own dates, are the letters, and a monthly letter would promise more time than it has."""
    minimum = Decimal(settings.PAST_DUE_NOTICE_MINIMUM)
    run = NoticeRun(kind=Notice.Kind.PAST_DUE)
    if settings.COLLECTION_PATH != "certify":
        return run
    items = owing_open_items(as_of=as_of)
    accounts = ServiceAccount.objects.in_bulk(list(items))
    for account_id in sorted(items, key=lambda pk: accounts[pk].account_number):
        past_due = past_due_total(items[account_id], as_of=as_of)
        if past_due < minimum:
            continue
        account = accounts[account_id]
        lines = [
            format_lazy(
                _("Our records show {amount} past due on account {number} for {address}."),
                amount=money(past_due),
                number=account.account_number,
                address=account.service_address,
            ),
        ]
        consequence = format_lazy(
            _(
                "Charges still unpaid more than 60 days after their due date on June 20 are certified to the "
                "{county} tax roll with a {fee} processing fee."
            ),
            county=settings.CERTIFICATION_COUNTY,
            fee=money(Decimal(settings.CERTIFICATION_PROCESSING_FEE)),
        )
        run.letters.append(
            Letter(
                account,
                past_due,
                lines,
                items=[i for i in items[account_id] if days_past_due(i.due_date, as_of) > 0],
                pay_by=as_of + dt.timedelta(days=settings.PAST_DUE_PAY_WITHIN_DAYS),
                consequence=consequence,
            )
        )
    _send(
        run,
        kind=Notice.Kind.PAST_DUE,
        occasion=as_of.isoformat(),
        email_kind=PAST_DUE,
        subject=lambda letter: format_lazy(
            _("Past-due notice for account {number}"), number=letter.account.account_number
        ),
        batch_name=f"past-due-{as_of.isoformat()}.pdf",
        title=_("Past-due notice"),
        today=as_of,
    )
    return run


def notices_precertification(*, year: int, today: dt.date | None = None) -> NoticeRun:
    """In April: every account with unpaid charges that would be certified if still unpaid on June 20."""
    today = today or local_today()
    run = NoticeRun(kind=Notice.Kind.PRECERTIFICATION)
    items = owing_open_items(as_of=today)
    accounts = ServiceAccount.objects.in_bulk(list(items))
    fee = Decimal(settings.CERTIFICATION_PROCESSING_FEE)
    for account_id in sorted(items, key=lambda pk: accounts[pk].account_number):
        amount = sum((i.unpaid for i in items[account_id] if i.due_date <= latest_due_date(year)), ZERO)
        if amount <= 0:
            continue
        account = accounts[account_id]
        due_by_cutoff = [i for i in items[account_id] if i.due_date <= latest_due_date(year)]
        lines = [
            format_lazy(
                _(
                    "Account {number} for {address} has {amount} in charges due on or before {date} that are not paid."
                ),
                number=account.account_number,
                address=account.service_address,
                amount=money(amount),
                date=local_date(latest_due_date(year)),
            ),
        ]
        consequence = format_lazy(
            _(
                "If they are still unpaid on {date}, they will be certified to the {county} tax roll with a {fee} "
                'processing fee, and appear on the property tax statement as "{description}".'
            ),
            date=local_date(cutoff_date(year)),
            county=settings.CERTIFICATION_COUNTY,
            fee=money(fee),
            description=settings.CERTIFICATION_DESCRIPTION,
        )
        run.letters.append(
            Letter(
                account, amount, lines, items=due_by_cutoff, pay_by=cutoff_date(year), consequence=consequence
            )
        )
    _send(
        run,
        kind=Notice.Kind.PRECERTIFICATION,
        occasion=str(year),
        email_kind=PRECERTIFICATION,
        subject=lambda letter: format_lazy(
            _("Notice before certification: account {number}"), number=letter.account.account_number
        ),
        batch_name=f"precertification-{year}.pdf",
        title=_("Notice of pending certification"),
        today=today,
    )
    return run
