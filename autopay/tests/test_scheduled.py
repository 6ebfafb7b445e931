"""Scheduled payments: a chosen amount on a chosen date, by saved card or bank account; a reminder
the day before; cancelled until then; made once however often the run goes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, UserFactory
from autopay.models import BankAccount, PaymentAuthorization, ScheduledPayment
from autopay.services.bank import bank_payments_settle, nacha_export
from autopay.services.bank_accounts import bank_account_add
from autopay.services.scheduled import scheduled_payments_remind, scheduled_payments_run
from billing.models import Payment
from billing.tests.factories import balance, post
from billing.tests.stripe_browser import DECLINED_AT_CHARGE, VISA, saved_card

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def customer(client, time_machine):
    """December 1, 2026; $120.00 due December 20; a saved Visa."""
    time_machine.move_to(dt.datetime(2026, 12, 1, 18, tzinfo=dt.UTC), tick=True)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "120.00", D(2026, 11, 1), D(2026, 12, 20))
    client.force_login(user)
    return {"user": user, "account": account, "card": saved_card(user, VISA)}


def schedule(client, account, **fields):
    data = {"amount": "120.00", "pay_on": "2026-12-15", "accept_terms": "on", **fields}
    return client.post(reverse("scheduled_payments", args=[account.pk]), data)


def test_a_card_payment_is_reminded_the_day_before_and_made_once_on_its_day(client, customer):
    account, card = customer["account"], customer["card"]
    response = schedule(client, account, method=f"card-{card.pk}")

    assert response.status_code == 302
    scheduled = ScheduledPayment.objects.get()
    assert (scheduled.pay_on, scheduled.amount, scheduled.card) == (D(2026, 12, 15), Decimal("120.00"), card)
    assert scheduled.authorization.kind == PaymentAuthorization.Kind.SCHEDULED_PAYMENT
    assert (
        "December 15, 2026"
        in client.get(reverse("service_account_detail", args=[account.pk])).content.decode()
    )

    assert scheduled_payments_remind(on=D(2026, 12, 13)) == 0
    assert scheduled_payments_remind(on=D(2026, 12, 14)) == 1
    assert scheduled_payments_remind(on=D(2026, 12, 14)) == 0
    (email,) = mail.outbox
    assert "Tomorrow, December 15, 2026, we will pay $120.00" in email.body
    assert scheduled_payments_run(on=D(2026, 12, 14)).paid == 0

    first = scheduled_payments_run(on=D(2026, 12, 15))
    second = scheduled_payments_run(on=D(2026, 12, 15))

    assert (first.paid, second.paid) == (1, 0)
    scheduled.refresh_from_db()
    assert scheduled.status == ScheduledPayment.Status.PAID
    assert scheduled.payment.status == Payment.Status.SUCCEEDED
    assert Payment.objects.count() == 1 and balance(account) == 0


def test_a_declined_card_fails_and_says_so(client, customer):
    declined = saved_card(customer["user"], DECLINED_AT_CHARGE)  # saved, then declined when charged
    schedule(client, customer["account"], method=f"card-{declined.pk}")

    assert scheduled_payments_run(on=D(2026, 12, 15)).failed == 1

    scheduled = ScheduledPayment.objects.get()
    assert scheduled.status == ScheduledPayment.Status.FAILED and scheduled.failure_message
    assert "was not made" in mail.outbox[-1].body
    assert balance(customer["account"]) == Decimal("120.00")


def test_cancelled_until_the_day_before_and_not_on_the_day(client, customer, time_machine):
    account = customer["account"]
    schedule(client, account, method=f"card-{customer['card'].pk}")
    schedule(client, account, method=f"card-{customer['card'].pk}", amount="10.00", pay_on="2026-12-02")
    later, tomorrow = ScheduledPayment.objects.order_by("-pay_on")
    cancel = reverse("scheduled_payment_cancel", args=[account.pk, later.pk])

    assert "Yes, cancel this payment" in client.get(cancel).content.decode()
    client.post(cancel)
    later.refresh_from_db()
    assert later.status == ScheduledPayment.Status.CANCELLED

    time_machine.move_to(dt.datetime(2026, 12, 2, 18, tzinfo=dt.UTC), tick=True)
    client.force_login(customer["user"])
    response = client.post(reverse("scheduled_payment_cancel", args=[account.pk, tomorrow.pk]), follow=True)
    assert "can be cancelled until the day before" in response.content.decode()
    tomorrow.refresh_from_db()
    assert tomorrow.status == ScheduledPayment.Status.SCHEDULED
    assert scheduled_payments_run(on=D(2026, 12, 15)).paid == 1  # the cancelled one is never made


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"pay_on": "2026-12-01"}, "Choose a date from December 2, 2026 to December 20, 2026"),
        ({"pay_on": "2026-12-21"}, "Choose a date from December 2, 2026 to December 20, 2026"),
        ({"pay_on": "soon"}, "Enter a date like"),
        ({"accept_terms": ""}, "Tick the box to authorize the payment"),
        ({"method": "card-999999999999999999999"}, "Choose how to pay"),
    ],
)
def test_bad_input_schedules_nothing(client, customer, fields, message):
    response = schedule(client, customer["account"], **{"method": f"card-{customer['card'].pk}", **fields})

    assert message in response.content.decode()
    assert not ScheduledPayment.objects.exists() and not PaymentAuthorization.objects.exists()


def test_another_customers_scheduled_payment_is_not_found(client, customer):
    schedule(client, customer["account"], method=f"card-{customer['card'].pk}")
    scheduled = ScheduledPayment.objects.get()
    other = UserFactory()
    AccountLinkFactory(user=other, service_account=customer["account"])
    client.force_login(other)

    # Linked to the same account, but not the login that scheduled it.
    assert (
        client.post(
            reverse("scheduled_payment_cancel", args=[customer["account"].pk, scheduled.pk])
        ).status_code
        == 404
    )
    scheduled.refresh_from_db()
    assert scheduled.status == ScheduledPayment.Status.SCHEDULED


def test_a_bank_payment_scheduled_for_a_day_goes_in_that_days_file(client, customer, tmp_path):
    bank = bank_account_add(
        user=customer["user"],
        holder_name="Pat Doe",
        routing_number="091000019",
        account_number="555000111",
        account_type="savings",
    )
    too_soon = schedule(client, customer["account"], method=f"bank-{bank.pk}", pay_on="2026-12-03")
    assert "can be on December 7, 2026 or later" in too_soon.content.decode()
    schedule(client, customer["account"], method=f"bank-{bank.pk}", pay_on="2026-12-14")
    nacha_export(on=D(2026, 12, 2), path=tmp_path / "prenote.ach")
    bank_payments_settle(on=D(2026, 12, 7))
    assert BankAccount.objects.get().status == BankAccount.Status.VERIFIED

    built = nacha_export(on=D(2026, 12, 14), path=tmp_path / "dec14.ach")  # written on Friday the 11th

    (debit,) = built.debits
    assert debit.payment.amount == Decimal("120.00") and debit.payment.received_on == D(2026, 12, 14)
    assert ScheduledPayment.objects.get().status == ScheduledPayment.Status.SENT
    assert scheduled_payments_run(on=D(2026, 12, 14)).sent == 0  # made once, by the file
    bank_payments_settle(on=D(2026, 12, 14))
    assert balance(customer["account"]) == 0
