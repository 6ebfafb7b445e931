"""Customers ask to start, stop or move service; a clerk works each request step by step. And the
first bill of an account that starts mid-month counts the days from the start."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AccountLink, ServiceAccount
from accounts.tests.factories import AccountLinkFactory, ServiceAccountFactory, UserFactory, staff_user
from billing.models import Bill, LedgerEntry, Service, ServiceRequest
from billing.selectors import account_balance
from billing.services.bills import bills_run
from billing.services.service_changes import service_account_close
from billing.tests.factories import (
    AccountServiceFactory,
    PaymentFactory,
    at,
    post,
    sewer_rate,
    signed_in_customer,
)
from kernel.errors import ApplicationError

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def rates():
    sewer_rate("48.50")


# --- the first bill counts the days from the start -------------------------------------------


def test_the_first_bill_counts_the_days_from_the_start_and_no_month_before_it_is_billed(rates, time_machine):
    at(time_machine, D(2026, 8, 2))
    account = AccountServiceFactory(
        service=Service.SEWER, service_account__service_starts_on=D(2026, 7, 10)
    ).service_account

    june = bills_run(period=D(2026, 6, 1), issued_on=D(2026, 8, 1), notify=False)
    july = bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)

    assert june.created == 0  # not served in June
    assert july.created == 1
    line = Bill.objects.get(service_account=account).lines.get()
    assert line.amount == Decimal("34.42")  # 48.50 × 22/31 = 34.419…
    assert (line.served_from, line.served_to, line.days_served, line.days_in_month) == (
        D(2026, 7, 10),
        D(2026, 7, 31),
        22,
        31,
    )
    assert line.description == "Sewer service, July 10-31, 2026 (22 of 31 days)"
    client = Client()
    client.force_login(AccountLinkFactory(service_account=account).user)
    page = client.get(reverse("bill_detail", args=[account.pk, line.bill_id])).content.decode()
    assert "Sewer service, July 10, 2026 to July 31, 2026 (22 of 31 days)" in page
    client.post(reverse("language_set"), {"language": "es"})
    page = client.get(reverse("bill_detail", args=[account.pk, line.bill_id])).content.decode()
    assert "(22 de 31 días)" in page


def test_a_final_bill_in_the_month_service_started_counts_only_the_days_between(rates, time_machine):
    at(time_machine, D(2026, 7, 25))
    account = AccountServiceFactory(
        service=Service.SEWER, service_account__service_starts_on=D(2026, 7, 10)
    ).service_account

    bill = service_account_close(service_account=account, stop_on=D(2026, 7, 19), by=staff_user("Clerks"))

    line = bill.lines.get()
    assert (line.days_served, line.amount) == (10, Decimal("15.65"))  # 48.50 × 10/31
    assert bill.is_final and bill.stopped_on == D(2026, 7, 19)


# --- moving out ------------------------------------------------------------------------------


def test_moving_out_from_request_to_final_bill_at_the_forwarding_address(rates, time_machine):
    at(time_machine, D(2026, 7, 12))
    client, user, account = signed_in_customer()
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    url = reverse("moving_request", args=["stop"])
    form = {
        "from_account": account.pk,
        "stop_on": "2026-07-20",
        "forwarding_address": "PO Box 12",
        "forwarding_city": "Salem",
        "forwarding_state": "or",
        "forwarding_zip": "97301",
    }

    missing = client.post(url, {**form, "forwarding_city": ""})
    far = client.post(url, {**form, "stop_on": "2027-07-20"})
    stranger = client.post(url, {**form, "from_account": ServiceAccountFactory().pk})
    assert "This field is required" in missing.content.decode()
    assert "between today and 90 days from now" in far.content.decode()
    assert "Choose one of your accounts" in stranger.content.decode()
    assert not ServiceRequest.objects.exists()

    co_tenant = AccountLinkFactory(service_account=account).user
    mail.outbox.clear()
    assert client.post(url, form)["Location"] == reverse("moving_home")
    request = ServiceRequest.objects.get()
    [told] = [m for m in mail.outbox if co_tenant.email in m.to]
    assert f"{user.email} asked us to stop service" in told.body  # a co-tenant hears who asked
    assert (request.kind, request.status, request.forwarding_state) == ("move_out", "received", "OR")
    [ack] = [m for m in mail.outbox if user.email in m.to]
    assert ack.subject == "We received your request"
    assert "stops after" in ack.body and "PO Box 12" in ack.body
    again = client.post(url, form)
    assert "already working on a request for this account" in again.content.decode()

    clerk = Client()
    clerk.force_login(staff_user("Clerks"))
    home = clerk.get(reverse("staff_home")).content.decode()
    assert "Start, stop and move requests" in home and reverse("staff_service_requests") in home
    queue = clerk.get(reverse("staff_service_requests")).content.decode()
    assert f"Stop service #{request.pk}" in queue and "Close the old account (from 07/20/2026)" in queue
    work = reverse("staff_service_request", args=[request.pk])
    early = clerk.post(work, {"step": "close"}, follow=True).content.decode()
    assert "The stop date is in the future" in early
    assert ServiceAccount.objects.get(pk=account.pk).status == "active"

    at(time_machine, D(2026, 7, 21))
    clerk.force_login(staff_user("Clerks"))  # a staff session ends after a short idle time
    mail.outbox.clear()
    done = clerk.post(work, {"step": "close"}, follow=True).content.decode()
    assert "is closed; the final bill is $79.79" in done  # June's 48.50 unpaid + 48.50 × 20/31
    account.refresh_from_db()
    request.refresh_from_db()
    assert account.status == "closed" and account.mail_to[-1] == "Salem, OR 97301"
    assert request.status == "done" and request.final_bill.stopped_on == D(2026, 7, 20)
    assert request.final_bill.new_charges == Decimal("31.29")
    assert {m.subject for m in mail.outbox if user.email in m.to} == {
        f"Your final bill for account {account.account_number}",
        "Your request is done",
    }
    assert "is done: nothing to do" in clerk.post(work, {"step": "close"}, follow=True).content.decode()
    client.force_login(user)
    mine = client.get(reverse("moving_home")).content.decode()
    assert (
        '<span class="usa-tag">Done</span>' in mine
        and reverse("bill_detail", args=[account.pk, request.final_bill_id]) in mine
    )


# --- moving in -------------------------------------------------------------------------------


def test_moving_in_opens_an_account_in_the_customers_login_from_the_start_date(rates, time_machine):
    at(time_machine, D(2026, 7, 12))
    user = UserFactory()
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("moving_request", args=["start"]),
        {
            "service_address": "88 Birch Ln",
            "service_city": "Gladstone",
            "service_zip": "97027",
            "start_on": "2026-07-15",
            "customer_name": "Ana Ruiz",
            "phone": "503-555-0188",
        },
    )
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.email == user.email  # blank: the login's

    clerk = Client()
    clerk.force_login(staff_user("Clerks"))
    work = reverse("staff_service_request", args=[request.pk])
    missing = clerk.post(work, {"step": "open", "sewer_units": "1"}).content.decode()
    assert (
        "This field is required" in missing
        and not ServiceAccount.objects.filter(customer_name="Ana Ruiz").exists()
    )
    mail.outbox.clear()
    clerk.post(work, {"step": "open", "tax_lot": "2S2E09", "sewer_units": "1"})

    account = ServiceAccount.objects.get(customer_name="Ana Ruiz")
    request.refresh_from_db()
    assert request.status == "done" and request.new_account == account
    assert account.service_starts_on == D(2026, 7, 15) and account.phone == "503-555-0188"
    assert AccountLink.objects.filter(user=user, service_account=account).exists()
    [email] = [m for m in mail.outbox if user.email in m.to]
    assert email.subject == "Your new account is open" and account.account_number in email.body
    # The first bill: July 15-31.
    bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)
    assert Bill.objects.get(service_account=account).new_charges == Decimal("26.60")  # 48.50 × 17/31


# --- moving within the service area ---------------------------------------------------------


# --- withdrawing, declining, who may work them ---------------------------------------------


def test_the_customer_withdraws_before_a_clerk_starts_and_a_clerk_declines_with_a_reason(rates, time_machine):
    at(time_machine, D(2026, 7, 12))
    client, user, account = signed_in_customer()
    made = {
        "from_account": account,
        "stop_on": D(2026, 7, 20),
        "forwarding_address": "1 A St",
        "forwarding_city": "Salem",
        "forwarding_state": "OR",
        "forwarding_zip": "97301",
    }
    first = ServiceRequest.objects.create(kind="move_out", requested_by=user, **made)
    other = Client()
    other.force_login(UserFactory())
    assert other.post(reverse("moving_withdraw", args=[first.pk])).status_code == 404
    client.post(reverse("moving_withdraw", args=[first.pk]))
    first.refresh_from_db()
    assert first.status == "withdrawn"

    second = ServiceRequest.objects.create(kind="move_out", requested_by=user, **made)
    finance = Client()
    finance.force_login(staff_user("Finance"))
    work = reverse("staff_service_request", args=[second.pk])
    assert finance.get(work).status_code == 200  # finance reads the queue
    assert finance.post(work, {"step": "decline", "decline_reason": "x"}).status_code == 403
    clerk = Client()
    clerk.force_login(staff_user("Clerks"))
    blank = clerk.post(work, {"step": "decline", "decline_reason": " "}).content.decode()
    assert "This field is required" in blank
    mail.outbox.clear()
    clerk.post(work, {"step": "decline", "decline_reason": "The account is in your landlord's name."})
    second.refresh_from_db()
    assert second.status == "declined"
    assert "landlord" in mail.outbox[0].body
    refused = client.post(reverse("moving_withdraw", args=[second.pk]), follow=True).content.decode()
    assert "This request is closed" in refused


def test_a_credit_waits_for_a_refund_and_a_start_in_a_billed_month_moves_to_the_first_day_not_billed(
    rates, time_machine
):
    from billing.models import Payment, Refund

    at(time_machine, D(2026, 7, 12))
    client, user, old = signed_in_customer()
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    post(old, "payment", "150.00", D(2026, 7, 5))
    payment = PaymentFactory(
        service_account=old,
        amount=Decimal("150.00"),
        status=Payment.Status.SUCCEEDED,
        received_on=D(2026, 7, 5),
    )
    refund = Refund.objects.create(
        payment=payment,
        amount=Decimal("100.00"),
        reason="Paid twice",
        status="awaiting_approval",
        created_by=staff_user("Finance"),
    )
    request = ServiceRequest.objects.create(
        kind="transfer",
        requested_by=user,
        from_account=old,
        stop_on=D(2026, 7, 14),
        start_on=D(2026, 7, 31),
        customer_name="Rosa",
        service_address="5 Cedar Ct",
        service_city="Oregon City",
        service_zip="97045",
        phone="503-555-0101",
    )
    clerk_user = staff_user("Clerks")
    clerk = Client()

    # The clerk gets to it after the July bills went out: July 31 is billed, August 1 is not.
    at(time_machine, D(2026, 8, 3))
    bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)
    clerk.force_login(clerk_user)
    work = reverse("staff_service_request", args=[request.pk])
    opened = clerk.post(
        work, {"step": "open", "tax_lot": "3S1E", "sewer_units": "1"}, follow=True
    ).content.decode()
    request.refresh_from_db()
    assert request.new_account.service_starts_on == D(2026, 8, 1)
    assert "post the days before as a debit adjustment" in opened
    with pytest.raises(ApplicationError, match="service can start on 08/01/2026 or later"):
        from billing.services.service_changes import service_account_open

        service_account_open(
            by=clerk_user,
            customer_name="X",
            service_address="1 A St",
            service_city="Y",
            service_state="OR",
            service_zip="97045",
            tax_lot="T",
            sewer_units=Decimal("1"),
            service_starts_on=D(2026, 7, 20),
        )

    # The old account was billed for July already; close it from its own page, as a clerk might.
    old.refresh_from_db()
    service_account_close(service_account=old, stop_on=D(2026, 8, 2), by=clerk_user)
    clerk.post(work, {"step": "close"})
    request.refresh_from_db()
    assert request.final_bill.stopped_on == D(2026, 8, 2)  # the bill already issued, taken over
    refused = clerk.post(work, {"step": "transfer"}, follow=True).content.decode()
    assert "A refund of $100.00 on account" in refused and "is not settled" in refused
    assert not LedgerEntry.objects.filter(service_account=request.new_account).exists()
    Refund.objects.filter(pk=refund.pk).update(status="declined")
    clerk.post(work, {"step": "transfer"})
    request.refresh_from_db()
    assert request.status == "done"
    assert account_balance(service_account=old) == 0
