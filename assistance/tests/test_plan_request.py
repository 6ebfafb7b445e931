"""A customer sees each installment with its bill before asking, is told the request arrived,
sees it pending on the account page and can withdraw it."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, UserFactory
from assistance.models import PaymentPlan
from assistance.services.plans import plan_decide, plan_start
from billing.tests.factories import post

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def behind(client, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 22, 18, tzinfo=dt.UTC), tick=False)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "100.00", D(2026, 10, 1), D(2026, 10, 20))
    client.force_login(user)
    return user, account


def test_the_preview_shows_each_installment_with_its_bill_and_asks_nothing(client, behind):
    _, account = behind
    url = reverse("payment_plan", args=[account.pk])

    page = client.get(url, {"installments": "3"}).content.decode()

    assert "3 installments of the $100.00 past due" in page
    # Ten days from November 22 is December 2: the first is due December 20 with November's bill.
    assert "December 20, 2026" in page and "the November 2026 bill" in page
    assert "February 20, 2027" in page and "the January 2027 bill" in page
    assert "$33.33" in page and "$33.34" in page
    assert "Ask for this plan: 3 installments" in page
    assert not PaymentPlan.objects.exists()
    assert client.get(url, {"installments": "40"}).status_code == 200
    assert (
        "Choose from 2 to 12 monthly installments" in client.get(url, {"installments": "40"}).content.decode()
    )


def test_asking_sends_an_acknowledgment_and_the_account_page_shows_it_pending(client, behind):
    user, account = behind
    detail = reverse("service_account_detail", args=[account.pk])
    assert "ask for a payment plan" in client.get(detail).content.decode()

    response = client.post(reverse("payment_plan", args=[account.pk]), {"installments": "3"})

    assert response.status_code == 302
    plan = PaymentPlan.objects.get()
    assert (plan.status, plan.installments, str(plan.total)) == ("requested", 3, "100.00")
    (ack,) = mail.outbox
    assert ack.to == [user.email] and ack.subject == "We received your payment plan request"
    assert "in 3 monthly installments, the first of $33.33 due December 20" in ack.body
    page = client.get(detail).content.decode()
    assert "Pending" in page and "is being reviewed" in page
    assert "ask for a payment plan" not in page
    again = client.post(reverse("payment_plan", args=[account.pk]), {"installments": "4"})
    assert again.status_code == 400 and PaymentPlan.objects.count() == 1


def test_a_pending_request_can_be_withdrawn_once_and_asked_again(client, behind):
    _, account = behind
    client.post(reverse("payment_plan", args=[account.pk]), {"installments": "6"})
    withdraw = reverse("payment_plan_withdraw", args=[account.pk])

    client.post(withdraw)

    assert PaymentPlan.objects.get().status == "withdrawn"
    page = client.post(withdraw, follow=True).content.decode()
    assert "There is no request being reviewed to withdraw." in page
    assert client.post(reverse("payment_plan", args=[account.pk]), {"installments": "2"}).status_code == 302
    assert list(PaymentPlan.objects.order_by("pk").values_list("status", flat=True)) == [
        "withdrawn",
        "requested",
    ]
    client.force_login(UserFactory())
    assert client.post(withdraw).status_code == 404  # another login's account


def test_approval_keeps_the_dates_the_customer_saw_unless_the_first_is_too_close(
    client, behind, time_machine
):
    user, account = behind  # asked on November 22: the first installment December 20
    client.post(reverse("payment_plan", args=[account.pk]), {"installments": "3"})
    plan = PaymentPlan.objects.get()
    clerk = UserFactory(is_staff=True)

    time_machine.move_to(dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC), tick=False)
    assert plan_start(plan=plan, today=D(2026, 11, 30)) == D(2026, 11, 22)
    assert plan_start(plan=plan, today=D(2026, 12, 16)) == D(2026, 12, 16)  # Dec 20 is too close
    plan = plan_decide(plan=plan, approve=True, by=clerk)
    assert plan.starts_on == D(2026, 11, 22)
    approved = mail.outbox[-1]
    assert "the first $33.33 due December 20" in approved.body
