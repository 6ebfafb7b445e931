"""Two people for money: a batch's control is fixed when it is opened and someone other than
its keyer posts it; a refund above REFUND_APPROVAL_LIMIT waits for a supervisor; the audit
trail shows who did each step. With TWO_PERSON_RULE off, one person may do both."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, transaction
from django.test import override_settings
from django.urls import reverse

from accounts.tests.factories import ServiceAccountFactory, signed_in, staff_user
from billing.models import LedgerEntry, Payment, PaymentBatch, Refund
from billing.services.batches import payment_batch_post
from billing.services.refunds import payment_refund, refund_approve, refund_decline, refundable_amount
from billing.tests.factories import balance, post
from billing.tests.stripe_browser import card_payment
from kernel.errors import ApplicationError
from kernel.models import AuditEvent

D = dt.date


def owing(amount="100.00"):
    account = ServiceAccountFactory()
    post(account, "charge", amount, D(2026, 5, 1), D(2026, 5, 20))
    return account


def keyed_batch(clerk, *amounts, control_total: str):
    """A batch opened in admin by `clerk`, with its checks keyed by the same clerk."""
    client = signed_in(clerk)
    accounts = [owing() for _ in amounts]
    form = {
        "kind": "mail",
        "deposit_date": "2026-06-03",
        "control_count": str(len(amounts)),
        "control_total": control_total,
        "note": "",
        "payments-TOTAL_FORMS": str(len(amounts)),
        "payments-INITIAL_FORMS": "0",
        "payments-MIN_NUM_FORMS": "0",
        "payments-MAX_NUM_FORMS": "1000",
    }
    for i, (account, amount) in enumerate(zip(accounts, amounts, strict=True)):
        form |= {
            f"payments-{i}-service_account": str(account.pk),
            f"payments-{i}-amount": amount,
            f"payments-{i}-method": "check",
            f"payments-{i}-check_number": f"10{i}",
        }
    response = client.post(reverse("admin:billing_paymentbatch_add"), form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    return PaymentBatch.objects.latest("pk"), accounts


@pytest.mark.django_db
def test_a_batch_control_is_fixed_once_opened_in_admin_and_in_the_database():
    clerk = staff_user("Clerks")
    batch, _ = keyed_batch(clerk, "40.00", control_total="45.00")
    change = reverse("admin:billing_paymentbatch_change", args=[batch.pk])

    page = signed_in(clerk).get(change).content.decode()
    signed_in(clerk).post(
        change,
        {
            "kind": "mail",
            "deposit_date": "2026-06-03",
            "control_count": "1",
            "control_total": "40.00",  # made to match what was keyed
            "note": "",
            "payments-TOTAL_FORMS": "0",
            "payments-INITIAL_FORMS": "0",
            "payments-MIN_NUM_FORMS": "0",
            "payments-MAX_NUM_FORMS": "1000",
        },
    )

    assert 'name="control_total"' not in page
    batch.refresh_from_db()
    assert batch.control_total == Decimal("45.00")
    with (
        pytest.raises((IntegrityError, InternalError), match="fixed when it is opened"),
        transaction.atomic(),
    ):
        PaymentBatch.objects.filter(pk=batch.pk).update(control_total=Decimal("40.00"))
    assert PaymentBatch.objects.get(pk=batch.pk).control_total == Decimal("45.00")


@pytest.mark.django_db
def test_the_clerk_who_keyed_a_batch_cannot_post_it_and_another_clerk_can():
    keyer, other = staff_user("Clerks"), staff_user("Clerks")
    batch, (account,) = keyed_batch(keyer, "40.00", control_total="40.00")

    refused = signed_in(keyer).post(reverse("admin:billing_paymentbatch_post", args=[batch.pk]), {})
    via_list = signed_in(keyer).post(
        reverse("admin:billing_paymentbatch_changelist"),
        {"action": "post_batches", "_selected_action": [batch.pk]},
        follow=True,
    )

    assert "someone else must post it" in refused.content.decode()
    assert "someone else must post it" in via_list.content.decode()
    assert PaymentBatch.objects.get(pk=batch.pk).status == "open" and balance(account) == Decimal("100.00")

    page = signed_in(other).get(reverse("admin:billing_paymentbatch_post", args=[batch.pk])).content.decode()
    assert "Control: 1 payment(s) totalling $40.00." in page and f"keyed by {keyer.email}" in page
    posted = signed_in(other).post(reverse("admin:billing_paymentbatch_post", args=[batch.pk]), {})

    assert posted.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.created_by, batch.posted_by) == ("posted", keyer, other)
    assert balance(account) == Decimal("60.00")
    (event,) = AuditEvent.objects.filter(action="batch.post")
    assert event.actor == other


@pytest.mark.django_db
def test_a_clerk_who_keyed_one_payment_into_someone_elses_batch_cannot_post_it():
    opener, helper = staff_user("Clerks"), staff_user("Clerks")
    batch, (account,) = keyed_batch(opener, "40.00", control_total="40.00")
    Payment.objects.filter(batch=batch).update(created_by=helper)

    with pytest.raises(ApplicationError, match="someone else must post it"):
        payment_batch_post(batch=batch, user=helper)
    with pytest.raises(ApplicationError, match="someone else must post it"):
        payment_batch_post(batch=batch, user=opener)

    payment_batch_post(batch=batch, user=staff_user("Supervisors"))
    assert balance(account) == Decimal("60.00")


@pytest.mark.django_db
@override_settings(TWO_PERSON_RULE=False)
def test_in_a_one_person_office_the_keyer_posts_the_batch():
    clerk = staff_user("Clerks")
    batch, (account,) = keyed_batch(clerk, "40.00", control_total="40.00")

    payment_batch_post(batch=batch, user=clerk)

    batch.refresh_from_db()
    assert (batch.status, batch.created_by, batch.posted_by) == ("posted", clerk, clerk)
    assert balance(account) == Decimal("60.00")


@pytest.mark.django_db
def test_a_supervisor_voids_a_batch_keyed_wrong_and_it_can_never_post():
    clerk, supervisor = staff_user("Clerks"), staff_user("Supervisors")
    batch, (account,) = keyed_batch(clerk, "40.00", control_total="400.00")
    url = reverse("admin:billing_paymentbatch_void", args=[batch.pk])

    assert signed_in(clerk).post(url, {"reason": "Wrong total"}).status_code == 403
    blank = signed_in(supervisor).post(url, {"reason": " "})
    assert blank.status_code == 200 and PaymentBatch.objects.get(pk=batch.pk).status == "open"
    voided = signed_in(supervisor).post(url, {"reason": "Control keyed as 400.00; the slip says 40.00"})

    assert voided.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "voided"
    assert set(batch.payments.values_list("status", flat=True)) == {"canceled"}
    with pytest.raises(ApplicationError, match="voided"):
        payment_batch_post(batch=batch, user=staff_user("Clerks"))
    assert balance(account) == Decimal("100.00")
    (event,) = AuditEvent.objects.filter(action="batch.void")
    assert event.actor == supervisor and "slip says 40.00" in event.summary


# --- refunds ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_refund_within_the_limit_goes_at_once():
    payment = card_payment("400.00")

    refund = payment_refund(
        payment=payment, amount=Decimal("250.00"), reason="Overpaid", user=staff_user("Finance")
    )

    assert refund.status == "succeeded" and refund.stripe_refund_id
    assert balance(payment.service_account) == Decimal("250.00")


@pytest.mark.django_db(transaction=True)
def test_a_refund_above_the_limit_waits_for_a_supervisor_who_approves_it():
    payment = card_payment("400.00")
    finance, supervisor = staff_user("Finance"), staff_user("Supervisors")

    response = signed_in(finance).post(
        reverse("admin:billing_payment_refund", args=[payment.pk]),
        {"amount": "250.01", "reason": "Paid twice"},
    )

    refund = Refund.objects.get(payment=payment)
    assert response.status_code == 302
    assert (refund.status, refund.stripe_refund_id) == ("awaiting_approval", None)
    assert balance(payment.service_account) == Decimal("0.00")  # nothing went back yet
    assert refundable_amount(payment=payment) == Decimal("149.99")  # held while it waits
    refused = signed_in(finance).post(reverse("admin:billing_refund_approve", args=[refund.pk]), {})
    assert (
        refused.status_code == 403
        and "Your staff role does not include this page" in refused.content.decode()
    )

    queue = signed_in(supervisor).get(reverse("admin:billing_refund_changelist")).content.decode()
    assert "1 refund(s) wait for approval" in queue
    confirm = (
        signed_in(supervisor).get(reverse("admin:billing_refund_approve", args=[refund.pk])).content.decode()
    )
    assert "Refund of $250.01" in confirm and f"Asked for by {finance.email}" in confirm
    approved = signed_in(supervisor).post(reverse("admin:billing_refund_approve", args=[refund.pk]), {})
    again = signed_in(supervisor).post(reverse("admin:billing_refund_approve", args=[refund.pk]), {})

    assert approved.status_code == 302 and "not waiting for approval" in again.content.decode()
    refund.refresh_from_db()
    assert (refund.status, refund.reviewed_by) == ("succeeded", supervisor)
    assert refund.stripe_refund_id.startswith("re_")
    assert balance(payment.service_account) == Decimal("250.01")
    assert LedgerEntry.objects.filter(source_key=f"refund:{refund.pk}").count() == 1
    steps = list(
        AuditEvent.objects.filter(object_id=str(refund.pk)).order_by("pk").values_list("action", "actor")
    )
    assert steps == [("refund.request", finance.pk), ("refund.approve", supervisor.pk)]


@pytest.mark.django_db(transaction=True)
def test_small_refunds_that_add_up_past_the_limit_wait_too_and_a_decline_refunds_nothing():
    payment = card_payment("400.00")
    finance, supervisor = staff_user("Finance"), staff_user("Supervisors")

    first = payment_refund(payment=payment, amount=Decimal("200.00"), reason="Part", user=finance)
    second = payment_refund(payment=payment, amount=Decimal("100.00"), reason="Rest", user=finance)

    assert (first.status, second.status) == ("succeeded", "awaiting_approval")
    with pytest.raises(ApplicationError, match="Say why"):
        refund_decline(refund=second, user=supervisor, reason="  ")
    refund_decline(refund=second, user=supervisor, reason="Only $200 was overpaid")

    second.refresh_from_db()
    assert (second.status, second.reviewed_by, second.stripe_refund_id) == ("declined", supervisor, None)
    assert balance(payment.service_account) == Decimal("200.00")
    assert refundable_amount(payment=payment) == Decimal("200.00")
    assert AuditEvent.objects.filter(action="refund.decline", actor=supervisor).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_supervisor_cannot_approve_their_own_large_refund_unless_the_office_has_one_person():
    payment = card_payment("400.00")
    supervisor = staff_user("Supervisors")

    own = payment_refund(payment=payment, amount=Decimal("300.00"), reason="Paid twice", user=supervisor)

    assert own.status == "awaiting_approval"
    with pytest.raises(ApplicationError, match="another supervisor"):
        refund_approve(refund=own, user=supervisor)
    refund_decline(refund=own, user=staff_user("Supervisors"), reason="Asked again below")
    with override_settings(TWO_PERSON_RULE=False):
        alone = payment_refund(
            payment=payment, amount=Decimal("300.00"), reason="Paid twice", user=supervisor
        )
    assert alone.status == "succeeded"
    assert balance(payment.service_account) == Decimal("300.00")


def batch_form(batch) -> dict:
    """The batch's change form as a browser would post it back, unchanged."""
    from kernel.testing.admin_forms import admin_form_data

    return admin_form_data(
        signed_in(batch.created_by)
        .get(reverse("admin:billing_paymentbatch_change", args=[batch.pk]))
        .content.decode()
    )


