"""The yearly certification sweep: unpaid charges more than 60 days past due on June 20 go to
the county tax roll (the path of a utility that cannot shut service off; ORS 454.225 in the
seed utility's state)."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from accounts.models import ServiceAccount
from assistance.selectors import accounts_with_plan_in_good_standing
from billing.calendar import local_today
from billing.models import LedgerEntry
from billing.selectors import OpenItem, ledger_positions, owing_open_items
from billing.services.ledger import Posting, billing_accounts_lock, ledger_post
from certification.models import Certification, CertifiedItem
from kernel.errors import ApplicationError
from kernel.money import ZERO

CUTOFF_MONTH_DAY = (6, 20)
DAYS_PAST_DUE = 60


def cutoff_date(year: int) -> dt.date:
    """June 20: payments dated on or before it count."""
    return dt.date(year, *CUTOFF_MONTH_DAY)


def latest_due_date(year: int) -> dt.date:
    """Charges due on or before this day are more than 60 days past due on June 20 (April 20)."""
    return cutoff_date(year) - dt.timedelta(days=DAYS_PAST_DUE + 1)


def processing_fee() -> Decimal:
    return Decimal(settings.CERTIFICATION_PROCESSING_FEE)


def delinquent_items(items: list[OpenItem], *, year: int) -> list[OpenItem]:
    return [i for i in items if i.due_date <= latest_due_date(year)]


@dataclass
class Candidate:
    service_account: ServiceAccount
    items: list[OpenItem]

    @property
    def amount(self) -> Decimal:
        return sum((i.unpaid for i in self.items), ZERO)


@dataclass
class SweepResult:
    year: int
    certified: list[Candidate] = field(default_factory=list)
    already: int = 0
    left_out_for_plans: int = 0

    @property
    def delinquent_total(self) -> Decimal:
        return sum((c.amount for c in self.certified), ZERO)


def _candidate_ids(year: int) -> list[int]:
    """Accounts with unpaid charges due on or before April 20 as of June 20: a first cut, each
    account then checked again under its lock."""
    owing = owing_open_items(as_of=cutoff_date(year))
    return [pk for pk, items in owing.items() if delinquent_items(items, year=year)]


def certification_sweep(*, year: int, dry_run: bool = False, today: dt.date | None = None) -> SweepResult:
    """Certify every account with unpaid charges more than 60 days past due on June 20 of `year`.

    Counts payments and credits dated on or before June 20, applied oldest first. Refuses to
    run before June 21. Each account is handled in its own short transaction with its balance
    row locked, so a payment posted meanwhile is counted entirely or not at all. Safe to run
    again: an account already certified for the year is left as it is.
    """
    if settings.COLLECTION_PATH != "certify":
        raise ApplicationError(
            "This utility shuts service off (COLLECTION_PATH=shutoff); it does not certify."
        )
    today = today or local_today()
    if today <= cutoff_date(year):
        raise ApplicationError(
            f"The {year} sweep can run from June 21, {year}: payments through June 20 count."
        )
    result = SweepResult(year=year)
    candidates = _candidate_ids(year)
    already = set(Certification.objects.filter(year=year).values_list("service_account_id", flat=True))
    on_plan = accounts_with_plan_in_good_standing(account_ids=candidates, as_of=cutoff_date(year))
    todo = []
    for account_id in candidates:
        if account_id in already:
            result.already += 1
        elif account_id in on_plan:
            result.left_out_for_plans += 1
        else:
            todo.append(account_id)
    chunk = settings.CERTIFICATION_SWEEP_CHUNK
    for start in range(0, len(todo), chunk):
        result.certified += _certify_chunk(todo[start : start + chunk], year=year, dry_run=dry_run)
    return result


def _certify_chunk(account_ids: list[int], *, year: int, dry_run: bool) -> list[Candidate]:
    """Certify a chunk of accounts in one short transaction, with their balance rows locked (the
    lock every posting takes: a payment racing the sweep lands wholly before or after it)."""
    with transaction.atomic():
        billing_accounts_lock(service_account_ids=account_ids)
        done = set(
            Certification.objects.filter(year=year, service_account_id__in=account_ids).values_list(
                "service_account_id", flat=True
            )
        )
        positions = ledger_positions(account_ids=account_ids, as_of=cutoff_date(year))
        accounts = ServiceAccount.objects.in_bulk(account_ids)
        candidates = []
        for account_id in account_ids:
            if account_id in done:
                continue
            items = delinquent_items(positions[account_id].open_items, year=year)
            if items:
                candidates.append(Candidate(service_account=accounts[account_id], items=items))
        if dry_run or not candidates:
            transaction.set_rollback(True)
            return candidates
        _certifications_write(candidates, year=year)
    return candidates


def _certifications_write(candidates: list[Candidate], *, year: int) -> None:
    """Each candidate's certification, the transfer of each delinquent charge to the tax roll, and
    the items linking the two. The caller holds the accounts' balance rows."""
    fee = processing_fee()
    certifications = Certification.objects.bulk_create(
        [
            Certification(
                year=year,
                service_account=c.service_account,
                tax_lot=c.service_account.tax_lot,
                owner_name=c.service_account.customer_name,
                service_address=c.service_account.service_address,
                delinquent_amount=c.amount,
                processing_fee=fee,
                total_certified=c.amount + fee,
                description=settings.CERTIFICATION_DESCRIPTION,
            )
            for c in candidates
        ]
    )
    transfers = ledger_post(
        postings=[
            Posting(
                service_account_id=c.service_account.pk,
                kind=LedgerEntry.Kind.TAX_ROLL_TRANSFER,
                amount=-item.unpaid,
                posted_on=cutoff_date(year) + dt.timedelta(days=1),
                description=f"Certified to the {year} tax roll",
                # One transfer per charge and year: a re-run posts nothing.
                source_key=f"cert:{year}:{item.entry_id}",
                reverses_id=item.entry_id,
            )
            for c in candidates
            for item in c.items
        ]
    )
    by_charge = {t.reverses_id: t for t in transfers}
    CertifiedItem.objects.bulk_create(
        [
            CertifiedItem(
                certification=certification,
                charge_id=i.entry_id,
                amount=i.unpaid,
                transfer=by_charge[i.entry_id],
            )
            for certification, c in zip(certifications, candidates, strict=True)
            for i in c.items
        ]
    )
