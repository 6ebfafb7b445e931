"""The path of a utility that can shut service off: a late fee after the due date with a late
notice, a door-hanger notice with its fee, and the field crew's list. Nothing here runs for a
utility that certifies (COLLECTION_PATH=certify)."""

import csv
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount
from assistance.selectors import accounts_holding_door_hanger_fees, accounts_with_plan_in_good_standing
from billing.calendar import days_past_due
from billing.models import LedgerEntry
from billing.notification_kinds import PAST_DUE
from billing.selectors import open_items_for_accounts, past_due_total
from billing.services.ledger import Posting, ledger_post
from certification.models import Notice
from certification.services.notices import Letter, NoticeRun, _send
from kernel.errors import ApplicationError
from kernel.i18n import local_date
from kernel.money import ZERO, money
from kernel.spreadsheets import text_cell


@dataclass
class CollectionsRun:
    late_fees: int = 0
    door_hangers: int = 0
    held: int = 0
    accounts: int = 0  # accounts that get a fee (counted on a dry run)
    field_crew: list[str] = field(default_factory=list)
    field_crew_file: Path | None = None
    late_file: Path | None = None
    door_hanger_file: Path | None = None

    def summary(self) -> dict:
        return {
            "late_fees": self.late_fees,
            "door_hangers": self.door_hangers,
            "held": self.held,
            "field_crew": len(self.field_crew),
        }


def collections_start_date() -> dt.date:
    """COLLECTIONS_START_DATE as a date, or ApplicationError saying how to set it."""
    value = settings.COLLECTIONS_START_DATE
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ApplicationError(
            "Set COLLECTIONS_START_DATE (YYYY-MM-DD): the first due date whose unpaid bills the portal may "
            "charge late and door-hanger fees for. Bills due earlier came from the old system. Nothing was posted."
        ) from None