@pytest.mark.django_db
def test_nobody_reworks_rows_someone_else_keyed_and_a_batch_cannot_pass_for_a_lockbox_file():
    keyer, other = staff_user("Clerks"), staff_user("Clerks")
    batch, (account,) = keyed_batch(keyer, "40.00", control_total="40.00")
    change = reverse("admin:billing_paymentbatch_change", args=[batch.pk])
    elsewhere = ServiceAccountFactory()
    form = batch_form(batch)

    moved = signed_in(other).post(change, {**form, "payments-0-service_account": str(elsewhere.pk)})
    removed = signed_in(other).post(change, {**form, "payments-0-DELETE": "on"})
    relabelled = signed_in(keyer).post(change, {**form, "kind": "lockbox"})

    assert "only they can change or remove it" in moved.content.decode()
    assert "only they can change or remove it" in removed.content.decode()
    payment = Payment.objects.get(batch=batch)
    assert (payment.service_account, payment.status) == (account, "pending")
    assert PaymentBatch.objects.get(pk=batch.pk).kind == "mail" and relabelled.status_code == 302
    add_page = signed_in(keyer).get(reverse("admin:billing_paymentbatch_add")).content.decode()
    assert 'value="lockbox"' not in add_page
    with pytest.raises(ApplicationError, match="someone else must post it"):
        payment_batch_post(batch=batch, user=None)  # nobody named is nobody checked
    with pytest.raises(ApplicationError, match="someone else must post it"):
        payment_batch_post(batch=batch, user=keyer)


