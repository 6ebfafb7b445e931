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
from billing.selectors import OpenItem, ledger_rows_for_account, open_items
from billing.services.ledger import Posting, billing_accounts_lock, ledger_post
from certification.models import Certification, CertifiedItem
from portal.errors import ApplicationError
from portal.money import ZERO

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
    """Accounts with any charge or fee due on or before April 20 posted by June 20 (a cheap first
    cut; each is then checked exactly, under its lock)."""
    return list(
        LedgerEntry.objects.filter(
            due_date__lte=latest_due_date(year), posted_on__lte=cutoff_date(year), amount__gt=0
        )
        .values_list("service_account_id", flat=True)
        .distinct()
        .order_by("service_account_id")
    )


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
    for account_id in candidates:
        if account_id in already:
            result.already += 1
            continue
        if account_id in on_plan:
            result.left_out_for_plans += 1
            continue
        candidate = _certify_account(account_id, year=year, dry_run=dry_run)
        if candidate is not None:
            result.certified.append(candidate)
    return result


def _certify_account(account_id: int, *, year: int, dry_run: bool) -> Candidate | None:
    with transaction.atomic():
        # The lock every posting takes: a payment racing the sweep lands before or after it.
        billing_accounts_lock(service_account_ids=[account_id])
        if Certification.objects.filter(year=year, service_account_id=account_id).exists():
            return None
        rows = ledger_rows_for_account(service_account_id=account_id)
        items = delinquent_items(open_items(rows, as_of=cutoff_date(year)), year=year)
        if not items:
            return None
        account = ServiceAccount.objects.get(pk=account_id)
        candidate = Candidate(service_account=account, items=items)
        if dry_run:
            transaction.set_rollback(True)
            return candidate
        fee = processing_fee()
        certification = Certification.objects.create(
            year=year,
            service_account=account,
            tax_lot=account.tax_lot,
            owner_name=account.customer_name,
            service_address=account.service_address,
            delinquent_amount=candidate.amount,
            processing_fee=fee,
            total_certified=candidate.amount + fee,
            description=settings.CERTIFICATION_DESCRIPTION,
        )
        transfers = ledger_post(
            postings=[
                Posting(
                    service_account_id=account_id,
                    kind=LedgerEntry.Kind.TAX_ROLL_TRANSFER,
                    amount=-item.unpaid,
                    posted_on=cutoff_date(year) + dt.timedelta(days=1),
                    description=f"Certified to the {year} tax roll",
                    # One transfer per charge and year: a re-run posts nothing.
                    source_key=f"cert:{year}:{item.entry_id}",
                    reverses_id=item.entry_id,
                )
                for item in items
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
                for i in items
            ]
        )
    return candidate
