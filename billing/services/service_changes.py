"""Opening an account and closing one with a final bill, as a clerk does for a move in or out.

The final bill covers every day served since the last bill: whole months at the monthly charges
and the last month prorated by days (days served ÷ days in the month), with the final meter read
for water. It is one charge on the ledger and one bill, like any other.
"""

import datetime as dt
import re
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount, User
from accounts.notifications import email_send, users_for_account
from billing.calendar import add_months, local_today
from billing.models import AccountService, Bill, BillLine, LedgerEntry, Service
from billing.notification_kinds import BILL_READY
from billing.selectors import account_past_due
from billing.services.bills import (
    SERVICE_ORDER,
    bill_line_amount,
    days_served,
    prorated_charge,
    rates_in_force,
    service_month_label,
)
from billing.services.ledger import Posting, billing_accounts_lock, ledger_post
from kernel.audit import audit_record
from kernel.errors import ApplicationError
from kernel.i18n import local_date
from kernel.money import ZERO, money

FINAL_BILL_DUE_DAYS = 20


def account_number_next() -> str:  # the caller retries if another clerk took it a moment ago
    """The next account number: one more than the largest "NNNNNN-01" in use."""
    numbers = ServiceAccount.objects.filter(account_number__regex=r"^[0-9]+-[0-9]{2}$").values_list(
        "account_number", flat=True
    )
    largest = max((int(n.split("-")[0]) for n in numbers), default=99999)
    return f"{largest + 1:06d}-01"


def first_unbilled_day() -> dt.date:
    """The first day of the earliest service month the bill run has not billed yet: a new account
    served from before it would have days no bill counts."""
    latest = (
        Bill.objects.filter(stopped_on__isnull=True)
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )
    return add_months(latest, 1) if latest else dt.date.min


def service_account_open(
    *,
    by: User,
    customer_name: str,
    service_address: str,
    service_city: str,
    service_state: str,
    service_zip: str,
    tax_lot: str,
    email: str = "",
    phone: str = "",
    sewer_units: Decimal | None = None,
    surface_water_units: Decimal | None = None,
    water: bool = False,
    mailing: dict | None = None,
    service_starts_on: dt.date | None = None,
) -> ServiceAccount:
    """Open a service account with a number the portal assigns and the services it takes, served
    from `service_starts_on` (today when not given): its first bill counts the days from then."""
    if not by.has_perm("accounts.open_close_account"):
        raise ApplicationError("Your role cannot open accounts.")
    if not re.fullmatch(r"[0-9]{5}", service_zip or ""):
        raise ApplicationError("Enter the service ZIP code: 5 digits.")
    if not any([sewer_units, surface_water_units, water]):
        raise ApplicationError("Choose at least one service the property takes.")
    today = local_today()
    service_starts_on = service_starts_on or today
    if not add_months(today, -2) <= service_starts_on <= add_months(today, 3):
        raise ApplicationError("Enter a start date within two months before or three months after today.")
    first_unbilled = first_unbilled_day()
    if service_starts_on < first_unbilled:
        raise ApplicationError(
            f"Bills up to {first_unbilled - dt.timedelta(days=1):%m/%d/%Y} are issued already: service can "
            f"start on {first_unbilled:%m/%d/%Y} or later. Bill the days before it with a debit adjustment."
        )
    for attempt in range(3):
        try:
            return _open(
                by=by,
                customer_name=customer_name,
                service_address=service_address,
                service_city=service_city,
                service_state=service_state,
                service_zip=service_zip,
                tax_lot=tax_lot,
                email=email,
                phone=phone,
                sewer_units=sewer_units,
                surface_water_units=surface_water_units,
                water=water,
                mailing=mailing,
                service_starts_on=service_starts_on,
            )
        except IntegrityError:
            if attempt == 2:
                raise ApplicationError("Another account was opened at the same moment; try again.") from None
    raise AssertionError("unreachable")


def _open(
    *,
    by,
    customer_name,
    service_address,
    service_city,
    service_state,
    service_zip,
    tax_lot,
    email,
    phone,
    sewer_units,
    surface_water_units,
    water,
    mailing,
    service_starts_on,
) -> ServiceAccount:
    with transaction.atomic():
        account = ServiceAccount.objects.create(
            account_number=account_number_next(),
            customer_name=customer_name.strip(),
            service_address=service_address.strip(),
            service_city=service_city.strip(),
            service_state=(service_state or "").strip().upper() or "OR",
            service_zip=service_zip,
            tax_lot=tax_lot.strip(),
            email=email.strip(),
            phone=phone.strip(),
            service_starts_on=service_starts_on,
            **(mailing or {}),
        )
        for service, units in [(Service.SEWER, sewer_units), (Service.SURFACE_WATER, surface_water_units)]:
            if units:
                AccountService.objects.create(service_account=account, service=service, units=units)
        if water:
            AccountService.objects.create(service_account=account, service=Service.WATER, units=Decimal("1"))
        audit_record(
            actor=by,
            action="account.open",
            target=account,
            summary=f"{by.email} opened account {account.account_number} for {account.customer_name}, "
            f"service from {service_starts_on:%m/%d/%Y}",
            account_number=account.account_number,
        )
    return account


