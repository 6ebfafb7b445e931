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


@dataclass
class _Candidates:
    """The accounts with a debit past due on a day, and what holds each back."""

    items: dict  # account id -> its open items on the day
    accounts: dict  # account id -> ServiceAccount
    on_plan: set  # on a payment plan in good standing: no fees, no crew
    held: set  # a clerk holds their door-hanger fees (an assistance application pending)


@dataclass
class _Fees:
    """What a run would post and mail: the fees, and a letter per account for each kind."""

    postings: list = field(default_factory=list)
    late: NoticeRun = field(default_factory=lambda: NoticeRun(kind=Notice.Kind.LATE))
    hangers: NoticeRun = field(default_factory=lambda: NoticeRun(kind=Notice.Kind.DOOR_HANGER))
    held: int = 0


def collections_run(*, as_of: dt.date, dry_run: bool = False) -> CollectionsRun:
    """Late fees, door hangers and the field crew's list as of a day. With dry_run, only count
    what would be posted: nothing is posted, printed, sent or written."""
    if settings.COLLECTION_PATH != "shutoff":
        raise ApplicationError(
            "This utility certifies unpaid charges (COLLECTION_PATH=certify); it does not charge late or door-hanger fees."
        )
    start = collections_start_date()
    candidates = _collections_candidates(as_of=as_of)
    fees = _Fees()
    for account_id, open_list in sorted(candidates.items.items()):
        if account_id not in candidates.on_plan:
            _account_fees(
                fees,
                candidates.accounts[account_id],
                open_list,
                as_of=as_of,
                start=start,
                held=account_id in candidates.held,
            )
    result = CollectionsRun(held=fees.held)
    if dry_run:
        return _dry_run_counts(result, fees.postings)
    added = ledger_post(postings=fees.postings)
    _letters_for_fees_posted(fees, added, as_of=as_of)
    result.late_fees = sum(1 for e in added if e.kind == LedgerEntry.Kind.LATE_FEE)
    result.door_hangers = sum(1 for e in added if e.kind == LedgerEntry.Kind.DOOR_HANGER_FEE)
    _collection_letters_send(fees, as_of=as_of)
    result.late_file, result.door_hanger_file = fees.late.batch_file, fees.hangers.batch_file
    crew = _field_crew(candidates, as_of=as_of)
    result.field_crew = [account.account_number for account in crew]
    if crew:
        result.field_crew_file = _field_crew_file_write(crew, candidates, as_of=as_of)
    return result


def _collections_candidates(*, as_of: dt.date) -> _Candidates:
    account_ids = list(
        LedgerEntry.objects.filter(amount__gt=0, due_date__lt=as_of)
        .values_list("service_account_id", flat=True)
        .distinct()
    )
    items = open_items_for_accounts(account_ids=account_ids, as_of=as_of)
    return _Candidates(
        items=items,
        accounts=ServiceAccount.objects.in_bulk(list(items)),
        on_plan=set(accounts_with_plan_in_good_standing(account_ids=list(items), as_of=as_of)),
        held=set(accounts_holding_door_hanger_fees(account_ids=list(items))),
    )


def _account_fees(fees: _Fees, account, open_list, *, as_of: dt.date, start: dt.date, held: bool) -> None:
    """One account's late fees (one per unpaid bill, ever: the source key) with a late notice, and
    its door-hanger fee with the notice once its oldest unpaid bill is old enough."""
    late_fee, hanger_fee = Decimal(settings.LATE_FEE), Decimal(settings.DOOR_HANGER_FEE)
    # Only bills due since collections started here: the old system dealt with the rest.
    overdue_charges = [
        i
        for i in open_list
        if i.kind == LedgerEntry.Kind.CHARGE and i.due_date >= start and days_past_due(i.due_date, as_of) > 0
    ]
    if not overdue_charges:
        return
    for charge in overdue_charges:
        fees.postings.append(
            Posting(
                account.pk,
                LedgerEntry.Kind.LATE_FEE,
                late_fee,
                as_of,
                f"late:{charge.entry_id}",
                due_date=as_of,
                description="Late fee",
            )
        )
    oldest = min(overdue_charges, key=lambda i: i.due_date)
    fees.late.letters.append(_late_letter(account, oldest, hanger_fee=hanger_fee))
    if days_past_due(oldest.due_date, as_of) < settings.DOOR_HANGER_AFTER_DAYS:
        return
    if held:
        fees.held += 1
        return
    fees.postings.append(
        Posting(
            account.pk,
            LedgerEntry.Kind.DOOR_HANGER_FEE,
            hanger_fee,
            as_of,
            f"door:{oldest.entry_id}",
            due_date=as_of,
            description="Door-hanger fee",
        )
    )
    fees.hangers.letters.append(_door_hanger_letter(account, as_of=as_of))


