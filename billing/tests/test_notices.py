"""The bill-ready email goes to every linked customer who has not switched it off."""

import datetime as dt

import pytest
from django.core import mail

from accounts.notification_kinds import notification_kinds
from accounts.notifications import notification_switches_set
from accounts.tests.factories import AccountLinkFactory
from billing.services.bills import bills_run
from billing.services.notices import bills_send_ready_notices
from billing.tests.factories import AccountServiceFactory, sewer_rate

pytestmark = pytest.mark.django_db


def test_bill_ready_email_honours_the_switch():
    sewer_rate("9")
    account = AccountServiceFactory().service_account
    keen, quiet = (
        AccountLinkFactory(service_account=account).user,
        AccountLinkFactory(service_account=account).user,
    )
    notification_switches_set(user=quiet, enabled={k: k != "bill_ready" for k in notification_kinds()})

    result = bills_run(period=dt.date(2026, 6, 1), issued_on=dt.date(2026, 7, 1), notify=False)
    bills_send_ready_notices(bill_ids=result.bill_ids)

    assert [m.to for m in mail.outbox] == [[keen.email]]
