"""The journal for the general ledger: debits equal credits over the demo year, and each account
code's figure equals what the ledger and the bills say when added up another way."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ServiceAccountFactory, staff_user
from billing.journal import journal
from billing.models import BillLine, GLAccount, LedgerEntry
from billing.tests.factories import post

pytestmark = pytest.mark.django_db
D = dt.date
Role = GLAccount.Role


def net(entries, role) -> Decimal:
    return entries.debits[role] - entries.credits[role]


def ledger_sum(**filters) -> Decimal:
    return LedgerEntry.objects.filter(**filters).aggregate(t=Sum("amount"))["t"] or Decimal("0")


def test_over_the_demo_year_debits_equal_credits_and_each_account_adds_up():
    call_command("seed_demo", accounts=40)
    first, last = (
        LedgerEntry.objects.order_by("posted_on").values_list("posted_on", flat=True)[:1][0],
        D(2026, 12, 31),
    )
    account = ServiceAccountFactory()
    post(account, "charge", "100.00", first, first)
    paid = post(account, "payment", "60.00", first)
    post(account, "reversal", "60.00", first, reverses=paid)  # returned
    post(account, "credit", "25.00", first)
    fee = post(account, "late_fee", "5.00", first, first)
    post(account, "reversal", "-5.00", first, reverses=fee)  # waived

    entries = journal(start=first, end=last)

    assert entries.rows == LedgerEntry.objects.filter(posted_on__range=(first, last)).count() > 500
    assert entries.total_debits == entries.total_credits > 0
    in_range = {"posted_on__range": (first, last)}
    # Receivables move by every row's amount; the tax roll takes what was transferred to it.
    assert net(entries, Role.RECEIVABLES) == ledger_sum(**in_range)
    assert net(entries, Role.TAX_ROLL_RECEIVABLE) == -ledger_sum(kind="tax_roll_transfer", **in_range)
    # Cash: the payments, less those that came back or were refunded.
    payments = -ledger_sum(kind="payment", **in_range)
    undone = ledger_sum(kind="reversal", reverses__kind="payment", **in_range)
    assert net(entries, Role.CASH) == payments - undone
    # Revenue: each service's bill lines, for the bills whose charges were posted in the range.
    lines = BillLine.objects.filter(
        bill__ledger_entry__posted_on__range=(first, last), ledger_entry__isnull=True
    )
    for service, role in [
        ("sewer", Role.REVENUE_SEWER),
        ("surface_water", Role.REVENUE_SURFACE_WATER),
        ("water", Role.REVENUE_WATER),
    ]:
        assert -net(entries, role) == (lines.filter(service=service).aggregate(t=Sum("amount"))["t"] or 0)
    billed_charges = ledger_sum(kind="charge", bill__isnull=False, **in_range)
    assert (
        -sum(net(entries, r) for r in (Role.REVENUE_SEWER, Role.REVENUE_SURFACE_WATER, Role.REVENUE_WATER))
        == billed_charges
    )
    assert -net(entries, Role.REVENUE_OTHER) == ledger_sum(kind="charge", bill__isnull=True, **in_range)
    # The waived fee is taken back off fee revenue; the credit is a billing adjustment.
    assert entries.debits[Role.FEES_LATE] >= Decimal("5.00")
    assert entries.debits[Role.ADJUSTMENTS] >= Decimal("25.00")


def test_write_offs_assistance_and_the_codes_finance_sets_reach_the_page_and_files():
    from billing.models import Adjustment
    from billing.services.adjustments import adjustment_request
    from billing.tests.factories import adjustment_reason

    day = D(2026, 6, 1)
    account = ServiceAccountFactory()
    post(account, "charge", "80.00", day, day)
    from billing.services.ledger import Posting, ledger_post

    ledger_post(
        postings=[
            Posting(
                service_account_id=account.pk,
                kind="credit",
                amount=Decimal("-30.00"),
                posted_on=day,
                source_key="assist:900",
            )
        ]
    )
    supervisor = staff_user("Supervisors")
    written = adjustment_request(
        service_account=account,
        kind="write_off",
        amount=Decimal("50.00"),
        reason=adjustment_reason("Bad debt write-off"),
        memo="Estate closed",
        by=supervisor,
    )
    assert written.status == Adjustment.Status.POSTED  # under the approval limit
    GLAccount.objects.filter(role=Role.WRITE_OFFS).update(code="7001", name="Uncollectible accounts")

    today = written.requested_at.date()
    entries = journal(start=day, end=max(today, day))
    assert entries.debits[Role.ASSISTANCE] == Decimal("30.00")
    assert entries.debits[Role.WRITE_OFFS] == Decimal("50.00")
    assert entries.total_debits == entries.total_credits

    finance = Client()
    finance.force_login(staff_user("Finance"))
    params = {"start": day.isoformat(), "end": max(today, day).isoformat()}
    page = finance.get(reverse("report_journal"), params).content.decode()
    assert "Utility assistance credits" in page and "$30.00" in page
    rows = list(
        csv.reader(
            io.StringIO(finance.get(reverse("report_journal"), {**params, "format": "csv"}).content.decode())
        )
    )
    assert rows[0] == ["code", "name", "debit", "credit"]
    assert sum(Decimal(r[2]) for r in rows[1:]) == sum(Decimal(r[3]) for r in rows[1:])
    assert ["7001", "Uncollectible accounts", "50.00", "0.00"] in rows
    clerk = Client()
    clerk.force_login(staff_user("Clerks"))
    assert clerk.get(reverse("report_journal")).status_code == 403


def test_a_waiver_undone_a_returned_check_fee_and_a_corrected_bill_land_in_their_accounts():
    from billing.models import Bill, BillLine
    from billing.services.ledger import ledger_reverse

    day = D(2026, 5, 1)
    account = ServiceAccountFactory()
    charge = post(account, "charge", "100.00", day, D(2026, 5, 20))
    bill = Bill.objects.create(
        service_account=account,
        period=D(2026, 4, 1),
        issued_on=day,
        due_date=D(2026, 5, 20),
        previous_balance=0,
        payments_and_credits=0,
        new_charges=Decimal("100.00"),
        total_due=Decimal("100.00"),
        past_due_amount=0,
        ledger_entry=charge,
    )
    BillLine.objects.create(
        bill=bill, position=1, description="Sewer", service="sewer", amount=Decimal("60.00")
    )
    BillLine.objects.create(
        bill=bill, position=2, description="Water", service="water", amount=Decimal("40.00")
    )
    fee = post(account, "late_fee", "5.00", D(2026, 5, 25), D(2026, 6, 10))
    waiver = ledger_reverse(entry=fee, posted_on=D(2026, 5, 26), source_key="w", description="Fee waived")
    ledger_reverse(entry=waiver, posted_on=D(2026, 5, 27), source_key="w-undo", description="Waiver undone")
    from billing.services.ledger import Posting, ledger_post

    ledger_post(
        postings=[
            Posting(
                service_account_id=account.pk,
                kind="adjustment",
                amount=Decimal("25.00"),
                posted_on=D(2026, 5, 28),
                due_date=D(2026, 5, 28),
                source_key="returned-fee:1",
            )
        ]
    )
    ledger_reverse(
        entry=charge, amount=Decimal("10.00"), posted_on=D(2026, 5, 29), source_key="fix", description="Fix"
    )

    entries = journal(start=day, end=D(2026, 5, 31))

    assert (entries.credits[Role.REVENUE_SEWER], entries.credits[Role.REVENUE_WATER]) == (
        Decimal("60.00"),
        Decimal("40.00"),
    )
    # The fee was waived, then the waiver undone: the fee stands, in late fees (not adjustments).
    assert net(entries, Role.FEES_LATE) == Decimal("-5.00")
    assert net(entries, Role.FEES_RETURNED) == Decimal("-25.00")
    # A part of a two-service bill corrected: a billing adjustment.
    assert net(entries, Role.ADJUSTMENTS) == Decimal("10.00")
    assert net(entries, Role.RECEIVABLES) == ledger_sum(posted_on__range=(day, D(2026, 5, 31)))


def test_a_role_without_its_code_is_still_shown():
    account = ServiceAccountFactory()
    post(account, "payment", "12.00", D(2026, 5, 2))
    GLAccount.objects.filter(role=Role.CASH).delete()
    lines = journal(start=D(2026, 5, 1), end=D(2026, 5, 31)).lines()
    assert ("(no code)", "Cash", Decimal("12.00"), Decimal("0")) in lines
