"""Autopay rows for tests."""

import datetime as dt

import factory

from autopay.models import AutopayEnrollment
from billing.tests.factories import SavedCardFactory


class AutopayEnrollmentFactory(factory.django.DjangoModelFactory):
    """Card autopay on day 5, from July 2026, with a card of the enrolled login."""

    class Meta:
        model = AutopayEnrollment

    service_account = factory.SubFactory("accounts.tests.factories.ServiceAccountFactory")
    user = factory.SubFactory("accounts.tests.factories.UserFactory")
    card = factory.SubFactory(SavedCardFactory, user=factory.SelfAttribute("..user"))
    draft_day = 5
    starts_on = dt.date(2026, 7, 1)
