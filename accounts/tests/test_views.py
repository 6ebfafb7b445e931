import pytest
from django.urls import reverse

from accounts.models import AccountLink
from accounts.tests.factories import AccountLinkFactory, ServiceAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_dashboard_lists_only_the_logins_own_accounts(client, customer):
    mine = AccountLinkFactory(user=customer).service_account
    theirs = AccountLinkFactory().service_account

    response = client.get(reverse("dashboard"))

    body = response.content.decode()
    assert response.status_code == 200
    assert mine.account_number in body
    assert theirs.account_number not in body


def test_dashboard_needs_a_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", ["service_account_detail", "service_account_unlink"])
def test_another_customers_account_in_the_url_is_not_found(client, customer, name):
    theirs = AccountLinkFactory().service_account

    assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert client.post(reverse(name, args=[theirs.pk])).status_code in (404, 405)
    assert AccountLink.objects.filter(service_account=theirs).count() == 1


def test_unlinked_account_id_is_not_found_even_when_it_exists(client, customer):
    account = ServiceAccountFactory()
    assert client.get(reverse("service_account_detail", args=[account.pk])).status_code == 404


def test_own_account_page_shows_the_account(client, customer):
    account = AccountLinkFactory(user=customer).service_account
    response = client.get(reverse("service_account_detail", args=[account.pk]))
    assert response.status_code == 200
    assert account.customer_name in response.content.decode()


def test_link_form_links_and_returns_to_the_dashboard(client, customer):
    account = ServiceAccountFactory(account_number="100777-02", service_zip="97027")

    response = client.post(
        reverse("service_account_link"), {"account_number": "100777-02", "service_zip": "97027"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "is now linked" in response.content.decode()
    assert list(customer.service_accounts.all()) == [account]


def test_link_form_with_a_bad_zip_explains_the_format(client, customer):
    response = client.post(reverse("service_account_link"), {"account_number": "1", "service_zip": "9704"})
    assert response.status_code == 200
    assert "5-digit ZIP code" in response.content.decode()


def test_link_form_pauses_after_repeated_wrong_answers(client, customer, settings):
    settings.SERVICE_ACCOUNT_LINK_RATE = "3/15m"
    ServiceAccountFactory(account_number="100888-01", service_zip="97045")
    wrong = {"account_number": "100888-01", "service_zip": "97222"}
    for _ in range(3):
        response = client.post(reverse("service_account_link"), wrong)
        assert response.status_code == 200
        assert "do not match our records" in response.content.decode()

    response = client.post(
        reverse("service_account_link"), {"account_number": "100888-01", "service_zip": "97045"}
    )

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not customer.service_accounts.exists()


def test_successful_links_do_not_count_toward_the_pause(client, customer, settings):
    settings.SERVICE_ACCOUNT_LINK_RATE = "2/15m"
    accounts = ServiceAccountFactory.create_batch(4)
    for account in accounts:
        client.post(
            reverse("service_account_link"),
            {"account_number": account.account_number, "service_zip": account.service_zip},
        )
    assert customer.service_accounts.count() == 4


def test_unlink_confirms_then_removes(client, customer):
    account = AccountLinkFactory(user=customer).service_account
    assert (
        "Remove account" in client.get(reverse("service_account_unlink", args=[account.pk])).content.decode()
    )

    response = client.post(reverse("service_account_unlink", args=[account.pk]))

    assert response.status_code == 302
    assert not customer.service_accounts.exists()


def test_unknown_page_gets_the_portals_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
