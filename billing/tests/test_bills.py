import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.tests.factories import AccountLinkFactory, ServiceAccountFactory
from billing.models import Bill, BillingAccount, LedgerEntry, Service
from billing.services.bills import bills_run
from billing.tests.factories import AccountServiceFactory, MeterReadFactory, RateScheduleFactory, post
from kernel.errors import ApplicationError

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def rates():
    """Sewer and water rates for the year from July 1, 2025 and the year from July 1, 2026."""
    return {
        "old_sewer": RateScheduleFactory(
            service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
        ),
        "new_sewer": RateScheduleFactory(
            service=Service.SEWER, effective_date=D(2026, 7, 1), monthly_charge_per_unit=Decimal("51.25")
        ),
        "old_water": RateScheduleFactory(
            service=Service.WATER,
            effective_date=D(2025, 7, 1),
            monthly_charge_per_unit=Decimal("18.00"),
            charge_per_ccf=Decimal("3.85"),
        ),
        "new_water": RateScheduleFactory(
            service=Service.WATER,
            effective_date=D(2026, 7, 1),
            monthly_charge_per_unit=Decimal("19.10"),
            charge_per_ccf=Decimal("4.05"),
        ),
    }


def sewer_account(**kwargs):
    return AccountServiceFactory(service=Service.SEWER, **kwargs).service_account


def test_june_is_billed_at_the_old_rate_and_july_at_the_new(rates):
    account = sewer_account()

    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)

    june, july = Bill.objects.filter(service_account=account).order_by("period")
    assert june.new_charges == Decimal("48.50")
    assert july.new_charges == Decimal("51.25")
    assert june.lines.get().rate_schedule == rates["old_sewer"]


@pytest.mark.parametrize(
    ("period", "due"), [(D(2026, 6, 1), D(2026, 7, 20)), (D(2026, 12, 1), D(2027, 1, 20))]
)
def test_a_bill_is_due_on_the_20th_of_the_next_month(rates, period, due):
    account = sewer_account()
    bills_run(period=period, issued_on=D(2027, 1, 2), notify=False)

    bill = Bill.objects.get(service_account=account)
    assert bill.due_date == due
    assert bill.ledger_entry.due_date == due
    assert bill.ledger_entry.posted_on == D(2027, 1, 2)


def test_running_a_month_again_adds_nothing(rates):
    account = sewer_account()
    first = bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    second = bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 2), notify=False)

    assert (first.created, second.created) == (1, 0)
    assert Bill.objects.count() == 1
    assert LedgerEntry.objects.filter(service_account=account).count() == 1
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("48.50")


def test_water_line_is_units_times_rate_plus_ccf_times_rate_rounded_half_up(rates):
    account = AccountServiceFactory(service=Service.WATER, units=Decimal("1.5")).service_account
    # 1.5 × 19.10 + 7.3 × 4.05 = 28.65 + 29.565 = 58.215 -> 58.22
    MeterReadFactory(service_account=account, period=D(2026, 7, 1), consumption_ccf=Decimal("7.3"))

    bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)

    line = Bill.objects.get(service_account=account).lines.get()
    assert line.amount == Decimal("58.22")
    assert line.consumption_ccf == Decimal("7.3")


def test_bill_figures_add_up_to_the_balance_with_fees_shown_as_lines(rates):
    account = sewer_account()
    bills_run(period=D(2026, 5, 1), issued_on=D(2026, 6, 1), notify=False)  # 48.50 due 6/20
    post(account, "payment", "20.00", D(2026, 6, 15))
    post(account, "late_fee", "5.00", D(2026, 6, 25), D(2026, 6, 25), description="Late fee")

    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)

    bill = Bill.objects.get(service_account=account, period=D(2026, 6, 1))
    assert bill.previous_balance == Decimal("48.50")
    assert bill.payments_and_credits == Decimal("20.00")
    assert bill.new_charges == Decimal("53.50")  # 48.50 sewer + 5.00 late fee
    assert bill.total_due == Decimal("82.00")
    assert bill.total_due == BillingAccount.objects.get(pk=account.pk).balance
    assert bill.past_due_amount == Decimal("33.50")  # 28.50 of May's bill and the fee
    assert [line.description.split(" (")[0] for line in bill.lines.all()] == [
        "Sewer service, June 2026",
        "Late fee",
    ]


