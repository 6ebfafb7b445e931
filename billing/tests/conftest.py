"""Fixtures shared by billing's payment tests."""

import datetime as dt

import pytest

from accounts.tests.factories import AccountLinkFactory, UserFactory
from billing.tests.factories import post


@pytest.fixture
def customer(client):
    """A signed-in customer whose account owes $120.00 (a charge due May 20, 2026)."""
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "120.00", dt.date(2026, 5, 1), dt.date(2026, 5, 20))
    client.force_login(user)
    return {"user": user, "account": account}
