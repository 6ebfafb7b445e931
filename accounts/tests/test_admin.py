import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.tests.factories import ServiceAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_client(client):
    call_command("seed_demo", accounts=3)
    client.force_login(User.objects.get(email="clerk@example.com"))
    return client


@pytest.mark.parametrize(
    "query",
    ["300123-01", "Beatrix Quill", "77 Juniper", "2S2E99ZZ12345"],
    ids=["number", "name", "address", "tax-lot"],
)
def test_clerk_finds_a_service_account_by_number_name_address_or_tax_lot(clerk_client, query):
    ServiceAccountFactory(
        account_number="300123-01",
        customer_name="Beatrix Quill",
        service_address="77 Juniper Ln",
        tax_lot="2S2E99ZZ12345",
    )
    ServiceAccountFactory(account_number="300124-01", customer_name="Someone Else")

    response = clerk_client.get("/admin/accounts/serviceaccount/", {"q": query})

    body = response.content.decode()
    assert response.status_code == 200
    assert "300123-01" in body
    assert "300124-01" not in body


def test_finance_user_can_view_but_not_edit_service_accounts(client):
    call_command("seed_demo", accounts=3)
    client.force_login(User.objects.get(email="finance@example.com"))
    account = ServiceAccountFactory()

    assert client.get("/admin/accounts/serviceaccount/").status_code == 200
    response = client.post(
        f"/admin/accounts/serviceaccount/{account.pk}/change/",
        {"account_number": account.account_number, "customer_name": "Changed"},
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.customer_name != "Changed"


def test_customer_cannot_reach_admin(client):
    call_command("seed_demo", accounts=3)
    client.force_login(User.objects.get(email="demo@example.com"))
    response = client.get("/admin/accounts/serviceaccount/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