@pytest.mark.django_db
def test_a_row_without_an_account_or_with_no_amount_is_a_message_not_an_error_page():
    clerk = staff_user("Clerks")
    batch, _ = keyed_batch(clerk, "40.00", control_total="80.00")
    form = batch_form(batch) | {
        "payments-TOTAL_FORMS": "3",
        "payments-1-amount": "40.00",
        "payments-1-method": "check",
        "payments-2-service_account": str(ServiceAccountFactory().pk),
        "payments-2-amount": "0",
        "payments-2-method": "check",
    }

    response = signed_in(clerk).post(reverse("admin:billing_paymentbatch_change", args=[batch.pk]), form)

    body = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in body and "more than zero" in body
    assert Payment.objects.filter(batch=batch).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_refund_waiting_for_approval_is_not_sent_once_its_payment_was_returned():
    payment = card_payment("400.00")
    refund = payment_refund(
        payment=payment, amount=Decimal("300.00"), reason="Paid twice", user=staff_user("Finance")
    )
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.RETURNED)

    with pytest.raises(ApplicationError, match="decline this refund instead"):
        refund_approve(refund=refund, user=staff_user("Supervisors"))

    refund.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id) == ("awaiting_approval", None)


@pytest.mark.django_db
def test_the_post_page_says_at_once_why_a_batch_cannot_post_and_by_how_much_it_is_out():
    keyer, other = staff_user("Clerks"), staff_user("Clerks")
    batch, _ = keyed_batch(keyer, "40.00", control_total="100.00")
    url = reverse("admin:billing_paymentbatch_post", args=[batch.pk])

    own = signed_in(keyer).get(url).content.decode()
    out = signed_in(other).get(url).content.decode()

    assert "You keyed this batch" in own and 'value="Post the batch"' not in own
    assert "(1 payment(s) short and $60.00 short)" not in out  # counts agree: only the money is out
    assert "($60.00 short)" in out and 'value="Post the batch"' not in out
