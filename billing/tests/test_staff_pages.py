"""The staff home (search and what is waiting) and one page per account with its notes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AccountNote
from accounts.tests.factories import AccountLinkFactory, ServiceAccountFactory, staff_client, staff_user
from billing.tests.factories import BillFactory, post
from kernel.testing.pdf_pages import page_text

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def accounts():
    first = ServiceAccountFactory(
        account_number="300201-01",
        customer_name="Rosa Martinez",
        service_address="12 Elm St",
        tax_lot="2S2E29AB01200",
        phone="503-555-0101",
    )
    second = ServiceAccountFactory(
        account_number="300202-01", customer_name="Lee Wu", service_address="14 Oak Ave"
    )
    AccountLinkFactory(service_account=second, user__email="lee.wu@example.net")
    return first, second


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("30020101", "300201-01"),  # the number without its dash goes straight to the account
        ("rosa", "300201-01"),
        ("Elm", "300201-01"),
        ("2S2E29AB01200", "300201-01"),
        ("(503) 555-0101", "300201-01"),
        ("lee.wu@example", "300202-01"),  # a linked login's email
    ],
)
def test_the_search_finds_an_account_by_what_a_caller_gives(accounts, query, expected):
    response = staff_client("Clerks").get(reverse("staff_home"), {"q": query})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "staff_account", args=[ServiceAccountFactory._meta.model.objects.get(account_number=expected).pk]
    )


def test_a_search_with_several_matches_lists_them_and_one_with_none_says_so(accounts):
    client = staff_client("Clerks")
    listed = client.get(reverse("staff_home"), {"q": "3002"}).content.decode()
    assert "2 accounts found" in listed and "Rosa Martinez" in listed and "Lee Wu" in listed
    assert "No account matches" in client.get(reverse("staff_home"), {"q": "zzz"}).content.decode()


def test_the_staff_home_counts_what_waits_for_each_role(accounts):
    from billing.models import Adjustment
    from billing.tests.factories import adjustment_reason

    Adjustment.objects.create(
        service_account=accounts[0],
        kind="credit",
        amount=Decimal("500.00"),
        reason=adjustment_reason(),
        memo="Leak",
        status="awaiting_approval",
        requested_by=staff_user("Clerks"),
    )
    supervisor = staff_client("Supervisors").get(reverse("staff_home")).content.decode()
    clerk = staff_client("Clerks").get(reverse("staff_home")).content.decode()
    assert "Adjustments to approve</a>: <strong>1</strong>" in supervisor
    assert "Adjustments to approve" not in clerk
    assert "Assistance applications to review" in clerk and "Payment batches to post" in clerk
    # Staff work from the staff pages: the customer menu is not theirs.
    assert "My accounts" not in clerk and "Staff home" in clerk
    # Each queue's link opens its list already narrowed to what waits (an admin filter it does not
    # know would send it to "?e=1" instead).
    from billing.hooks import STAFF_QUEUES
    from billing.selectors import staff_queues

    boss = staff_user("Supervisors")
    client = Client()
    client.force_login(boss)
    for provider in [staff_queues, *STAFF_QUEUES]:
        for queue in provider(user=boss):
            response = client.get(queue["url"])
            assert response.status_code == 200, queue
            if "/admin/" in queue["url"]:
                assert "?" in queue["url"], f"{queue['label']} opens the whole list"


def test_the_account_page_shows_the_money_the_history_and_the_notes(accounts):
    account = accounts[0]
    post(account, "charge", "60.00", D(2026, 5, 1), D(2026, 5, 20), description="Bill for April 2026")
    post(account, "payment", "20.00", D(2026, 6, 2), description="Payment")
    BillFactory(service_account=account)
    client = staff_client("Clerks")

    saved = client.post(
        reverse("staff_account_note", args=[account.pk]),
        {
            "channel": "phone",
            "contact": "Rosa",
            "text": "Will pay Friday",
            "promised_amount": "$40.00",
            "promised_on": "2026-07-10",
            "follow_up_on": "2026-07-11",
        },
    )
    page = client.get(reverse("staff_account", args=[account.pk])).content.decode()

    assert saved.status_code == 302
    note = AccountNote.objects.get()
    assert (note.promised_amount, note.promised_on) == (Decimal("40.00"), D(2026, 7, 10))
    for expected in [
        "Rosa Martinez",
        "12 Elm St",
        "Balance",
        "$40.00",
        "Aging",
        "Will pay Friday",
        "$40.00 by 07/10/2026",
        "Paid: Bill for April 2026 $20.00",  # what the payment settled
        "June 2026 (PDF)",
        "Access code",
    ]:
        assert expected in page, expected


def test_a_note_without_text_or_with_half_a_promise_is_refused(accounts):
    client = staff_client("Clerks")
    url = reverse("staff_account_note", args=[accounts[0].pk])
    empty = client.post(url, {"channel": "phone", "text": ""}, follow=True).content.decode()
    half = client.post(
        url, {"channel": "phone", "text": "Will pay", "promised_amount": "40"}, follow=True
    ).content.decode()
    assert not AccountNote.objects.exists()
    assert "The note was not saved" in empty
    assert "A promise to pay needs both the amount and the date" in half


def test_the_phone_payment_page_shows_the_chosen_account_before_the_card(accounts):
    post(accounts[0], "charge", "60.00", D(2026, 5, 1), D(2026, 5, 20))
    page = staff_client("Clerks").get(reverse("phone_payment"), {"account": "300201-01"}).content.decode()
    assert "Account 300201-01" in page and "Rosa Martinez" in page and "past due $60.00" in page


def test_the_worklist_puts_oldest_and_largest_first_and_keeps_a_promise_off_until_it_is_broken(time_machine):
    from django.core import mail

    from accounts.services import account_note_add
    from billing.selectors import delinquent_worklist

    time_machine.move_to(dt.datetime(2026, 7, 1, 18, tzinfo=dt.UTC), tick=False)
    old = ServiceAccountFactory(account_number="300301-01")
    post(old, "charge", "50.00", D(2026, 4, 1), D(2026, 4, 20))
    big = ServiceAccountFactory(account_number="300302-01", email="big@example.net")
    post(big, "charge", "400.00", D(2026, 5, 1), D(2026, 5, 20))
    small = ServiceAccountFactory(account_number="300303-01")
    post(small, "charge", "40.00", D(2026, 5, 1), D(2026, 5, 20))
    promised = ServiceAccountFactory(account_number="300304-01")
    post(promised, "charge", "90.00", D(2026, 5, 1), D(2026, 5, 20))
    clerk = staff_user("Clerks")
    account_note_add(
        service_account=promised,
        by=clerk,
        text="Will pay Friday",
        promised_amount=Decimal("90.00"),
        promised_on=D(2026, 7, 3),
    )

    numbers = [row.account.account_number for row in delinquent_worklist(today=D(2026, 7, 1))]
    assert numbers == ["300301-01", "300302-01", "300303-01"]  # the promise is not due yet

    back = delinquent_worklist(today=D(2026, 7, 4))  # the day after: not paid, so back, marked
    assert [r.promise_broken for r in back if r.account == promised] == [True]

    client = Client()
    client.force_login(clerk)
    page = client.get(reverse("staff_worklist")).content.decode()
    assert page.index("300301-01") < page.index("300302-01") < page.index("300303-01")
    assert reverse("staff_payment_plan", args=[big.pk]) in page  # a plan offered from the row
    token = "6f1c7d0e-3a7b-4c55-9d41-1f1d2d3c4b5a"
    client.post(reverse("staff_worklist"), {"account": big.pk, "send": "email", "token": token})
    twice = client.post(
        reverse("staff_worklist"), {"account": big.pk, "send": "email", "token": token}, follow=True
    ).content.decode()
    assert "was sent already" in twice  # a double click sends one email
    assert [m.to for m in mail.outbox] == [["big@example.net"]]
    assert "payment plan" in mail.outbox[0].body and "$400.00" in mail.outbox[0].body
    assert AccountNote.objects.filter(service_account=big, channel="email").exists()
    refused = client.post(reverse("staff_worklist"), {"account": old.pk}, follow=True).content.decode()
    assert "has no email" in refused

    # No email: a letter to print, with the stub for the payment and the offers.
    letter = client.post(reverse("staff_worklist"), {"account": old.pk, "send": "letter"})
    assert letter["Content-Type"] == "application/pdf"
    text = page_text(letter.content)
    assert "Help with your past-due balance: account 300301-01" in text
    assert "$50.00 past due" in text and "A payment plan" in text and "Bill assistance" in text
    assert AccountNote.objects.filter(service_account=old, channel="letter").exists()
    paid_up = ServiceAccountFactory()
    nothing = client.post(reverse("staff_worklist"), {"account": paid_up.pk, "send": "letter"}, follow=True)
    assert "Nothing is past due" in nothing.content.decode()


def test_what_each_payment_paid_follows_the_open_items_after_a_returned_check(accounts):
    from billing.selectors import ledger_rows_for_account, ledger_with_running_balance, open_items

    account = accounts[0]
    post(account, "charge", "100.00", D(2026, 1, 1), D(2026, 1, 20), description="Bill for December 2025")
    bounced = post(account, "payment", "100.00", D(2026, 1, 10))
    post(account, "reversal", "100.00", D(2026, 1, 25), reverses=bounced, description="Returned check")
    post(account, "charge", "100.00", D(2026, 2, 1), D(2026, 2, 20), description="Bill for January 2026")
    good = post(account, "payment", "100.00", D(2026, 2, 10))

    lines = {line.entry.id: line for line in ledger_with_running_balance(service_account=account)}
    assert lines[bounced.id].settled == []
    assert [(str(what), amount) for what, amount in lines[good.id].settled] == [
        ("Bill for December 2025", Decimal("100.00"))
    ]
    (still_open,) = open_items(ledger_rows_for_account(service_account_id=account.pk), as_of=D(2026, 3, 1))
    assert still_open.unpaid == Decimal("100.00") and still_open.due_date == D(2026, 2, 20)


def test_a_newer_note_takes_an_account_off_the_follow_ups(accounts):
    from accounts.selectors import follow_ups_due
    from accounts.services import account_note_add

    clerk = staff_user("Clerks")
    account_note_add(
        service_account=accounts[0], by=clerk, text="Call back Monday", follow_up_on=D(2026, 1, 5)
    )
    assert follow_ups_due(today=D(2026, 7, 1)).count() == 1
    account_note_add(service_account=accounts[0], by=clerk, text="Called back; sorted")
    assert follow_ups_due(today=D(2026, 7, 1)).count() == 0
