"""A customer's move within the service area carries autopay to the new account: the clerk's
steps from the request to the transfer of the credit, and the old account's autopay ending."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import staff_user
from autopay.models import AutopayEnrollment
from autopay.tests.factories import AutopayEnrollmentFactory
from billing.models import LedgerEntry, ServiceRequest
from billing.selectors import account_balance
from billing.services.bills import bills_run
from billing.tests.factories import at, post, sewer_rate, signed_in_customer

pytestmark = pytest.mark.django_db
D = dt.date


def test_a_move_closes_the_old_account_opens_the_new_and_moves_the_credit_and_autopay(time_machine):
    sewer_rate("48.50")
    at(time_machine, D(2026, 7, 12))
    client, user, old = signed_in_customer()
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    post(old, "payment", "150.00", D(2026, 7, 5))  # paid ahead: 101.50 credit before the final bill
    card = AutopayEnrollmentFactory(service_account=old, user=user).card
    client.post(
        reverse("moving_request", args=["move"]),
        {
            "from_account": old.pk,
            "stop_on": "2026-07-14",
            "service_address": "5 Cedar Ct",
            "service_city": "Oregon City",
            "service_zip": "97045",
            "start_on": "2026-07-15",
            "customer_name": old.customer_name,
            "phone": "503-555-0101",
        },
    )
    request = ServiceRequest.objects.get()
    assert request.forwarding_address == "5 Cedar Ct"  # the final bill goes to the new address

    clerk = Client()
    clerk.force_login(staff_user("Clerks"))
    work = reverse("staff_service_request", args=[request.pk])
    page = clerk.get(work).content.decode()
    assert 'name="sewer_units" value="1.000"' in page  # the old account's services, to check
    assert "Or decline the request</h2>" in page
    refused = clerk.post(work, {"step": "transfer"}, follow=True).content.decode()
    assert "Open the new account and close the old one first" in refused
    clerk.post(work, {"step": "open", "tax_lot": "3S1E", "sewer_units": "1"})
    at(time_machine, D(2026, 7, 15))
    clerk.force_login(staff_user("Clerks"))
    closed = clerk.post(work, {"step": "close"}, follow=True).content.decode()
    assert "is closed; the final bill is" in closed, closed[closed.find("usa-alert") :][:600]
    request.refresh_from_db()
    assert request.status == "in_progress" and request.steps_left == ["transfer"]
    new = request.new_account
    credit = -account_balance(service_account=old)
    assert credit == Decimal("150.00") - Decimal("48.50") - Decimal("21.90")  # 48.50 × 14/31 = 21.90

    mail.outbox.clear()
    moved = clerk.post(work, {"step": "transfer"}, follow=True).content.decode()

    assert "Your credit of $79.60 moved" in moved
    assert account_balance(service_account=old) == 0 and account_balance(service_account=new) == -credit
    assert LedgerEntry.objects.filter(service_account=new, kind="credit", amount=-credit).exists()
    assert AutopayEnrollment.objects.get(service_account=new, status="active").card == card
    # Nothing owed on the old account: its autopay ends.
    assert AutopayEnrollment.objects.get(service_account=old).status == "cancelled"
    request.refresh_from_db()
    assert request.status == "done"
    [email] = [m for m in mail.outbox if user.email in m.to]
    assert email.subject == "Your move is done" and "Autopay moved to account" in email.body
    # Done means done: a second post moves nothing.
    assert "nothing to do" in clerk.post(work, {"step": "transfer"}, follow=True).content.decode()
    assert LedgerEntry.objects.filter(service_account=new).count() == 1
