"""Demo data for billing: rates with a July 1 change, services, meter reads, and 13 months
of bills and payments in which most customers pay on time and some fall behind."""

import datetime as dt
import random
from decimal import Decimal

from accounts.models import ServiceAccount
from billing.calendar import add_months
from billing.models import AccountService, Bill, LedgerEntry, MeterRead, RateSchedule, Service
from billing.services.bills import bills_run
from billing.services.ledger import Posting, ledger_post

# Monthly charge per unit and charge per CCF, for the years starting each July 1.
RATES = {
    Service.SEWER: [(Decimal("48.50"), Decimal("0")), (Decimal("51.25"), Decimal("0"))],
    Service.SURFACE_WATER: [(Decimal("11.20"), Decimal("0")), (Decimal("11.85"), Decimal("0"))],
    Service.WATER: [(Decimal("18.00"), Decimal("3.85")), (Decimal("19.10"), Decimal("4.05"))],
}


def rate_year_starts(today: dt.date) -> list[dt.date]:
    """The July 1 of the rate year 13 months ago, and every July 1 since."""
    first = add_months(today.replace(day=1), -14)
    year = first.year if first.month >= 7 else first.year - 1
    return [dt.date(y, 7, 1) for y in range(year, today.year + 1) if dt.date(y, 7, 1) <= today]


def payer_kind(index: int) -> str:
    """How an account pays, by a fixed pattern so the demo is the same everywhere."""
    if index == 1:
        return "never"  # the demo customer's second account is behind
    if index == 0:
        return "on_time"
    slot = index % 20
    if slot in (3, 11):
        return "late"
    if slot in (7,):
        return "partial"
    if slot in (13, 17):
        return "never"
    return "on_time"


def seed(*, accounts: int, today: dt.date, **context) -> dict:
    starts = rate_year_starts(today)
    for service, years in RATES.items():
        for index, start in enumerate(starts):
            monthly, per_ccf = years[min(index, len(years) - 1)]
            # Years beyond the table: 4% a year, as utilities often raise rates.
            growth = Decimal("1.04") ** max(0, index - len(years) + 1)
            RateSchedule.objects.get_or_create(
                service=service,
                effective_date=start,
                defaults={
                    "monthly_charge_per_unit": (monthly * growth).quantize(Decimal("0.01")),
                    "charge_per_ccf": (per_ccf * growth).quantize(Decimal("0.0001")),
                },
            )

    rng = random.Random(20)
    ordered = list(ServiceAccount.objects.order_by("account_number").values_list("pk", flat=True))
    index_of = {pk: i for i, pk in enumerate(ordered)}
    services = []
    water = []
    for pk, i in index_of.items():
        units = Decimal("2") if i % 25 == 24 else Decimal("1")
        services.append(AccountService(service_account_id=pk, service=Service.SEWER, units=units))
        services.append(AccountService(service_account_id=pk, service=Service.SURFACE_WATER, units=units))
        if i % 3 == 0:
            services.append(AccountService(service_account_id=pk, service=Service.WATER, units=Decimal("1")))
            water.append(pk)
    AccountService.objects.bulk_create(services, batch_size=5000, ignore_conflicts=True)

    last = add_months(today.replace(day=1), -1)
    periods = [add_months(last, -offset) for offset in range(12, -1, -1)]
    reads = []
    for pk in water:
        base = Decimal(rng.randint(4, 9))
        for period in periods:
            summer = Decimal(rng.randint(3, 8)) if period.month in (6, 7, 8, 9) else Decimal(0)
            reads.append(
                MeterRead(
                    service_account_id=pk, period=period, consumption_ccf=base + summer + rng.randint(0, 2)
                )
            )
    MeterRead.objects.bulk_create(reads, batch_size=5000, ignore_conflicts=True)

    # Each month's bills are an event of the demo year: seed_demo runs every app's events in date
    # order, so the June sweep comes between the June and July bills, as it would.
    return {"events": [(add_months(period, 1), _month(period, index_of, rng, today)) for period in periods]}


def _month(period: dt.date, index_of: dict, rng: random.Random, today: dt.date):
    def issue_and_pay() -> None:
        """Issue the month's bills on the 1st; each customer then pays (or not) as they do."""
        issued_on = add_months(period, 1)
        bills_run(period=period, issued_on=issued_on, notify=False)
        postings = []
        for bill in Bill.objects.filter(period=period).only("service_account_id", "total_due", "due_date"):
            kind = payer_kind(index_of[bill.service_account_id])
            if bill.total_due <= 0 or kind == "never":
                continue
            if kind == "on_time":
                paid_on, amount = bill.due_date - dt.timedelta(days=rng.randint(1, 12)), bill.total_due
            elif kind == "late":
                paid_on, amount = bill.due_date + dt.timedelta(days=rng.randint(10, 40)), bill.total_due
            else:
                paid_on, amount = (
                    bill.due_date - dt.timedelta(days=2),
                    (bill.total_due / 2).quantize(Decimal("0.01")),
                )
            if paid_on > today or amount <= 0:
                continue
            postings.append(
                Posting(
                    service_account_id=bill.service_account_id,
                    kind=LedgerEntry.Kind.PAYMENT,
                    amount=-amount,
                    posted_on=paid_on,
                    description="Payment, thank you",
                    source_key=f"demo:payment:{bill.service_account_id}:{period:%Y-%m}",
                )
            )
        ledger_post(postings=postings)

    return issue_and_pay
