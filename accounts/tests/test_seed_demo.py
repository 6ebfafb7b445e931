import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.demo_logins import DEMO_LOGINS
from accounts.models import ServiceAccount, User

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_accounts_logins_and_groups():
    call_command("seed_demo", accounts=12)

    assert ServiceAccount.objects.count() == 12
    customer = User.objects.get(email="demo@example.com")
    assert customer.service_accounts.count() == 2
    assert not customer.is_staff
    clerk = User.objects.get(email="clerk@example.com")
    finance = User.objects.get(email="finance@example.com")
    assert clerk.is_staff and clerk.groups.filter(name="Clerks").exists()
    assert finance.is_staff and finance.groups.filter(name="Finance").exists()
    assert clerk.has_perm("accounts.change_serviceaccount")
    assert finance.has_perm("accounts.view_serviceaccount")
    assert not finance.has_perm("accounts.change_serviceaccount")
    for _, email, password in DEMO_LOGINS:
        assert User.objects.get(email=email).check_password(password)


def test_seed_demo_runs_once():
    call_command("seed_demo", accounts=5)
    call_command("seed_demo", accounts=50)
    assert ServiceAccount.objects.count() == 5


def test_seed_demo_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="PORTAL_DEMO_MODE"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_demo_customer_can_sign_in(client):
    call_command("seed_demo", accounts=3)
    _, email, password = DEMO_LOGINS[0]

    response = client.post("/auth/login/", {"login": email, "password": password}, follow=True)

    assert response.redirect_chain[-1][0] == "/dashboard/"
    assert "100000-01" in response.content.decode()
