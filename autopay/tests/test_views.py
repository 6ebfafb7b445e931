"""The autopay page as seen by each login linked to an account."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD, AccountLinkFactory
from autopay.models import AutopayEnrollment
from billing.tests.factories import SavedCardFactory

pytestmark = pytest.mark.django_db


def _enrolled(client, *, day=25, max_amount=None):
    link = AccountLinkFactory()
    card = SavedCardFactory(user=link.user)
    enrollment = AutopayEnrollment.objects.create(
        service_account=link.service_account,
        user=link.user,
        card=card,
        draft_day=day,
        starts_on=dt.date(2026, 7, 1),
        max_amount=max_amount,
    )
    client.force_login(link.user)
    return link, card, enrollment


def test_another_login_on_the_account_is_told_autopay_is_on_but_never_sees_the_card(client):
    owner_link = AccountLinkFactory()
    account, owner = owner_link.service_account, owner_link.user
    card = SavedCardFactory(user=owner)
    enrollment = AutopayEnrollment.objects.create(
        service_account=account, user=owner, card=card, draft_day=25, starts_on=dt.date(2026, 7, 1)
    )
    tenant = AccountLinkFactory(service_account=account).user
    client.force_login(tenant)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    page = client.get(reverse("autopay_manage", args=[account.pk])).content.decode()
    client.post(reverse("autopay_cancel", args=[account.pk]))
    client.post(reverse("autopay_change", args=[account.pk]), {"card_id": card.pk})

    assert "another login linked to this account" in page and "day 25" in page
    assert "4242" not in page and "Cancel autopay" not in page
    # The account page says autopay is on, naming the card to its owner only.
    tenant_view = client.get(reverse("service_account_detail", args=[account.pk])).content.decode()
    assert "Autopay is on, set up by another login linked to this account" in tenant_view
    assert "4242" not in tenant_view
    client.force_login(owner)
    owner_view = client.get(reverse("service_account_detail", args=[account.pk])).content.decode()
    assert "Autopay is on: we charge your Visa ending 4242 on day 25" in owner_view
    without = AccountLinkFactory()
    client.force_login(without.user)
    other = client.get(reverse("service_account_detail", args=[without.service_account_id])).content.decode()
    assert "Autopay is off" in other
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.card) == ("active", card)

    client.force_login(owner)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    own = client.get(reverse("autopay_manage", args=[account.pk])).content.decode()
    assert "4242" in own and "Cancel autopay" in own


def test_cancelling_autopay_asks_to_confirm(client):
    link, _card, enrollment = _enrolled(client, day=5)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    url = reverse("autopay_cancel", args=[link.service_account_id])

    unconfirmed = client.post(url, follow=True).content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == "active" and "Tick the box to confirm" in unconfirmed

    client.post(url, {"confirm": "yes"})
    enrollment.refresh_from_db()
    assert enrollment.status == "cancelled"


def test_seeing_autopay_needs_no_password_but_changing_it_does(client):
    link, card, enrollment = _enrolled(client)
    url = reverse("autopay_manage", args=[link.service_account_id])

    page = client.get(url)
    assert page.status_code == 200
    assert "Visa ending 4242" in page.content.decode()
    change = reverse("autopay_change", args=[link.service_account_id])
    asked = client.post(change, {"card_id": card.pk, "draft_day": "5", "accept_terms": "yes"})
    assert asked.status_code == 302 and reverse("account_reauthenticate") in asked["Location"]
    enrollment.refresh_from_db()
    assert enrollment.draft_day == 25


def test_the_day_card_and_maximum_change_without_cancelling_and_the_terms_are_kept(client):
    from django.core import mail

    from autopay.models import PaymentAuthorization

    link, card, enrollment = _enrolled(client)
    other = SavedCardFactory(user=link.user, brand="mastercard", last4="4444", exp_month=1, exp_year=2031)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    change = reverse("autopay_change", args=[link.service_account_id])

    refused = client.post(change, {"card_id": other.pk, "draft_day": "5", "max_amount": "150"})
    assert refused.status_code == 400 and "accept the autopay terms" in refused.content.decode()
    bad_max = client.post(
        change, {"card_id": other.pk, "draft_day": "5", "max_amount": "lots", "accept_terms": "yes"}
    )
    assert bad_max.status_code == 400 and "Enter the maximum in dollars and cents" in bad_max.content.decode()
    enrollment.refresh_from_db()
    assert (enrollment.card_id, enrollment.draft_day, enrollment.max_amount) == (card.pk, 25, None)

    done = client.post(
        change,
        {"card_id": other.pk, "draft_day": "5", "max_amount": "$150.00", "accept_terms": "yes"},
        REMOTE_ADDR="198.51.100.7",
        follow=True,
    )
    assert "Autopay is changed. The next charge is on" in done.content.decode()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.card_id, enrollment.draft_day) == ("active", other.pk, 5)
    assert enrollment.max_amount == Decimal("150.00")
    authorization = PaymentAuthorization.objects.get(pk=enrollment.authorization_id)
    assert (authorization.user, authorization.ip_address, authorization.kind) == (
        link.user,
        "198.51.100.7",
        "card_autopay",
    )
    assert authorization.terms_version and link.service_account.account_number in authorization.text
    assert authorization.text in done.content.decode()  # stored exactly as shown
    assert authorization.details["draft_day"] == 5 and authorization.details["max_amount"] == "150.00"
    assert mail.outbox[-1].subject == "Your autopay was changed"
    assert "day 5" in mail.outbox[-1].body and "$150.00" in mail.outbox[-1].body
