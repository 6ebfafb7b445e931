import datetime as dt
from decimal import Decimal

import factory
from django.test import Client

from accounts.tests.factories import AccountLinkFactory, ServiceAccountFactory
from billing.models import (
    AccountService,
    Bill,
    BillingAccount,
    LedgerEntry,
    MeterRead,
    Payment,
    RateSchedule,
    SavedCard,
    Service,
)
from billing.services.ledger import Posting, ledger_post


class RateScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateSchedule

    service = Service.SEWER
    effective_date = dt.date(2025, 7, 1)
    monthly_charge_per_unit = Decimal("40.00")
    charge_per_ccf = Decimal("0")


class AccountServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountService

    service_account = factory.SubFactory(ServiceAccountFactory)
    service = Service.SEWER
    units = Decimal("1")


class MeterReadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeterRead

    service_account = factory.SubFactory(ServiceAccountFactory)
    period = dt.date(2026, 6, 1)
    consumption_ccf = Decimal("10")


class BillFactory(factory.django.DjangoModelFactory):
    """A June 2026 bill, without a bill run (for pages and emails about one bill)."""

    class Meta:
        model = Bill

    service_account = factory.SubFactory(ServiceAccountFactory)
    period = dt.date(2026, 6, 1)
    issued_on = dt.date(2026, 7, 1)
    due_date = dt.date(2026, 7, 20)
    previous_balance = Decimal("0")
    payments_and_credits = Decimal("0")
    new_charges = Decimal("10.00")
    total_due = factory.SelfAttribute("new_charges")
    past_due_amount = Decimal("0")


_counter = iter(range(1, 10**9))


class SavedCardFactory(factory.django.DjangoModelFactory):
    """A card a customer saved (as Stripe would have it: a payment method id, no number)."""

    class Meta:
        model = SavedCard

    user = factory.SubFactory("accounts.tests.factories.UserFactory")
    stripe_payment_method_id = factory.Sequence(lambda n: f"pm_test_{n}")
    brand = "visa"
    last4 = "4242"
    exp_month = 12
    exp_year = 2030


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment row only: nothing posted to the ledger (see `paid` for both)."""

    class Meta:
        model = Payment

    service_account = factory.SubFactory(ServiceAccountFactory)
    amount = Decimal("20.00")
    channel = Payment.Channel.ONLINE
    method = Payment.Method.CARD
    received_on = dt.date(2026, 7, 1)


def post(account, kind, amount, posted_on, due_date=None, reverses=None, description="") -> LedgerEntry:
    """Post one ledger row through the service; amount as a customer reads it (positive)."""
    sign = -1 if kind in ("payment", "credit") else 1
    signed = Decimal(amount) * sign if kind != "reversal" else Decimal(amount)
    if kind in ("charge", "late_fee", "door_hanger_fee") and due_date is None:
        due_date = posted_on
    (entry,) = ledger_post(
        postings=[
            Posting(
                service_account_id=account.pk,
                kind=kind,
                amount=signed,
                posted_on=posted_on,
                due_date=due_date,
                description=description,
                source_key=f"test:{next(_counter)}",
                reverses_id=reverses.pk if reverses else None,
            )
        ]
    )
    return entry


def balance(account) -> Decimal:
    """The account's balance as the ledger keeps it."""
    return BillingAccount.objects.get(pk=account.pk).balance


def adjustment_reason(name: str = "Leak credit"):
    """A reason from the utility's list (migration billing/0009 makes the starting list; tests that
    flush the database between them lose it, so each asks for its own)."""
    from billing.models import AdjustmentReason

    return AdjustmentReason.objects.get_or_create(name=name)[0]


def signed_in_customer(**account):
    """A customer signed in (a test client) with a linked account taking one unit of sewer
    service: (client, user, account). `account` sets the account's fields."""
    link = AccountLinkFactory(service_account=ServiceAccountFactory(**account))
    AccountServiceFactory(service_account=link.service_account, service=Service.SEWER, units=Decimal("1"))
    client = Client()
    client.force_login(link.user)
    return client, link.user, link.service_account


def at(time_machine, day: dt.date) -> None:
    """The clock set to 18:00 UTC of `day` (the morning of the same day on the Pacific coast),
    standing still."""
    time_machine.move_to(dt.datetime(day.year, day.month, day.day, 18, tzinfo=dt.UTC), tick=False)


def sewer_rate(monthly: str = "48.50", effective_date: dt.date = dt.date(2025, 7, 1)) -> RateSchedule:
    """A sewer rate of `monthly` dollars a unit a month, in force from `effective_date`."""
    return RateScheduleFactory(
        service=Service.SEWER, effective_date=effective_date, monthly_charge_per_unit=Decimal(monthly)
    )


def paid(account, channel, method, amount, day):
    """A payment as its channel records it: the payment row and its one ledger row."""
    from billing.models import Payment
    from billing.services.ledger import Posting, ledger_post

    payment = Payment.objects.create(
        service_account=account,
        amount=Decimal(amount),
        channel=channel,
        method=method,
        status="succeeded",
        received_on=day,
    )
    (entry,) = ledger_post(
        postings=[
            Posting(
                service_account_id=account.pk,
                kind="payment",
                amount=-Decimal(amount),
                posted_on=day,
                source_key=f"payment:{payment.pk}",
            )
        ]
    )
    payment.ledger_entry = entry
    payment.save(update_fields=["ledger_entry"])
    return payment
