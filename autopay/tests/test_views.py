"""The autopay page as seen by each login linked to an account."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD, AccountLinkFactory
from autopay.models import AutopayEnrollment
from billing.models import SavedCard

pytestmark = pytest.mark.django_db


def test_another_login_on_the_account_is_told_autopay_is_on_but_never_sees_the_card(client):
    owner_link = AccountLinkFactory()
    account, owner = owner_link.service_account, owner_link.user
    card = SavedCard.objects.create(
        user=owner,
        stripe_payment_method_id="pm_owner",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
    )
    enrollment = AutopayEnrollment.objects.create(
        service_account=account, user=owner, card=card, draft_day=25, starts_on=dt.date(2026, 7, 1)
    )
    tenant = AccountLinkFactory(service_account=account).user
    client.force_login(tenant)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    page = client.get(reverse("autopay_manage", args=[account.pk])).content.decode()
    client.post(reverse("autopay_cancel", args=[account.pk]))
    client.post(reverse("autopay_replace_card", args=[account.pk]), {"card_id": card.pk})

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
    link = AccountLinkFactory()
    card = SavedCard.objects.create(
        user=link.user,
        stripe_payment_method_id="pm_confirm",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
    )
    enrollment = AutopayEnrollment.objects.create(
        service_account=link.service_account,
        user=link.user,
        card=card,
        draft_day=5,
        starts_on=dt.date(2026, 7, 1),
    )
    client.force_login(link.user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    url = reverse("autopay_cancel", args=[link.service_account_id])

    unconfirmed = client.post(url, follow=True).content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == "active" and "Tick the box to confirm" in unconfirmed

    client.post(url, {"confirm": "yes"})
    enrollment.refresh_from_db()
    assert enrollment.status == "cancelled"
