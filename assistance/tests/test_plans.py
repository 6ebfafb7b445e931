"""Payment plans: the schedule, the installment on each bill, good standing, the end when one is
missed, and the plan page for the account's own logins."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, UserFactory
from assistance.models import PaymentPlan
from assistance.selectors import accounts_with_plan_in_good_standing
from assistance.services.plans import plan_decide, plan_request, plan_schedule, plans_check
from billing.models import Bill, Service
from billing.services.bills import bills_run
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory, post
from kernel.errors import ApplicationError
from kernel.models import AuditEvent

D = dt.date


def test_schedule_splits_evenly_with_the_cents_on_the_last_installment():
    schedule = plan_schedule(total=Decimal("100.00"), installments=3, starts_on=D(2026, 7, 15))
    assert [(i.due_date, i.amount) for i in schedule] == [
        (D(2026, 8, 20), Decimal("33.33")),
        (D(2026, 9, 20), Decimal("33.33")),
        (D(2026, 10, 20), Decimal("33.34")),
    ]


@pytest.mark.django_db
def test_a_plan_appears_on_bills_keeps_good_standing_and_ends_when_missed(time_machine):
    time_machine.move_to(dt.datetime(2026, 7, 2, 18, tzinfo=dt.UTC), tick=False)
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("40")
    )
    clerk = UserFactory(is_staff=True)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    AccountServiceFactory(service_account=account, service=Service.SEWER)
    post(account, "charge", "90.00", D(2026, 5, 1), D(2026, 5, 20))

    with pytest.raises(ApplicationError, match="2 to 12"):
        plan_request(service_account=account, user=user, installments=13)
    plan = plan_request(service_account=account, user=user, installments=3)
    assert plan.total == Decimal("90.00")
    plan = plan_decide(plan=plan, approve=True, by=clerk)
    assert AuditEvent.objects.get(action="plan.approve").changes["total"] == "90.00"
    assert "first $30.00 due July 20" in mail.outbox[-1].body

    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 3), notify=False)
    assert (
        "installment 1 of 3, $30.00, is due July 20, 2026" in Bill.objects.get(service_account=account).notes
    )

    post(account, "payment", "70.00", D(2026, 7, 18))  # the installment and June's bill
    assert accounts_with_plan_in_good_standing(account_ids=[account.pk], as_of=D(2026, 7, 21)) == {account.pk}
    from billing.selectors import delinquent_worklist

    # Paying down as agreed, so not on the clerks' list of delinquent accounts to call.
    assert account.pk not in [row.account.pk for row in delinquent_worklist(today=D(2026, 7, 21))]
    assert plans_check(as_of=D(2026, 7, 21)) == {"ended": 0, "completed": 0}

    # Nothing paid for the August installment.
    assert plans_check(as_of=D(2026, 8, 21)) == {"ended": 1, "completed": 0}
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.ENDED
    assert mail.outbox[-1].subject == "Your payment plan has ended"
    assert accounts_with_plan_in_good_standing(account_ids=[account.pk], as_of=D(2026, 8, 21)) == set()


@pytest.mark.django_db
def test_plan_page_is_for_the_accounts_own_logins(client):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    client.force_login(UserFactory())
    assert client.get(reverse("payment_plan", args=[account.pk])).status_code == 404
    client.force_login(user)
    assert "Nothing is past due" in client.get(reverse("payment_plan", args=[account.pk])).content.decode()