def test_only_active_accounts_with_services_are_billed(rates):
    billed = sewer_account()
    sewer_account(service_account=ServiceAccountFactory(status="closed"))
    ServiceAccountFactory()  # takes no service

    result = bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)

    assert result.created == 1
    assert list(Bill.objects.values_list("service_account", flat=True)) == [billed.pk]


def test_missing_rate_refuses_the_whole_run():
    sewer_account()
    RateScheduleFactory(service=Service.SEWER, effective_date=D(2026, 7, 1))

    with pytest.raises(ApplicationError, match="No sewer rate is in force for 2026-06"):
        bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    assert not Bill.objects.exists()


def test_water_account_without_a_read_waits_for_it(rates):
    account = AccountServiceFactory(service=Service.WATER).service_account

    result = bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)
    assert result.missing_reads == [account.account_number]
    assert not Bill.objects.exists()

    MeterReadFactory(service_account=account, period=D(2026, 7, 1))
    assert bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 2), notify=False).created == 1


def test_a_month_that_has_not_ended_cannot_be_billed(rates):
    sewer_account()
    with pytest.raises(ApplicationError, match="has not ended"):
        bills_run(period=D(2026, 7, 1), issued_on=D(2026, 7, 31), notify=False)


def test_bill_ready_email_goes_to_each_linked_login_once(rates, django_capture_on_commit_callbacks):
    account = sewer_account()
    owner = AccountLinkFactory(service_account=account).user
    tenant = AccountLinkFactory(service_account=account).user

    from billing.services.notices import bills_send_ready_notices

    result = bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    bills_send_ready_notices(bill_ids=result.bill_ids)
    bills_send_ready_notices(bill_ids=result.bill_ids)  # a task delivered twice

    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, tenant.email])
    assert "$48.50" in mail.outbox[0].body
    assert "July 20, 2026" in mail.outbox[0].body


def test_run_billing_command_reports_and_rejects_bad_input(rates, capsys):
    sewer_account()
    call_command("run_billing", "--period", "2026-06", "--issue-date", "2026-07-01", "--no-email")
    assert "1 created, 0 already billed" in capsys.readouterr().out

    call_command("run_billing", "--period", "2026-06", "--issue-date", "2026-07-01", "--no-email")
    assert "0 created, 1 already billed" in capsys.readouterr().out

    for args in (
        ["--period", "2026-13"],
        ["--period", "June"],
        ["--period", "2026-06", "--issue-date", "7/1/26"],
    ):
        with pytest.raises(CommandError):
            call_command("run_billing", *args)


def test_a_part_month_that_comes_to_exactly_half_a_cent_rounds_up_on_the_bill_and_the_final_bill():
    # 13 of June's 30 days at 20.25 a month is 8.775 exactly: 8.78, half up, both ways of billing.
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2026, 1, 1), monthly_charge_per_unit=Decimal("20.25")
    )
    from billing.services.bills import prorated_charge, rates_in_force

    schedule = rates_in_force(period=D(2026, 6, 1))[Service.SEWER]
    account = sewer_account(service_account=ServiceAccountFactory(service_starts_on=D(2026, 6, 18)))

    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)

    line = Bill.objects.get(service_account=account).lines.get()
    assert line.amount == Decimal("8.78")
    assert line.description == "Sewer service, June 18-30, 2026 (13 of 30 days)"
    assert prorated_charge(units=Decimal("1"), schedule=schedule, days=13, days_in_month=30) == Decimal(
        "8.78"
    )


def test_a_chunk_with_a_service_that_has_no_rate_is_refused_and_bills_nobody(rates):
    # Added after the run checked its rates (a chunk waiting for a worker): refused, not left off.
    billed = sewer_account()
    surface = AccountServiceFactory(service=Service.SURFACE_WATER).service_account
    from billing.services.bills import bills_run_chunk

    with pytest.raises(
        ApplicationError, match=f"Account {surface.account_number} takes a service with no rate"
    ):
        bills_run_chunk(
            account_ids=[billed.pk, surface.pk], period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False
        )

    assert not Bill.objects.exists() and not LedgerEntry.objects.exists()
