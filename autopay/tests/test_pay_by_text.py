"""Pay by text against localstripe and the Twilio stand-in: the bill's text offers PAY, the
reply pays once and texts the confirmation number; a second PAY or a PAY after paying changes
nothing and says so; a declined card pays nothing."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountLinkFactory, UserFactory
from accounts.tests.texts import DAYTIME, NUMBER, confirmed, incoming, signed_post, standin, texts_to
from autopay.models import PayByText, PaymentAuthorization, TextPayPrompt
from billing.models import Payment, SavedCard
from billing.services.notices import bills_send_ready_notices
from billing.tests.factories import BillFactory, post
from billing.tests.stripe_browser import DECLINED_AT_CHARGE, VISA, saved_card

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def texting_customer(client, time_machine):
    time_machine.move_to(DAYTIME, tick=True)
    standin("/_standin/reset", {})
    user = confirmed(UserFactory())
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "45.10", D(2026, 12, 1), D(2026, 12, 20))
    bill = BillFactory(
        service_account=account,
        period=D(2026, 11, 1),
        issued_on=D(2026, 12, 1),
        due_date=D(2026, 12, 20),
        new_charges=Decimal("45.10"),
    )
    client.force_login(user)
    return user, account, bill


def turn_on(client, account, method: str):
    return client.post(
        reverse("pay_by_text", args=[account.pk]), {"action": "start", "method": method, "accept_terms": "on"}
    )


def test_the_bill_text_offers_pay_and_a_reply_pays_once(client, texting_customer):
    user, account, bill = texting_customer
    card = saved_card(user, VISA)
    assert turn_on(client, account, f"card-{card.pk}").status_code == 302
    choice = PayByText.objects.get(user=user, service_account=account, ended_at__isnull=True)
    assert choice.authorization.kind == PaymentAuthorization.Kind.PAY_BY_TEXT
    assert "reply PAY" in choice.authorization.text

    bills_send_ready_notices(bill_ids=[bill.pk])

    offer = texts_to(NUMBER)[-1]
    assert "is $45.10, due December 20. Reply PAY to pay it with Visa ending 4242." in offer

    first = signed_post(client, incoming("pay", sid="SMpay1")).content.decode()
    payment = Payment.objects.get(service_account=account)
    assert payment.status == Payment.Status.SUCCEEDED and payment.amount == Decimal("45.10")
    assert f"$45.10 paid on account {account.account_number} with Visa ending 4242" in first
    assert payment.confirmation_number in first
    again = signed_post(client, incoming("PAY", sid="SMpay2")).content.decode()
    assert f"already paid (confirmation {payment.confirmation_number}). Nothing more was charged." in again
    replayed = signed_post(client, incoming("pay", sid="SMpay1"))  # Twilio retrying the first one
    assert "<Message>" not in replayed.content.decode()
    assert Payment.objects.filter(service_account=account).count() == 1
    assert TextPayPrompt.objects.get().status == TextPayPrompt.Status.PAID
    other = signed_post(client, incoming("thanks!", sid="SMpay3")).content.decode()
    assert "Reply STOP to stop" in other  # anything but PAY: the help text


def test_a_declined_card_pays_nothing_and_says_why(client, texting_customer):
    user, account, bill = texting_customer
    card = saved_card(user, DECLINED_AT_CHARGE)
    turn_on(client, account, f"card-{card.pk}")
    bills_send_ready_notices(bill_ids=[bill.pk])

    reply = signed_post(client, incoming("PAY", sid="SMdecl")).content.decode()

    assert "Your card was declined" in reply and "Nothing was charged" in reply
    assert TextPayPrompt.objects.get().status == TextPayPrompt.Status.FAILED
    assert not Payment.objects.filter(service_account=account, status=Payment.Status.SUCCEEDED).exists()
    nothing = signed_post(client, incoming("PAY", sid="SMdecl2")).content.decode()
    assert "can no longer be paid by text" in nothing


def test_pay_with_nothing_offered_or_nothing_due_charges_nothing(client, texting_customer):
    user, account, bill = texting_customer
    card = saved_card(user, VISA)
    reply = signed_post(client, incoming("PAY", sid="SMnone")).content.decode()
    assert "There is no bill to pay by text right now" in reply

    turn_on(client, account, f"card-{card.pk}")
    bills_send_ready_notices(bill_ids=[bill.pk])
    post(account, "payment", "45.10", D(2026, 12, 1))  # paid at the counter meanwhile
    reply = signed_post(client, incoming("PAY", sid="SMpaid")).content.decode()
    assert f"Nothing is due on account {account.account_number} now" in reply
    assert not Payment.objects.filter(service_account=account).exists()


def test_pay_by_text_needs_a_confirmed_number_and_the_customers_own_method(client, texting_customer):
    user, account, _ = texting_customer
    stranger_card = saved_card(UserFactory(), VISA)
    response = turn_on(client, account, f"card-{stranger_card.pk}")
    assert response.status_code == 400 and not PayByText.objects.exists()
    no_terms = client.post(reverse("pay_by_text", args=[account.pk]), {"action": "start", "method": "card-1"})
    assert no_terms.status_code == 400
    newcomer = UserFactory()
    client.force_login(newcomer)
    mine = AccountLinkFactory(user=newcomer).service_account
    page = client.get(reverse("pay_by_text", args=[mine.pk])).content.decode()
    assert "add and confirm a mobile number" in page
    assert client.get(reverse("pay_by_text", args=[account.pk])).status_code == 404


def test_stop_ends_pay_by_text_and_a_removed_card_is_neither_offered_nor_charged(client, texting_customer):
    user, account, bill = texting_customer
    card = saved_card(user, VISA)
    turn_on(client, account, f"card-{card.pk}")
    bills_send_ready_notices(bill_ids=[bill.pk])

    signed_post(client, incoming("Stop.", sid="SMstop"))  # with its period
    reply = signed_post(client, incoming("PAY", sid="SMafterstop")).content.decode()

    assert "Reply STOP to stop" in reply  # the help text: nothing acted on
    assert not Payment.objects.exists()
    assert not PayByText.objects.filter(ended_at__isnull=True).exists()  # STOP ended it

    signed_post(client, incoming("START", sid="SMstart"))
    turn_on(client, account, f"card-{card.pk}")
    TextPayPrompt.objects.update(
        status=TextPayPrompt.Status.OPEN, pay_by_text=PayByText.objects.get(ended_at=None)
    )
    SavedCard.objects.filter(pk=card.pk).update(removed_at=timezone.now())
    reply = signed_post(client, incoming("PAY", sid="SMremoved")).content.decode()
    assert "no longer saved" in reply and not Payment.objects.exists()


def test_pay_never_charges_what_a_pending_bank_payment_already_pays(client, texting_customer):
    from autopay.services.bank_accounts import bank_account_add, bank_payment_make

    user, account, bill = texting_customer
    card = saved_card(user, VISA)
    turn_on(client, account, f"card-{card.pk}")
    bills_send_ready_notices(bill_ids=[bill.pk])
    bank = bank_account_add(
        user=user,
        holder_name="Pat",
        routing_number="091000019",
        account_number="1234567",
        account_type="checking",
    )
    bank_payment_make(
        client_token=uuid.uuid4(),
        user=user,
        service_account=account,
        bank_account=bank,
        amount=Decimal("40.00"),
        today=D(2026, 12, 1),
    )

    reply = signed_post(client, incoming("PAY", sid="SMpending")).content.decode()

    card_payment = Payment.objects.get(method=Payment.Method.CARD)
    assert card_payment.amount == Decimal("5.10") and "$5.10 paid" in reply
