"""A clerk opens a payment plan agreed with a caller, from the staff account page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, staff_user
from assistance.models import PaymentPlan
from billing.tests.factories import post

pytestmark = pytest.mark.django_db
D = dt.date


def test_a_clerk_sees_the_installments_then_opens_the_plan_and_the_customer_is_told(time_machine):
    time_machine.move_to(dt.datetime(2026, 7, 12, 18, tzinfo=dt.UTC), tick=False)
    link = AccountLinkFactory()
    account = link.service_account
    post(account, "charge", "100.00", D(2026, 6, 1), D(2026, 6, 20))
    clerk = Client()
    clerk.force_login(staff_user("Clerks"))
    url = reverse("staff_payment_plan", args=[account.pk])
    assert url in clerk.get(reverse("staff_account", args=[account.pk])).content.decode()

    preview = clerk.get(url, {"installments": "3"}).content.decode()

    assert "3 installments of the $100.00 past due" in preview
    assert "08/20/2026" in preview and "$33.33" in preview and "$33.34" in preview
    assert not PaymentPlan.objects.exists()  # shown, not opened
    mail.outbox.clear()
    response = clerk.post(url, {"installments": "3"})
    assert response["Location"] == reverse("staff_account", args=[account.pk])
    plan = PaymentPlan.objects.get()
    assert (plan.status, plan.total, plan.installments) == ("active", Decimal("100.00"), 3)
    assert [m.subject for m in mail.outbox if link.user.email in m.to] == ["Your payment plan is approved"]
    again = clerk.post(url, {"installments": "4"}).content.decode()
    assert "already has a payment plan" in again and PaymentPlan.objects.count() == 1
    bad = clerk.post(url, {"installments": "40"}).content.decode()
    assert "Choose from 2 to 12 monthly installments" in bad

    finance = Client()
    finance.force_login(staff_user("Finance"))
    assert finance.post(url, {"installments": "3"}).status_code == 403
