"""Autopay from a bank account added online: the draft date (the chosen day, never sooner than the
notice period after the bill, on a banking day), the notice, the recurring WEB entry in the NACHA
file read back by an independent parser, settlement, returns; changing to and from it; removing
saved cards and bank accounts."""

import datetime as dt
from decimal import Decimal

import pytest
from ach.parser import Parser
from django.core import mail
from django.urls import reverse

from accounts.notification_kinds import notification_kinds
from accounts.notifications import notification_switches_set
from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory
from autopay.models import AutopayDraft, AutopayEnrollment, BankAccount, BankPayment, PaymentAuthorization
from autopay.services.bank import (
    NoDrafts,
    ach_returns_import,
    bank_numbers_reencrypt,
    bank_payments_settle,
    nacha_build,
    nacha_export,
)
from autopay.services.bank_accounts import bank_account_add
from autopay.services.drafts import autopay_run, autopay_send_reminders, next_draft
from autopay.services.enrollment import autopay_cancel, autopay_change, autopay_enroll
from autopay.services.methods import payment_method_remove
from billing.models import Payment, Service
from billing.reports import receipt_channel
from billing.services.bills import bills_run
from billing.services.payments import payments_reconcile
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory, SavedCardFactory, balance
from kernel.crypto import decrypt
from kernel.errors import ApplicationError

pytestmark = pytest.mark.django_db
D = dt.date
ROUTING = "091000019"


@pytest.fixture
def customer(tuesday):
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    account = AccountServiceFactory(service=Service.SEWER).service_account
    user = AccountLinkFactory(service_account=account).user
    return {"user": user, "account": account}


def add_bank(user, *, verified=True, number="123456789") -> BankAccount:
    bank = bank_account_add(
        user=user,
        holder_name="Pat Doe",
        routing_number=ROUTING,
        account_number=number,
        account_type="checking",
    )
    if verified:  # its prenote went out and nothing came back
        BankAccount.objects.filter(pk=bank.pk).update(
            status=BankAccount.Status.VERIFIED, prenote_file_date=D(2026, 11, 2), verified_on=D(2026, 11, 5)
        )
        bank.refresh_from_db()
    return bank


def bill_december() -> None:
    bills_run(period=D(2026, 11, 1), issued_on=D(2026, 12, 1), notify=False)