def _late_letter(account, oldest, *, hanger_fee: Decimal) -> Letter:
    return Letter(
        account,
        ZERO,  # set once the fees are posted
        [_("Your payment is late. A late fee was added.")],
        # The day before the door hanger and its fee would come.
        pay_by=oldest.due_date + dt.timedelta(days=settings.DOOR_HANGER_AFTER_DAYS - 1),
        consequence=format_lazy(
            _("If it is not paid by then, a door-hanger notice with a {fee} fee follows."),
            fee=money(hanger_fee),
        ),
    )


def _door_hanger_letter(account, *, as_of: dt.date) -> Letter:
    turn_off = as_of + dt.timedelta(days=settings.SHUTOFF_AFTER_DOOR_HANGER_DAYS)
    return Letter(
        account,
        ZERO,  # set once the fees are posted
        [_("If you have applied for bill assistance, call us right away.")],
        pay_by=turn_off - dt.timedelta(days=1),
        consequence=format_lazy(
            _("Service may be turned off on or after {date} unless the past-due amount is paid."),
            date=local_date(turn_off),
        ),
    )


def _dry_run_counts(result: CollectionsRun, postings: list[Posting]) -> CollectionsRun:
    """What a run would post: the postings whose source key is not in the ledger yet."""
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


def _letters_for_fees_posted(fees: _Fees, added: list[LedgerEntry], *, as_of: dt.date) -> None:
    """Keep a letter only with a fee this run posted (one late notice per unpaid bill, one door
    hanger per episode; a door hanger replaces the late notice of the same run), each asking for
    what is owed now, the new fees included, item by item."""
    fined = {
        kind: {e.service_account_id for e in added if e.kind == kind} for kind in LedgerEntry.Kind.values
    }
    fees.hangers.letters = [
        letter
        for letter in fees.hangers.letters
        if letter.account.pk in fined[LedgerEntry.Kind.DOOR_HANGER_FEE]
    ]
    hung = {letter.account.pk for letter in fees.hangers.letters}
    fees.late.letters = [
        letter
        for letter in fees.late.letters
        if letter.account.pk in fined[LedgerEntry.Kind.LATE_FEE] and letter.account.pk not in hung
    ]
    letters = fees.late.letters + fees.hangers.letters
    owed_now = open_items_for_accounts(account_ids={letter.account.pk for letter in letters}, as_of=as_of)
    for letter in letters:
        letter.items = [i for i in owed_now.get(letter.account.pk, []) if i.due_date <= as_of]
        letter.amount = sum((i.unpaid for i in letter.items), ZERO)


def _collection_letters_send(fees: _Fees, *, as_of: dt.date) -> None:
    _send(
        fees.late,
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
        fees.hangers,
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


def _field_crew(candidates: _Candidates, *, as_of: dt.date) -> list[ServiceAccount]:
    """The field crew's accounts: door hangers left long enough ago, still past due, not on a plan."""
    since = as_of - dt.timedelta(days=settings.SHUTOFF_AFTER_DOOR_HANGER_DAYS)
    # `occasion` is the ISO date of the run that hung the notice.
    hung = Notice.objects.filter(kind=Notice.Kind.DOOR_HANGER, occasion__lte=since.isoformat()).values_list(
        "service_account_id", flat=True
    )
    return [
        candidates.accounts[account_id]
        for account_id in sorted(set(hung))
        if account_id in candidates.items
        and account_id not in candidates.on_plan
        and past_due_total(candidates.items[account_id], as_of=as_of) > 0
    ]


def _field_crew_file_write(crew: list[ServiceAccount], candidates: _Candidates, *, as_of: dt.date) -> Path:
    folder = Path(settings.NOTICES_ROOT)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"field-crew-{as_of.isoformat()}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_number", "customer_name", "service_address", "past_due"])
        for account in crew:
            writer.writerow(
                [
                    text_cell(account.account_number),
                    text_cell(account.customer_name),
                    text_cell(account.service_address),
                    f"{past_due_total(candidates.items[account.pk], as_of=as_of):.2f}",
                ]
            )
    return path