def collections_run(*, as_of: dt.date, dry_run: bool = False) -> CollectionsRun:
    """Late fees, door hangers and the field crew's list as of a day. With dry_run, only count
    what would be posted: nothing is posted, printed, sent or written."""
    if settings.COLLECTION_PATH != "shutoff":
        raise ApplicationError(
            "This utility certifies unpaid charges (COLLECTION_PATH=certify); it does not charge late or door-hanger fees."
        )
    start = collections_start_date()
    result = CollectionsRun()
    account_ids = list(
        LedgerEntry.objects.filter(amount__gt=0, due_date__lt=as_of)
        .values_list("service_account_id", flat=True)
        .distinct()
    )
    items = open_items_for_accounts(account_ids=account_ids, as_of=as_of)
    on_plan = accounts_with_plan_in_good_standing(account_ids=list(items), as_of=as_of)
    held = accounts_holding_door_hanger_fees(account_ids=list(items))
    accounts = ServiceAccount.objects.in_bulk(list(items))
    late_fee, hanger_fee = Decimal(settings.LATE_FEE), Decimal(settings.DOOR_HANGER_FEE)
    late, hangers = NoticeRun(kind=Notice.Kind.LATE), NoticeRun(kind=Notice.Kind.DOOR_HANGER)
    postings = []
    for account_id, open_list in sorted(items.items()):
        if account_id in on_plan:
            continue
        account = accounts[account_id]
        # Only bills due since collections started here: the old system dealt with the rest.
        overdue_charges = [
            i
            for i in open_list
            if i.kind == LedgerEntry.Kind.CHARGE
            and i.due_date >= start
            and days_past_due(i.due_date, as_of) > 0
        ]
        for charge in overdue_charges:
            # One late fee per unpaid bill, ever (the source key).
            postings.append(
                Posting(
                    account_id,
                    LedgerEntry.Kind.LATE_FEE,
                    late_fee,
                    as_of,
                    f"late:{charge.entry_id}",
                    due_date=as_of,
                    description="Late fee",
                )
            )
        oldest = min((i for i in overdue_charges), key=lambda i: i.due_date, default=None)
        if overdue_charges:
            late.letters.append(
                Letter(
                    account,
                    ZERO,  # set once the fees are posted, below
                    [_("Your payment is late. A late fee was added.")],
                    # The day before the door hanger and its fee would come.
                    pay_by=oldest.due_date + dt.timedelta(days=settings.DOOR_HANGER_AFTER_DAYS - 1),
                    consequence=format_lazy(
                        _("If it is not paid by then, a door-hanger notice with a {fee} fee follows."),
                        fee=money(hanger_fee),
                    ),
                )
            )
        if oldest and days_past_due(oldest.due_date, as_of) >= settings.DOOR_HANGER_AFTER_DAYS:
            if account_id in held:
                result.held += 1
                continue
            postings.append(
                Posting(
                    account_id,
                    LedgerEntry.Kind.DOOR_HANGER_FEE,
                    hanger_fee,
                    as_of,
                    f"door:{oldest.entry_id}",
                    due_date=as_of,
                    description="Door-hanger fee",
                )
            )
            turn_off = as_of + dt.timedelta(days=settings.SHUTOFF_AFTER_DOOR_HANGER_DAYS)
            hangers.letters.append(
                Letter(
                    account,
                    ZERO,
                    [_("If you have applied for bill assistance, call us right away.")],
                    pay_by=turn_off - dt.timedelta(days=1),
                    consequence=format_lazy(
                        _("Service may be turned off on or after {date} unless the past-due amount is paid."),
                        date=local_date(turn_off),
                    ),
                )
            )
    if dry_run:
        posted_before = set(
            LedgerEntry.objects.filter(source_key__in=[p.source_key for p in postings]).values_list(
                "source_key", flat=True
            )
        )
        new = [p for p in postings if p.source_key not in posted_before]
        result.late_fees = sum(1 for p in new if p.kind == LedgerEntry.Kind.LATE_FEE)
        result.door_hangers = sum(1 for p in new if p.kind == LedgerEntry.Kind.DOOR_HANGER_FEE)
        result.accounts = len({p.service_account_id for p in new})
        return result
    added = ledger_post(postings=postings)
    # A letter goes only with a fee this run posted (one late notice per unpaid bill, one door
    # hanger per episode), and a door hanger replaces the late notice of the same run.
    fined = {
        kind: {e.service_account_id for e in added if e.kind == kind} for kind in LedgerEntry.Kind.values
    }
    hangers.letters = [
        letter for letter in hangers.letters if letter.account.pk in fined[LedgerEntry.Kind.DOOR_HANGER_FEE]
    ]
    hung = {letter.account.pk for letter in hangers.letters}
    late.letters = [
        letter
        for letter in late.letters
        if letter.account.pk in fined[LedgerEntry.Kind.LATE_FEE] and letter.account.pk not in hung
    ]
    # Each letter asks for what is owed now, the fees just added included, and lists each item.
    lettered = {letter.account.pk for letter in late.letters + hangers.letters}
    owed_now = open_items_for_accounts(account_ids=lettered, as_of=as_of)
    for letter in late.letters + hangers.letters:
        letter.items = [i for i in owed_now.get(letter.account.pk, []) if i.due_date <= as_of]
        letter.amount = sum((i.unpaid for i in letter.items), ZERO)
    result.late_fees = sum(1 for e in added if e.kind == LedgerEntry.Kind.LATE_FEE)
    result.door_hangers = sum(1 for e in added if e.kind == LedgerEntry.Kind.DOOR_HANGER_FEE)
    _send(
        late,
        kind=Notice.Kind.LATE,
        occasion=as_of.isoformat(),
        email_kind=PAST_DUE,
        subject=lambda letter: format_lazy(
            _("Late notice for account {number}"), number=letter.account.account_number
        ),
        batch_name=f"late-{as_of.isoformat()}.pdf",
        title=_("Late notice"),
        today=as_of,
    )
    _send(
        hangers,
        kind=Notice.Kind.DOOR_HANGER,
        occasion=as_of.isoformat(),
        email_kind=PAST_DUE,
        subject=lambda letter: format_lazy(
            _("Service turn-off notice for account {number}"), number=letter.account.account_number
        ),
        batch_name=f"door-hangers-{as_of.isoformat()}.pdf",
        title=_("Door-hanger notice"),
        today=as_of,
    )
    result.late_file, result.door_hanger_file = late.batch_file, hangers.batch_file
    # The field crew: door hangers left long enough ago, still past due.
    since = as_of - dt.timedelta(days=settings.SHUTOFF_AFTER_DOOR_HANGER_DAYS)
    # `occasion` is the ISO date of the run that hung the notice.
    hung = Notice.objects.filter(kind=Notice.Kind.DOOR_HANGER, occasion__lte=since.isoformat()).values_list(
        "service_account_id", flat=True
    )
    for account_id in sorted(set(hung)):
        if (
            account_id in items
            and account_id not in on_plan
            and past_due_total(items[account_id], as_of=as_of) > 0
        ):
            result.field_crew.append(accounts[account_id].account_number)
    if result.field_crew:
        folder = Path(settings.NOTICES_ROOT)
        folder.mkdir(parents=True, exist_ok=True)
        result.field_crew_file = folder / f"field-crew-{as_of.isoformat()}.csv"
        with result.field_crew_file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["account_number", "customer_name", "service_address", "past_due"])
            for number in result.field_crew:
                account = next(a for a in accounts.values() if a.account_number == number)
                writer.writerow(
                    [
                        text_cell(number),
                        text_cell(account.customer_name),
                        text_cell(account.service_address),
                        f"{past_due_total(items[account.pk], as_of=as_of):.2f}",
                    ]
                )
    return result
