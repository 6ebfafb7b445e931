"""Adjustments: credits, debits, fee waivers and write-offs as ledger rows, with a supervisor's
approval above the limit, an audit record for each step, and reversal by a new row only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ServiceAccountFactory, staff_user
from billing.models import Adjustment, AdjustmentReason, LedgerEntry
from billing.services.adjustments import (
    adjustment_approve,
    adjustment_decline,
    adjustment_request,
    adjustment_reverse,
)
from billing.tests.factories import adjustment_reason, balance, post
from kernel.errors import ApplicationError
from kernel.models import AuditEvent

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def owing():
    account = ServiceAccountFactory(account_number="300100-01")
    post(account, "charge", "180.00", D(2026, 5, 1), D(2026, 5, 20))
    fee = post(account, "late_fee", "5.00", D(2026, 5, 21), D(2026, 5, 21))
    return {
        "account": account,
        "fee": fee,
        "clerk": staff_user("Clerks"),
        "supervisor": staff_user("Supervisors"),
    }


def reason(name="Leak credit"):
    return adjustment_reason(name)


def test_a_credit_up_to_the_limit_posts_at_once_with_its_audit_record(owing):
    account = owing["account"]

    adjustment = adjustment_request(
        service_account=account,
        kind="credit",
        amount=Decimal("40.00"),
        reason=reason(),
        memo="Leak at the meter",
        by=owing["clerk"],
    )

    assert adjustment.status == "posted" and balance(account) == Decimal("145.00")
    assert adjustment.ledger_entry.kind == "adjustment" and adjustment.ledger_entry.amount == Decimal(
        "-40.00"
    )
    event = AuditEvent.objects.get(action="adjustment.post")
    assert event.account_number == "300100-01" and "credit of $40.00" in event.summary


def test_above_the_limit_it_waits_for_another_person_and_changes_nothing_until_then(owing):
    account, clerk, supervisor = owing["account"], owing["clerk"], owing["supervisor"]
    with pytest.raises(ApplicationError, match=r"owes \$185.00: a write-off can be that much at most"):
        adjustment_request(
            service_account=account,
            kind="write_off",
            amount=Decimal("185.01"),
            reason=reason("Bad debt write-off"),
            memo="More than is owed",
            by=supervisor,
        )

    adjustment = adjustment_request(
        service_account=account,
        kind="write_off",
        amount=Decimal("185.00"),
        reason=reason("Bad debt write-off"),
        memo="Owner deceased, estate closed",
        by=supervisor,
    )

    assert adjustment.status == "awaiting_approval" and balance(account) == Decimal("185.00")
    with pytest.raises(ApplicationError, match="Only a supervisor"):
        adjustment_approve(adjustment=adjustment, by=clerk)
    with pytest.raises(ApplicationError, match="someone else must approve"):
        adjustment_approve(adjustment=adjustment, by=supervisor)
    # Paid in part while it waited: the write-off would now be more than is owed.
    paid = post(account, "payment", "10.00", dt.date.today())
    with pytest.raises(ApplicationError, match=r"owes \$175.00"):
        adjustment_approve(adjustment=adjustment, by=staff_user("Supervisors"))
    post(account, "reversal", "10.00", dt.date.today(), reverses=paid)  # the check bounced
    adjustment_approve(adjustment=adjustment, by=staff_user("Supervisors"))
    assert balance(account) == Decimal("0.00")
    assert LedgerEntry.objects.get(pk=Adjustment.objects.get().ledger_entry_id).description.startswith(
        "Written off."
    )


def test_a_declined_adjustment_posts_nothing_and_says_why(owing):
    adjustment = adjustment_request(
        service_account=owing["account"],
        kind="credit",
        amount=Decimal("150.00"),
        reason=reason(),
        memo="Leak",
        by=owing["clerk"],
    )
    with pytest.raises(ApplicationError, match="Say why"):
        adjustment_decline(adjustment=adjustment, by=owing["supervisor"], reason=" ")

    adjustment_decline(adjustment=adjustment, by=owing["supervisor"], reason="No leak report on file")

    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decision_reason) == ("declined", "No leak report on file")
    assert balance(owing["account"]) == Decimal("185.00")


def test_a_fee_waiver_reverses_that_fee_and_no_more_than_is_left_of_it(owing):
    account, fee = owing["account"], owing["fee"]
    with pytest.raises(ApplicationError, match=r"\$5.00 left to waive"):
        adjustment_request(
            service_account=account,
            kind="fee_waiver",
            amount=Decimal("6.00"),
            reason=reason("Fee waived"),
            memo="First time",
            by=owing["clerk"],
            fee_entry=fee,
        )

    adjustment_request(
        service_account=account,
        kind="fee_waiver",
        amount=Decimal("5.00"),
        reason=reason("Fee waived"),
        memo="First time",
        by=owing["clerk"],
        fee_entry=fee,
    )

    waiver = LedgerEntry.objects.get(kind="reversal")
    assert (waiver.reverses_id, waiver.amount) == (fee.pk, Decimal("-5.00"))
    with pytest.raises(ApplicationError, match=r"\$0.00 left"):
        adjustment_request(
            service_account=account,
            kind="fee_waiver",
            amount=Decimal("1.00"),
            reason=reason("Fee waived"),
            memo="Again",
            by=owing["clerk"],
            fee_entry=fee,
        )


def test_a_posted_adjustment_is_undone_only_by_a_reversing_row(owing):
    account = owing["account"]
    adjustment = adjustment_request(
        service_account=account,
        kind="debit",
        amount=Decimal("12.00"),
        reason=reason("Billing error"),
        memo="Unbilled water",
        by=owing["clerk"],
    )
    assert balance(account) == Decimal("197.00")
    with pytest.raises(ApplicationError, match="cannot reverse"):
        adjustment_reverse(adjustment=adjustment, by=owing["clerk"], memo="Wrong account")

    adjustment_reverse(adjustment=adjustment, by=owing["supervisor"], memo="Wrong account")

    adjustment.refresh_from_db()
    assert adjustment.status == "reversed" and balance(account) == Decimal("185.00")
    assert LedgerEntry.objects.filter(service_account=account).count() == 4  # the original row stays
    with pytest.raises(ApplicationError, match="Only a posted"):
        adjustment_reverse(adjustment=adjustment, by=owing["supervisor"], memo="Again")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "0"}, "above $0.00"),
        ({"amount": "-5"}, "above $0.00"),
        ({"amount": "1e3"}, "above $0.00"),
        ({"memo": ""}, "This field is required"),
        ({"kind": "gift"}, "Select a valid choice"),
    ],
)
def test_the_adjustment_page_refuses_bad_input_and_changes_nothing(owing, changes, message):
    client = Client()
    client.force_login(owing["clerk"])
    data = {"kind": "credit", "amount": "10.00", "reason": reason().pk, "memo": "Leak", **changes}

    response = client.post(reverse("staff_adjustment", args=[owing["account"].pk]), data)

    assert response.status_code == 200 and message in response.content.decode()
    assert not Adjustment.objects.exists()


def test_a_retired_reason_is_not_offered(owing):
    reason("Leak credit")
    reason("Courtesy credit")
    AdjustmentReason.objects.filter(name="Courtesy credit").update(active=False)
    client = Client()
    client.force_login(owing["clerk"])
    page = client.get(reverse("staff_adjustment", args=[owing["account"].pk])).content.decode()
    assert "Leak credit" in page and "Courtesy credit" not in page


def test_small_adjustments_add_up_toward_the_limit_and_a_clerks_large_one_always_waits(owing, settings):
    account, clerk = owing["account"], owing["clerk"]
    statuses = [
        adjustment_request(
            service_account=account,
            kind="credit",
            amount=Decimal("40.00"),
            reason=reason(),
            memo=f"Part {n}",
            by=clerk,
        ).status
        for n in range(3)
    ]
    assert statuses == ["posted", "posted", "awaiting_approval"]  # 40 + 40 + 40 passes $100

    settings.TWO_PERSON_RULE = False  # a one-person office
    other = ServiceAccountFactory()
    post(other, "charge", "500.00", D(2026, 5, 1), D(2026, 5, 20))
    by_clerk = adjustment_request(
        service_account=other, kind="credit", amount=Decimal("300.00"), reason=reason(), memo="Leak", by=clerk
    )
    by_supervisor = adjustment_request(
        service_account=ServiceAccountFactory(),
        kind="debit",
        amount=Decimal("300.00"),
        reason=reason("Billing error"),
        memo="Unbilled",
        by=owing["supervisor"],
    )
    assert (by_clerk.status, by_supervisor.status) == ("awaiting_approval", "posted")


def test_the_memo_stays_with_staff_and_the_customer_reads_the_reason(owing):
    adjustment = adjustment_request(
        service_account=owing["account"],
        kind="credit",
        amount=Decimal("10.00"),
        reason=reason(),
        memo="Caller was rude; goodwill",
        by=owing["clerk"],
    )
    assert adjustment.ledger_entry.description == "Leak credit"


def test_posted_ids_that_are_not_numbers_are_not_found(owing):
    supervisor = Client()
    supervisor.force_login(owing["supervisor"])
    assert (
        supervisor.post(
            reverse("staff_adjustments"), {"adjustment": "abc", "decision": "approve"}
        ).status_code
        == 404
    )
    assert supervisor.post(reverse("staff_worklist"), {"account": ""}).status_code == 404


def test_the_same_adjustment_form_posted_twice_posts_once(owing):
    import uuid

    client = Client()
    client.force_login(owing["clerk"])
    data = {
        "kind": "credit",
        "amount": "10.00",
        "reason": reason().pk,
        "memo": "Leak",
        "token": str(uuid.uuid4()),
    }
    url = reverse("staff_adjustment", args=[owing["account"].pk])

    client.post(url, data)
    client.post(url, data)  # a double click

    assert Adjustment.objects.count() == 1 and balance(owing["account"]) == Decimal("175.00")
