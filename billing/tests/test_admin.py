import datetime as dt

import pytest
from django.core.management import call_command

from accounts.models import User
from billing.models import RateSchedule, Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(client):
    call_command("seed_demo", accounts=2)
    client.force_login(User.objects.get(email="finance@example.com"))
    return client


def test_finance_cannot_change_rates_that_bills_used_but_can_add_next_years(finance_client):
    used = RateSchedule.objects.filter(service=Service.SEWER, billline__isnull=False).distinct().first()
    before = used.monthly_charge_per_unit
    form = {
        "service": "sewer",
        "effective_date": used.effective_date.isoformat(),
        "monthly_charge_per_unit": "99.00",
        "charge_per_ccf": "0",
    }

    response = finance_client.post(f"/admin/billing/rateschedule/{used.pk}/change/", form)

    assert "Bills were issued with these rates" in response.content.decode()
    used.refresh_from_db()
    assert used.monthly_charge_per_unit == before
    response = finance_client.post(
        "/admin/billing/rateschedule/add/",
        {**form, "effective_date": "2030-07-01", "monthly_charge_per_unit": "60"},
    )
    assert response.status_code == 302
    assert RateSchedule.objects.filter(effective_date=dt.date(2030, 7, 1)).exists()


def test_ledger_is_view_only_in_admin(finance_client):
    response = finance_client.get("/admin/billing/ledgerentry/add/")
    assert response.status_code == 403
