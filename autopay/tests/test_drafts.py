"""Card autopay against localstripe: enrolment, the draft run, retries, reminders, concurrency."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection

from accounts.models import EmailLog
from accounts.notification_kinds import notification_kinds
from accounts.notifications import notification_switches_set
from accounts.tests.factories import AccountLinkFactory, UserFactory
from autopay.models import AutopayDraft, AutopayEnrollment
from autopay.notification_kinds import AUTOPAY_CHANGED
from autopay.services.drafts import autopay_run, autopay_send_reminders, card_draft_date
from autopay.services.enrollment import (
    autopay_cancel,
    autopay_change,
    autopay_enroll,
    card_save,
    card_setup_start,
)
from billing.models import LedgerEntry, Payment, SavedCard, Service
from billing.services.bills import bills_run
from billing.tests import stripe_browser
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory, balance, post
from kernel.errors import ApplicationError

pytestmark = pytest.mark.django_db(transaction=True)
D = dt.date
VISA = "4242424242424242"


def saved_card(user, number=VISA) -> SavedCard:
    secret = card_setup_start(user=user)
    setup = stripe_browser.confirm_card_setup(secret, number)
    return card_save(user=user, setup_intent_id=setup["id"])


@pytest.fixture
def billed_customer(time_machine):
    """A customer whose sewer account gets its June bill ($48.50) on July 1, 2026, enrolled on June 30."""
    time_machine.move_to(dt.datetime(2026, 6, 30, 19, tzinfo=dt.UTC), tick=True)
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    AccountServiceFactory(service_account=account, service=Service.SEWER)
    card = saved_card(user)
    enrollment = autopay_enroll(user=user, service_account=account, card=card, draft_day=5)
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    mail.outbox.clear()
    return {"user": user, "account": account, "card": card, "enrollment": enrollment}


def test_draft_date_is_the_chosen_day_on_or_after_the_bill():
    assert card_draft_date(draft_day=5, issued_on=D(2026, 7, 1)) == D(2026, 7, 5)
    assert card_draft_date(draft_day=1, issued_on=D(2026, 7, 1)) == D(2026, 7, 1)
    assert card_draft_date(draft_day=1, issued_on=D(2026, 7, 2)) == D(2026, 8, 1)
    assert card_draft_date(draft_day=28, issued_on=D(2026, 12, 29)) == D(2027, 1, 28)


def test_enrolment_and_cancellation_send_their_emails():
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    card = saved_card(user)

    enrollment = autopay_enroll(user=user, service_account=account, card=card, draft_day=25)
    with pytest.raises(ApplicationError, match="already has autopay"):
        autopay_enroll(user=user, service_account=account, card=card, draft_day=3)
    autopay_cancel(enrollment=enrollment, user=user)

    subjects = [m.subject for m in mail.outbox]
    assert subjects == ["Autopay is set up", "Autopay is cancelled"]
    assert "comes after the due date" in mail.outbox[0].body  # day 25 is after the 20th
    # The link works from a mail program: the portal's whole address, not a path alone.
    from django.conf import settings

    assert (
        f"Manage autopay: {settings.PORTAL_BASE_URL}/service-accounts/{account.pk}/autopay/"
        in mail.outbox[0].body
    )
    assert EmailLog.objects.filter(kind=AUTOPAY_CHANGED, status="sent").count() == 2


def test_the_draft_charges_what_is_due_once_on_its_day(billed_customer):
    account = billed_customer["account"]
    assert autopay_run(on=D(2026, 7, 4)).drafted == 0  # not yet

    first = autopay_run(on=D(2026, 7, 5))
    again = autopay_run(on=D(2026, 7, 5))

    assert (first.succeeded, again.drafted) == (1, 0)
    draft = AutopayDraft.objects.get()
    assert (draft.status, draft.amount) == ("succeeded", Decimal("48.50"))
    assert balance(account) == Decimal("0.00")
    assert len(stripe_browser.payment_intents_for("autopay_draft_id", str(draft.pk))) == 1
    assert [m.subject for m in mail.outbox] == [f"Payment received: {draft.payment.confirmation_number}"]


def test_days_missed_while_no_worker_ran_are_caught_up(billed_customer):
    assert autopay_run(on=D(2026, 7, 9)).succeeded == 1
    assert AutopayDraft.objects.get().draft_date == D(2026, 7, 5)


def test_the_draft_is_the_bill_less_payments_since_and_nothing_when_paid(billed_customer):
    account = billed_customer["account"]
    post(account, "payment", "30.00", D(2026, 7, 2))

    autopay_run(on=D(2026, 7, 5))

    assert AutopayDraft.objects.get().amount == Decimal("18.50")
    assert balance(account) == Decimal("0.00")


def test_nothing_is_drafted_when_nothing_is_due(billed_customer):
    post(billed_customer["account"], "payment", "48.50", D(2026, 7, 2))

    result = autopay_run(on=D(2026, 7, 5))

    assert (result.skipped, result.succeeded) == (1, 0)
    assert AutopayDraft.objects.get().status == "skipped"
    assert not Payment.objects.filter(channel="autopay").exists()


def test_a_declined_draft_is_retried_once_then_left_to_past_due_handling(billed_customer):
    user, account = billed_customer["user"], billed_customer["account"]
    declining = saved_card(user, "4000000000000341")
    autopay_change(
        enrollment=billed_customer["enrollment"], user=user, card=declining, draft_day=5, max_amount=None
    )
    mail.outbox.clear()

    autopay_run(on=D(2026, 7, 5))
    draft = AutopayDraft.objects.get()
    assert (draft.status, draft.retry_on) == ("retry", D(2026, 7, 8))
    assert autopay_run(on=D(2026, 7, 7)).drafted == 0
    autopay_run(on=D(2026, 7, 8))

    draft.refresh_from_db()
    assert (draft.status, draft.attempts) == ("failed", 2)
    assert autopay_run(on=D(2026, 7, 12)).drafted == 0
    assert balance(account) == Decimal("48.50")
    assert [m.subject for m in mail.outbox] == [
        f"Autopay payment failed for account {account.account_number}"
    ] * 2
    assert "try again on July 8" in mail.outbox[0].body


def test_replacing_the_card_keeps_the_old_one_for_one_time_payments(billed_customer):
    user, enrollment = billed_customer["user"], billed_customer["enrollment"]
    old = enrollment.card
    new = saved_card(user)

    autopay_change(enrollment=enrollment, user=user, card=new, draft_day=5, max_amount=None)

    old.refresh_from_db()
    assert old.removed_at is None  # still offered on the pay page
    assert AutopayEnrollment.objects.get(pk=enrollment.pk).card == new
    autopay_run(on=D(2026, 7, 5))
    assert AutopayDraft.objects.get().payment.stripe_payment_method_id == new.stripe_payment_method_id


def test_two_runs_at_once_charge_each_enrollment_once(billed_customer):
    results, errors = [], []

    def run():
        try:
            results.append(autopay_run(on=D(2026, 7, 5)))
        except Exception as exc:  # noqa: BLE001 (asserted below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    draft = AutopayDraft.objects.get()
    assert sum(r.succeeded for r in results) == 1
    assert len(stripe_browser.payment_intents_for("autopay_draft_id", str(draft.pk))) == 1
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_reminder_goes_days_before_once_and_follows_the_switch(billed_customer):
    user = billed_customer["user"]

    assert autopay_send_reminders(on=D(2026, 7, 2)) == 1
    assert autopay_send_reminders(on=D(2026, 7, 2)) == 0
    assert "On July 5 we will charge $48.50" in mail.outbox[0].body

    notification_switches_set(user=user, enabled={k: k != "autopay_scheduled" for k in notification_kinds()})
    AutopayDraft.objects.update(reminder_sent_at=None)
    autopay_send_reminders(on=D(2026, 7, 2))
    assert len(mail.outbox) == 1
    assert EmailLog.objects.filter(kind="autopay_scheduled", status="skipped").count() == 1


def test_reminder_warns_when_the_card_expires_before_the_draft(billed_customer):
    SavedCard.objects.filter(pk=billed_customer["card"].pk).update(exp_month=6, exp_year=2026)

    autopay_send_reminders(on=D(2026, 7, 2))

    assert "expires before then" in mail.outbox[0].body


def test_another_customers_autopay_page_is_not_found(client, billed_customer):
    client.force_login(UserFactory())
    from django.urls import reverse

    for name in ["autopay_manage", "autopay_change", "autopay_cancel"]:
        response = client.post(reverse(name, args=[billed_customer["account"].pk]))
        assert response.status_code == 404
    assert AutopayEnrollment.objects.get().status == "active"


def test_a_chunk_that_waited_for_the_queue_drafts_no_one_who_cancelled_meanwhile(billed_customer):
    """The chunk is found due and kept in the outbox (Redis down); the customer cancels; when it
    finally runs it charges nothing."""
    from autopay.services.drafts import autopay_draft_many, autopay_due

    due = autopay_due(on=D(2026, 7, 5))
    assert [d.enrollment_id for d in due] == [billed_customer["enrollment"].pk]
    autopay_cancel(enrollment=billed_customer["enrollment"], user=billed_customer["user"])

    result = autopay_draft_many(due=due, on=D(2026, 7, 5))

    assert (result.succeeded, result.drafted) == (0, 0)
    assert not AutopayDraft.objects.exists()
    assert balance(billed_customer["account"]) == Decimal("48.50")


def test_the_next_draft_is_always_ahead_and_the_run_makes_it_then(billed_customer, time_machine):
    from autopay.services.drafts import next_draft

    enrollment, account = billed_customer["enrollment"], billed_customer["account"]
    # July 2, before the draft: the July 5 draft of the June bill, for what it says.
    time_machine.move_to(dt.datetime(2026, 7, 2, 20, tzinfo=dt.UTC))
    upcoming = next_draft(enrollment=enrollment)
    assert (upcoming.on, upcoming.amount) == (D(2026, 7, 5), Decimal("48.50"))
    assert autopay_run(on=D(2026, 7, 4)).drafted == 0
    assert autopay_run(on=upcoming.on).succeeded == 1
    # July 30, the draft made: the next is the August bill's, about what June's new charges were.
    time_machine.move_to(dt.datetime(2026, 7, 30, 20, tzinfo=dt.UTC))
    upcoming = next_draft(enrollment=enrollment)
    assert (upcoming.on, upcoming.amount, upcoming.estimate) == (D(2026, 8, 5), None, Decimal("48.50"))
    # Changed to a day already past this month while a bill waits: the next run makes it, not a past day.
    bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)
    time_machine.move_to(dt.datetime(2026, 8, 10, 20, tzinfo=dt.UTC))  # 13:00 in Oregon
    AutopayEnrollment.objects.filter(pk=enrollment.pk).update(draft_day=3)
    enrollment.refresh_from_db()
    upcoming = next_draft(enrollment=enrollment)
    assert upcoming.on == D(2026, 8, 11) and upcoming.amount == Decimal("48.50")
    assert autopay_run(on=upcoming.on).succeeded == 1
    assert balance(account) == Decimal("0.00")


def test_a_draft_above_the_maximum_is_not_made_and_the_customer_is_told(billed_customer):
    user, account = billed_customer["user"], billed_customer["account"]
    autopay_change(
        enrollment=billed_customer["enrollment"],
        user=user,
        card=billed_customer["card"],
        draft_day=5,
        max_amount=Decimal("40.00"),
    )
    mail.outbox.clear()

    result = autopay_run(on=D(2026, 7, 5))

    draft = AutopayDraft.objects.get()
    assert (result.succeeded, draft.status, draft.amount) == (0, "over_max", Decimal("48.50"))
    assert not Payment.objects.filter(channel="autopay").exists()
    assert [m.subject for m in mail.outbox] == [f"Autopay did not pay account {account.account_number}"]
    assert "$48.50" in mail.outbox[0].body and "$40.00" in mail.outbox[0].body
    assert autopay_run(on=D(2026, 7, 6)).drafted == 0  # once per bill


def test_a_second_try_is_made_on_its_day_even_after_a_newer_bill(billed_customer, time_machine):
    from autopay.services.drafts import next_draft

    user, account, enrollment = (
        billed_customer["user"],
        billed_customer["account"],
        billed_customer["enrollment"],
    )
    declining = saved_card(user, "4000000000000341")
    autopay_change(enrollment=enrollment, user=user, card=declining, draft_day=5, max_amount=None)
    autopay_run(on=D(2026, 7, 5))
    AutopayDraft.objects.update(retry_on=D(2026, 8, 2))  # a try that falls after the next bill
    bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)
    autopay_change(
        enrollment=enrollment, user=user, card=billed_customer["card"], draft_day=5, max_amount=None
    )
    time_machine.move_to(dt.datetime(2026, 7, 30, 20, tzinfo=dt.UTC))
    enrollment.refresh_from_db()
    assert next_draft(enrollment=enrollment).on == D(2026, 8, 2)

    result = autopay_run(on=D(2026, 8, 2))

    june = AutopayDraft.objects.get(period=D(2026, 6, 1))
    assert (result.succeeded, june.status, june.attempts) == (1, "succeeded", 2)
    assert balance(account) == Decimal("48.50")  # June paid; July's bill drafts on August 5
    assert autopay_run(on=D(2026, 8, 5)).succeeded == 1
    assert balance(account) == Decimal("0.00")


def test_a_bill_above_the_maximum_is_said_on_the_page_and_in_the_reminder(billed_customer, time_machine):
    from autopay.services.drafts import next_draft

    user, enrollment = billed_customer["user"], billed_customer["enrollment"]
    autopay_change(
        enrollment=enrollment,
        user=user,
        card=billed_customer["card"],
        draft_day=5,
        max_amount=Decimal("10.00"),
    )
    time_machine.move_to(dt.datetime(2026, 7, 2, 20, tzinfo=dt.UTC))
    enrollment.refresh_from_db()
    assert next_draft(enrollment=enrollment).over_maximum
    mail.outbox.clear()

    autopay_send_reminders(on=D(2026, 7, 2))

    assert "more than the maximum of $10.00" in mail.outbox[0].body
    assert "we will charge" not in mail.outbox[0].body


def more_enrollments(user, card, count: int) -> list:
    """`count` more sewer accounts of the same customer, each on autopay with the same card."""
    accounts = []
    for _n in range(count):
        account = AccountLinkFactory(user=user).service_account
        AccountServiceFactory(service_account=account, service=Service.SEWER)
        autopay_enroll(user=user, service_account=account, card=card, draft_day=5)
        accounts.append(account)
    return accounts


@pytest.fixture
def receipts_queued():
    """Receipts go to Redis for the workers, as in production, instead of running in the run."""
    from kernel.testing.workers import tasks_queued

    with tasks_queued():
        yield


@pytest.mark.parametrize("more", [2, 9])
def test_a_chunk_of_cards_costs_the_same_queries_however_many_it_holds(
    billed_customer, receipts_queued, more
):
    from django.test.utils import CaptureQueriesContext

    user, card = billed_customer["user"], billed_customer["card"]
    accounts = [billed_customer["account"], *more_enrollments(user, card, more)]
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)  # the new accounts' bills

    with CaptureQueriesContext(connection) as queries:
        result = autopay_run(on=D(2026, 7, 5))

    assert (result.drafted, result.succeeded, result.failed) == (more + 1, more + 1, 0)
    assert all(balance(account) == Decimal("0.00") for account in accounts)
    drafts = AutopayDraft.objects.all()
    assert {(d.status, d.amount, d.attempts) for d in drafts} == {("succeeded", Decimal("48.50"), 1)}
    for draft in drafts:
        assert draft.payment.status == "succeeded" and draft.payment.ledger_entry.amount == Decimal("-48.50")
        assert draft.payment.stripe_payment_intent_id
        assert len(stripe_browser.payment_intents_for("autopay_draft_id", str(draft.pk))) == 1
    # A fixed number of statements for the chunk, and one per card beside its Stripe call (the
    # PaymentIntent kept as Stripe answers): 33 for 3 cards, 40 for 10.
    assert len(queries) == 30 + len(accounts), [q["sql"][:80] for q in queries]
    kept = [
        q for q in queries if q["sql"].startswith('UPDATE "billing_payment" SET "stripe_payment_intent_id"')
    ]
    assert len(kept) == len(accounts)


def test_a_chunk_mixing_declined_over_maximum_cancelled_and_paid_cards_treats_each_as_alone(billed_customer):
    user, card = billed_customer["user"], billed_customer["card"]
    declined_account, over_account, cancelled_account, paid_account = more_enrollments(user, card, 4)
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    declining = saved_card(user, "4000000000000341")
    autopay_change(
        enrollment=AutopayEnrollment.objects.get(service_account=declined_account),
        user=user,
        card=declining,
        draft_day=5,
        max_amount=None,
    )
    autopay_change(
        enrollment=AutopayEnrollment.objects.get(service_account=over_account),
        user=user,
        card=card,
        draft_day=5,
        max_amount=Decimal("20.00"),
    )
    autopay_cancel(enrollment=AutopayEnrollment.objects.get(service_account=cancelled_account), user=user)
    post(paid_account, "payment", "48.50", D(2026, 7, 2))
    mail.outbox.clear()

    result = autopay_run(on=D(2026, 7, 5))

    assert (result.drafted, result.succeeded, result.failed, result.skipped) == (2, 1, 1, 2)
    status = {d.service_account_id: d.status for d in AutopayDraft.objects.all()}
    assert status == {
        billed_customer["account"].pk: "succeeded",
        declined_account.pk: "retry",
        over_account.pk: "over_max",
        paid_account.pk: "skipped",
    }
    assert balance(billed_customer["account"]) == Decimal("0.00")
    assert balance(declined_account) == balance(over_account) == Decimal("48.50")
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects[0].startswith("Autopay did not pay account") and len(subjects) == 3


def test_a_retry_and_a_newer_bill_drafted_the_same_day_charge_what_is_owed_once(billed_customer):
    user, account, enrollment = (
        billed_customer["user"],
        billed_customer["account"],
        billed_customer["enrollment"],
    )
    declining = saved_card(user, "4000000000000341")
    autopay_change(enrollment=enrollment, user=user, card=declining, draft_day=5, max_amount=None)
    autopay_run(on=D(2026, 7, 5))  # declined: June's second try is set for a later day
    AutopayDraft.objects.update(retry_on=D(2026, 8, 5))  # the day July's bill drafts too
    bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)  # $97.00 due: June's too
    autopay_change(
        enrollment=enrollment, user=user, card=billed_customer["card"], draft_day=5, max_amount=None
    )

    result = autopay_run(on=D(2026, 8, 5))

    charged = Payment.objects.filter(channel="autopay", status="succeeded")
    assert [p.amount for p in charged] == [Decimal("97.00")]  # July's bill, which carries June's
    assert balance(account) == Decimal("0.00")
    status = dict(AutopayDraft.objects.values_list("period", "status"))
    assert status == {D(2026, 6, 1): "skipped", D(2026, 7, 1): "succeeded"}
    assert (result.succeeded, result.skipped) == (1, 1)


def test_a_claim_left_by_a_stopped_run_whose_payment_was_settled_meanwhile_is_closed(
    billed_customer, time_machine
):
    from autopay.services.drafts import _claim_cards, autopay_due
    from billing.services.payments import payment_intent_submit

    # The run claims the draft and stops before Stripe is called; the reconciliation, asking
    # Stripe with the payment's key, charges and settles it.
    (claimed,), _rest, _result = _claim_cards(autopay_due(on=D(2026, 7, 5)), D(2026, 7, 5))
    payment = claimed.payment
    payment_intent_submit(
        payment=payment, payment_method_id=payment.stripe_payment_method_id, off_session=True
    )
    time_machine.move_to(dt.datetime(2026, 7, 5, 19, tzinfo=dt.UTC))

    result = autopay_run(on=D(2026, 7, 5))

    draft = AutopayDraft.objects.get()
    assert (draft.status, result.drafted) == ("succeeded", 0)
    assert Payment.objects.get() == payment and balance(billed_customer["account"]) == Decimal("0.00")
    assert len(stripe_browser.payment_intents_for("payment_id", str(payment.pk))) == 1