def _final_lines(
    account: ServiceAccount,
    *,
    first_month: dt.date,
    started_on: dt.date | None,
    stop_on: dt.date,
    final_read: Decimal | None,
):
    taken = list(AccountService.objects.filter(service_account=account))
    if not taken:
        raise ApplicationError("The account takes no service: there is nothing to bill.")
    has_water = any(s.service == Service.WATER for s in taken)
    if has_water and final_read is None:
        raise ApplicationError(
            "Enter the final meter read (CCF used since the last bill): the account has water."
        )
    lines = []
    month = first_month
    last_month = stop_on.replace(day=1)
    while month <= last_month:
        rates = rates_in_force(period=month)
        days, days_in_month = days_served(month, first=started_on, last=stop_on)
        first_day = started_on if started_on and started_on.replace(day=1) == month else month
        for item in sorted(taken, key=lambda s: SERVICE_ORDER.index(s.service)):
            schedule = rates.get(item.service)
            if schedule is None:
                raise ApplicationError(
                    f"No {Service(item.service).label.lower()} rate is in force for {month:%Y-%m}."
                )
            consumption = final_read if item.service == Service.WATER and month == last_month else None
            monthly = prorated_charge(
                units=item.units, schedule=schedule, days=days, days_in_month=days_in_month
            )
            amount = monthly + (
                bill_line_amount(units=Decimal("0"), schedule=schedule, consumption_ccf=consumption)
                if consumption
                else ZERO
            )
            served = service_month_label(month, first=started_on, last=stop_on)
            lines.append(
                BillLine(
                    position=len(lines) + 1,
                    description=f"{Service(item.service).label} service, {served}"[:200],
                    service=item.service,
                    units=item.units,
                    monthly_charge_per_unit=schedule.monthly_charge_per_unit,
                    consumption_ccf=consumption,
                    charge_per_ccf=schedule.charge_per_ccf if consumption is not None else None,
                    rate_schedule=schedule,
                    amount=amount,
                    served_from=first_day,
                    served_to=first_day + dt.timedelta(days=days - 1),
                )
            )
        month = add_months(month, 1)
    return lines


def service_account_close(
    *,
    service_account: ServiceAccount,
    stop_on: dt.date,
    by: User,
    final_read: Decimal | None = None,
    forwarding: dict | None = None,
) -> Bill:
    """Stop service on `stop_on` and issue the final bill; the account is closed. A forwarding
    address becomes the mailing address, so the final bill and any letter reach the customer."""
    if not by.has_perm("accounts.open_close_account"):
        raise ApplicationError("Your role cannot close accounts.")
    today = local_today()
    if stop_on > today:
        raise ApplicationError("The stop date is in the future: close the account on or after it.")
    with transaction.atomic():
        billing_accounts_lock(service_account_ids=[service_account.pk])
        account = ServiceAccount.objects.select_for_update().get(pk=service_account.pk)
        if account.status == ServiceAccount.Status.CLOSED:
            raise ApplicationError(f"Account {account.account_number} is closed already.")
        last = Bill.objects.filter(service_account=account).order_by("-period").first()
        opened = account.service_starts_on or timezone.localdate(account.created_at)
        first_month = _final_bill_first_month(account, last=last, opened=opened, stop_on=stop_on)
        lines = _final_lines(
            account,
            first_month=first_month,
            started_on=None if last else account.service_starts_on,
            stop_on=stop_on,
            final_read=final_read,
        )
        total = sum((line.amount for line in lines), ZERO)
        due = today + dt.timedelta(days=FINAL_BILL_DUE_DAYS)
        since = last.issued_on if last else opened - dt.timedelta(days=1)
        lines += _final_debit_lines(account, since=since, today=today, start=len(lines) + 1)
        charge = _final_charge_post(account, total=total, today=today, due=due, stop_on=stop_on)
        bill = _final_bill_write(
            account, lines, charge=charge, since=since, today=today, due=due, stop_on=stop_on
        )
        account.status = ServiceAccount.Status.CLOSED
        for name, value in (forwarding or {}).items():
            setattr(account, name, value)
        account.save()
        audit_record(
            actor=by,
            action="account.close",
            target=account,
            summary=f"{by.email} closed account {account.account_number}: service to {stop_on:%m/%d/%Y}, "
            f"final bill ${total:,.2f}",
            changes={"stop_on": stop_on.isoformat(), "final_charges": str(total)},
            account_number=account.account_number,
        )
    _final_bill_tell(account, bill, stop_on=stop_on)
    return bill