def test_bank_autopay_is_noticed_drafted_as_a_recurring_web_entry_settled_and_returned(
    customer, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.RETURNED_PAYMENT_FEE = "25.00"
    user, account = customer["user"], customer["account"]
    bank = add_bank(user)
    enrollment = autopay_enroll(user=user, service_account=account, bank_account=bank, draft_day=5)
    bill_december()

    # Day 5 is too soon after a bill issued on the 1st: the ten days' notice makes it Friday the 11th.
    upcoming = next_draft(enrollment=enrollment)
    assert (upcoming.on, upcoming.amount) == (D(2026, 12, 11), Decimal("48.50"))

    # The notice of the amount goes ten days ahead, whatever the email switches say.
    notification_switches_set(user=user, enabled=dict.fromkeys(notification_kinds(), False))
    mail.outbox.clear()
    assert autopay_send_reminders(on=D(2026, 12, 1)) == 1
    (notice,) = mail.outbox
    assert "On December 11 we will debit $48.50 from your Checking account ending 6789" in notice.body
    assert autopay_send_reminders(on=D(2026, 12, 1)) == 0  # once per bill

    assert autopay_run(on=D(2026, 12, 10)).drafted == 0
    built = nacha_export(on=D(2026, 12, 11), path=tmp_path / "dec11.ach")
    (batch,) = Parser(built.text).as_dict()["batches"]
    assert batch["batch_header"]["std_ent_cls_code"] == "WEB"
    (entry,) = [e["entry_detail"] for e in batch["entries"]]
    assert entry["transaction_code"] == "27" and int(entry["amount"]) == 4850
    assert entry["disc_data"] == "R "  # WEB payment type: recurring
    assert entry["dfi_acnt_num"].strip() == "123456789"
    assert entry["ind_id"].strip() == account.account_number
    draft = AutopayDraft.objects.get(enrollment=enrollment)
    assert draft.status == AutopayDraft.Status.CHARGING and draft.payment.channel == Payment.Channel.AUTOPAY
    assert draft.payment.bank_debit.recurring and draft.payment.status == Payment.Status.PENDING

    # The daily run on the draft day finds it made: no second debit, and no card is charged.
    assert autopay_run(on=D(2026, 12, 11)).drafted == 0
    assert BankPayment.objects.count() == 1
    assert nacha_export(on=D(2026, 12, 11), path=tmp_path / "again.ach").text == built.text

    assert bank_payments_settle(on=D(2026, 12, 11)) == 1
    draft.refresh_from_db()
    assert draft.status == AutopayDraft.Status.SUCCEEDED and balance(account) == 0
    assert receipt_channel(draft.payment.channel, draft.payment.method) == "bank_draft"

    returns = tmp_path / "returns.csv"
    returns.write_text(
        f"trace_number,return_code,date\n{draft.payment.bank_debit.trace_number},R02,2026-12-14\n"
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert ach_returns_import(path=returns).returned == 1
    draft.refresh_from_db()
    enrollment.refresh_from_db()
    bank.refresh_from_db()
    assert draft.status == AutopayDraft.Status.RETURNED
    assert balance(account) == Decimal("73.50")  # owed again, with the fee
    assert bank.status == BankAccount.Status.ENDED
    assert enrollment.status == AutopayEnrollment.Status.CANCELLED
    (email,) = mail.outbox
    assert "returned the payment of $48.50" in email.body
    assert f"Autopay for account {account.account_number} has stopped" in email.body


def test_a_weekend_draft_day_moves_to_monday_and_a_late_debit_waits_for_its_notice(
    customer, tuesday, tmp_path, django_capture_on_commit_callbacks
):
    user, account = customer["user"], customer["account"]
    enrollment = autopay_enroll(user=user, service_account=account, bank_account=add_bank(user), draft_day=12)
    bill_december()
    assert next_draft(enrollment=enrollment).on == D(2026, 12, 14)  # the 12th is a Saturday
    assert autopay_send_reminders(on=D(2026, 12, 4)) == 1  # its notice, ten days ahead

    # A bank account added on Thursday the 10th for a draft dated the 11th: the prenote goes in the
    # file of the 11th; the notice of the amount, which could not go ten days ahead, goes now, and
    # the debit waits ten days from today: Sunday the 20th, so Monday the 21st.
    tuesday.move_to(dt.datetime(2026, 12, 10, 18, tzinfo=dt.UTC), tick=True)
    other = AccountServiceFactory(service=Service.SEWER).service_account
    AccountLinkFactory(user=user, service_account=other)
    bills_run(period=D(2026, 11, 1), issued_on=D(2026, 12, 1), notify=False)
    new = add_bank(user, verified=False, number="5550001234")
    autopay_enroll(user=user, service_account=other, bank_account=new, draft_day=11)
    AutopayEnrollment.objects.filter(service_account=other).update(starts_on=D(2026, 12, 1))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        built = nacha_export(on=D(2026, 12, 11), path=tmp_path / "dec11.ach")
    assert [a.pk for a in built.prenotes] == [new.pk] and built.debits == []
    waiting = Payment.objects.get(service_account=other, method="bank")
    assert waiting.received_on == D(2026, 12, 21) and waiting.status == Payment.Status.PENDING
    assert [m.subject for m in mail.outbox] == ["Autopay on December 21: $48.50"]
    built = nacha_export(on=D(2026, 12, 14), path=tmp_path / "dec14.ach")
    assert [d.payment.service_account for d in built.debits] == [account]  # Monday's, for the 12th
    built = nacha_export(on=D(2026, 12, 21), path=tmp_path / "dec21.ach")
    assert [d.payment_id for d in built.debits] == [waiting.pk]


def test_autopay_changes_from_a_card_to_a_bank_account_without_cancelling(customer, client):
    user, account = customer["user"], customer["account"]
    card = SavedCardFactory(user=user)
    enrollment = autopay_enroll(user=user, service_account=account, card=card, draft_day=25)
    bank = add_bank(user)
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    page = client.get(reverse("autopay_manage", args=[account.pk])).content.decode()
    assert "Checking account ending 6789" in page and "If I chose a bank account" in page
    response = client.post(
        reverse("autopay_change", args=[account.pk]),
        {"card_id": f"bank-{bank.pk}", "draft_day": "15", "max_amount": "", "accept_terms": "yes"},
    )

    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert (enrollment.card, enrollment.bank_account, enrollment.draft_day) == (None, bank, 15)
    authorization = enrollment.authorization
    assert authorization.kind == PaymentAuthorization.Kind.BANK_AUTOPAY
    assert "If I chose a bank account" in authorization.text and authorization.details["bank_account"]
    assert "now uses your Checking account ending 6789" in mail.outbox[-1].body
    detail = client.get(reverse("service_account_detail", args=[account.pk])).content.decode()
    assert "we debit your Checking account ending 6789 on day 15" in detail

    # Someone else's bank account, or a made-up one, is refused and changes nothing.
    stranger = add_bank(UserFactory(), number="999988887777")
    for bad in (f"bank-{stranger.pk}", "bank-x", "bank-99999999999999999999999"):
        refused = client.post(
            reverse("autopay_change", args=[account.pk]),
            {"card_id": bad, "draft_day": "20", "accept_terms": "yes"},
        )
        assert refused.status_code == 400
    enrollment.refresh_from_db()
    assert enrollment.bank_account == bank and enrollment.draft_day == 15


def test_a_card_or_bank_account_still_paying_something_cannot_be_removed(customer, client):
    user, account = customer["user"], customer["account"]
    bank = add_bank(user)
    enrollment = autopay_enroll(user=user, service_account=account, bank_account=bank, draft_day=15)
    with pytest.raises(
        ApplicationError, match=f"still used for autopay for account {account.account_number}"
    ):
        payment_method_remove(user=user, bank_account=bank)
    with pytest.raises(ApplicationError, match="not one of yours"):
        payment_method_remove(user=UserFactory(), bank_account=bank)

    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("payment_methods")).content.decode()
    assert "Used for: autopay for account" in page and "Remove Checking account ending 6789" not in page
    refused = client.post(reverse("payment_method_remove"), {"method": f"bank-{bank.pk}"}, follow=True)
    assert "Change or cancel that first; nothing was removed." in refused.content.decode()
    assert BankAccount.objects.get(pk=bank.pk).removed_at is None

    AutopayEnrollment.objects.filter(pk=enrollment.pk).update(status="cancelled")
    # Another login's account is refused by the page as by the service.
    theirs = add_bank(UserFactory(), number="999988887777")
    other = client.post(reverse("payment_method_remove"), {"method": f"bank-{theirs.pk}"}, follow=True)
    assert "not one of yours" in other.content.decode()
    assert BankAccount.objects.get(pk=theirs.pk).removed_at is None
    client.post(reverse("payment_method_remove"), {"method": f"bank-{bank.pk}"})
    assert BankAccount.objects.get(pk=bank.pk).removed_at is not None
    assert "Checking account ending 6789" not in client.get(reverse("payment_methods")).content.decode()


def test_a_bank_account_is_added_from_the_login_settings_and_offered_for_autopay(customer, client):
    user, account = customer["user"], customer["account"]
    client.force_login(user)
    assert reverse("payment_methods") in client.get(reverse("login_settings")).content.decode()
    fields = {
        "holder_name": "Pat Doe",
        "routing_number": ROUTING,
        "account_number": "123456789",
        "account_number_again": "123456780",
        "account_type": "checking",
    }
    # Changing what the login keeps asks for the password again.
    asked = client.post(reverse("payment_methods"), fields)
    assert asked.status_code == 302 and reverse("account_reauthenticate") in asked["Location"]
    assert "123456789" not in str(dict(client.session.items()))  # the typed number is not kept
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    refused = client.post(reverse("payment_methods"), fields)
    assert (
        refused.status_code == 400 and "The two account numbers are not the same." in refused.content.decode()
    )
    assert not BankAccount.objects.exists()

    back = reverse("autopay_manage", args=[account.pk])
    added = client.post(
        reverse("payment_methods"),
        {**fields, "account_number_again": "123456789", "next": back},
        follow=True,
    )
    assert added.redirect_chain[-1][0] == back
    page = added.content.decode()
    assert (
        "Your Checking account ending 6789 is added." in page and "debited from December 7, 2026 on" in page
    )
    assert 'value="bank-' in page  # offered on the autopay form
    assert decrypt(BankAccount.objects.get(user=user).account_number_encrypted) == "123456789"

    # An address elsewhere is not followed.
    elsewhere = client.post(
        reverse("payment_methods"),
        {
            **fields,
            "account_number": "44443333",
            "account_number_again": "44443333",
            "next": "https://evil.example/",
        },
    )
    assert BankAccount.objects.filter(user=user).count() == 2
    assert elsewhere["Location"] == reverse("payment_methods")


def test_key_rotation_reencrypts_the_bank_accounts_added_online(customer, settings):
    from cryptography.fernet import Fernet

    bank = add_bank(customer["user"])
    old = settings.PORTAL_ENCRYPTION_KEY
    assert old, "the tests run with a key, as production does"
    settings.PORTAL_ENCRYPTION_KEY = Fernet.generate_key().decode() + "," + old
    done, unchanged = bank_numbers_reencrypt()
    bank.refresh_from_db()
    assert (done, unchanged) == (1, 0)
    assert decrypt(bank.account_number_encrypted) == "123456789"
    assert bank_numbers_reencrypt() == (0, 1)


def test_an_online_bank_payment_is_its_own_line_in_the_cash_receipts():
    assert receipt_channel("online", "bank") == "bank_online"
    assert receipt_channel("online", "card") == "card_online"


def test_a_pending_bank_debit_is_never_cancelled_by_card_reconciliation(customer, tuesday, tmp_path):
    user, account = customer["user"], customer["account"]
    enrollment = autopay_enroll(user=user, service_account=account, bank_account=add_bank(user), draft_day=5)
    bill_december()
    autopay_send_reminders(on=D(2026, 12, 1))
    built = nacha_export(on=D(2026, 12, 11), path=tmp_path / "dec11.ach")  # built ahead of its date
    (debit,) = built.debits
    # Days pass before it settles; the reconciliation of card payments runs meanwhile.
    tuesday.move_to(dt.datetime(2026, 12, 9, 18, tzinfo=dt.UTC), tick=True)
    payments_reconcile()
    assert autopay_run(on=D(2026, 12, 9)).drafted == 0  # nor is it taken for a stuck card charge
    debit.payment.refresh_from_db()
    assert debit.payment.status == Payment.Status.PENDING
    assert bank_payments_settle(on=D(2026, 12, 11)) == 1
    assert AutopayDraft.objects.get(enrollment=enrollment).status == AutopayDraft.Status.SUCCEEDED


def test_cancelling_or_changing_autopay_withdraws_a_debit_not_yet_sent(
    customer, tuesday, django_capture_on_commit_callbacks
):
    user, account = customer["user"], customer["account"]
    bank = add_bank(user)
    enrollment = autopay_enroll(user=user, service_account=account, bank_account=bank, draft_day=15)
    bill_december()
    assert autopay_send_reminders(on=D(2026, 12, 5)) == 1
    # The run made the debit for the 15th; it goes in the file built the day before.
    autopay_run(on=D(2026, 12, 15))
    made = AutopayDraft.objects.get(enrollment=enrollment).payment
    assert made.received_on == D(2026, 12, 15) and made.status == Payment.Status.PENDING
    page_next = next_draft(enrollment=enrollment)
    assert (page_next.on, page_next.amount) == (D(2026, 12, 15), Decimal("48.50"))  # the debit made

    # Changed to the 18th before the file: the debit is withdrawn and made again for the new day.
    autopay_change(enrollment=enrollment, user=user, bank_account=bank, draft_day=18, max_amount=None)
    made.refresh_from_db()
    assert made.status == Payment.Status.CANCELED
    draft = AutopayDraft.objects.get(enrollment=enrollment)
    assert draft.status == AutopayDraft.Status.SCHEDULED and draft.payment is None
    with pytest.raises(NoDrafts):
        nacha_build(on=D(2026, 12, 15))
    # The notice said the 15th. On the 18th the run makes the debit again and, since no notice
    # went for it ten days ahead, sends one now and dates the debit ten days on: Monday the 28th.
    tuesday.move_to(dt.datetime(2026, 12, 18, 18, tzinfo=dt.UTC), tick=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        autopay_run(on=D(2026, 12, 18))
    remade = AutopayDraft.objects.get(enrollment=enrollment).payment
    assert remade.received_on == D(2026, 12, 28)
    assert [m.subject for m in mail.outbox] == ["Autopay on December 28: $48.50"]
    assert "On December 28 we will debit $48.50" in mail.outbox[0].body

    # Cancelled before the file: the debit is withdrawn, and no file carries it.
    autopay_cancel(enrollment=enrollment, user=user)
    remade.refresh_from_db()
    assert remade.status == Payment.Status.CANCELED
    assert AutopayDraft.objects.get(enrollment=enrollment).status == AutopayDraft.Status.CANCELLED
    with pytest.raises(NoDrafts):
        nacha_build(on=remade.received_on)
    assert balance(account) == Decimal("48.50")


def test_a_bank_only_customer_sees_their_bank_account_chosen_on_the_change_form(customer, client):
    user, account = customer["user"], customer["account"]
    bank = add_bank(user)
    autopay_enroll(user=user, service_account=account, bank_account=bank, draft_day=15)
    client.force_login(user)
    page = client.get(reverse("autopay_manage", args=[account.pk])).content.decode()
    assert f'value="bank-{bank.pk}" checked' in page
    assert 'id="card-new" type="radio" name="card_id" value="" checked' not in page