def _final_bill_first_month(account, *, last, opened: dt.date, stop_on: dt.date) -> dt.date:
    """The first month the final bill covers (after the last bill's), or ApplicationError when the
    stop date falls before it or before service started."""
    first_month = add_months(last.period, 1) if last else opened.replace(day=1)
    if stop_on < first_month:
        raise ApplicationError(
            f"The account is billed through {first_month - dt.timedelta(days=1):%m/%d/%Y}: "
            "choose a stop date after that."
        )
    if last is None and account.service_starts_on and stop_on < opened:
        raise ApplicationError(
            f"Service on this account starts on {opened:%m/%d/%Y}: choose a stop date on or after it."
        )
    return first_month


def _final_debit_lines(account, *, since: dt.date, today: dt.date, start: int) -> list[BillLine]:
    """Fees, adjustments and returned checks posted since the last bill: on the final bill too."""
    entries = LedgerEntry.objects.filter(
        service_account=account, posted_on__gt=since, posted_on__lte=today, amount__gt=0
    ).order_by("posted_on", "id")
    return [
        BillLine(
            position=position,
            description=f"{entry.description or entry.get_kind_display()} (posted {entry.posted_on:%m/%d/%Y})"[
                :200
            ],
            ledger_entry=entry,
            amount=entry.amount,
        )
        for position, entry in enumerate(entries, start=start)
    ]


def _final_charge_post(account, *, total: Decimal, today: dt.date, due: dt.date, stop_on: dt.date):
    """The final bill's charge, or None when the final months cost nothing."""
    if total <= 0:
        return None
    posted = ledger_post(
        postings=[
            Posting(
                service_account_id=account.pk,
                kind=LedgerEntry.Kind.CHARGE,
                amount=total,
                posted_on=today,
                due_date=due,
                description=f"Final bill, service to {stop_on:%m/%d/%Y}",
                source_key=f"final:{account.pk}:{stop_on.isoformat()}",
            )
        ]
    )
    if not posted:
        raise ApplicationError("This final bill was posted already.")
    return posted[0]


def _final_bill_write(
    account, lines, *, charge, since: dt.date, today: dt.date, due: dt.date, stop_on: dt.date
):
    """The final bill and its lines: the balance before the last bill's issue, what was paid and
    charged since (the final charge included)."""
    entries = LedgerEntry.objects.filter(service_account=account)
    before = entries.filter(posted_on__lte=since)
    if charge is not None:
        before = before.exclude(pk=charge.pk)  # closed on the day of the last bill: still new
    previous = before.aggregate(total=Sum("amount"))["total"] or ZERO
    window = entries.filter(posted_on__lte=today).exclude(pk__in=before.values("pk"))
    paid = -(window.filter(amount__lt=0).aggregate(total=Sum("amount"))["total"] or ZERO)
    new = window.filter(amount__gt=0).aggregate(total=Sum("amount"))["total"] or ZERO
    bill = Bill.objects.create(
        service_account=account,
        period=stop_on.replace(day=1),
        issued_on=today,
        due_date=due,
        previous_balance=previous,
        payments_and_credits=paid,
        new_charges=new,
        total_due=previous - paid + new,
        past_due_amount=account_past_due(service_account=account, as_of=today),
        ledger_entry=charge,
        stopped_on=stop_on,
    )
    for line in lines:
        line.bill = bill
    BillLine.objects.bulk_create(lines)
    return bill


def _final_bill_tell(account, bill: Bill, *, stop_on: dt.date) -> None:
    email_send(
        kind=BILL_READY,
        subject=format_lazy(_("Your final bill for account {number}"), number=account.account_number),
        template="emails/notice",
        context={
            "lines": [
                format_lazy(
                    _("Service at {address} stopped on {date}."),
                    address=account.service_address,
                    date=local_date(stop_on),
                ),
                format_lazy(
                    _("Your final bill is {amount}, due {date}."),
                    amount=money(bill.total_due),
                    date=local_date(bill.due_date),
                ),
            ]
        },
        users=users_for_account(service_account=account),
        addresses=[account.email] if account.email else [],
        required=True,
        reference=f"final:{account.pk}",
        account_number=account.account_number,
    )
