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


def answers(account, **changes) -> dict:
    """The link form filled in from the account's bill, with any answer changed."""
    return {
        "account_number": account.account_number,
        "service_zip": account.service_zip,
        "access_code": account.access_code_display,
        **changes,
    }


def test_link_form_links_and_returns_to_the_dashboard(client, customer):
    account = ServiceAccountFactory(account_number="100777-02", service_zip="97027")

    response = client.post(reverse("service_account_link"), answers(account), follow=True)

    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "is now linked" in response.content.decode()
    assert list(customer.service_accounts.all()) == [account]


def test_the_number_and_zip_code_alone_do_not_link_an_account(client, customer):
    account = ServiceAccountFactory()

    response = client.post(reverse("service_account_link"), answers(account, access_code=""))

    assert response.status_code == 200
    assert "Enter the access code" in response.content.decode() or "required" in response.content.decode()
    assert not AccountLink.objects.exists()


def test_link_form_with_a_bad_zip_explains_the_format(client, customer):
    response = client.post(
        reverse("service_account_link"), {"account_number": "1", "service_zip": "9704", "access_code": "X"}
    )
    assert response.status_code == 200
    assert "5-digit ZIP code" in response.content.decode()


def test_link_form_pauses_after_repeated_wrong_answers(client, customer, settings):
    settings.SERVICE_ACCOUNT_LINK_RATE = "3/15m"
    account = ServiceAccountFactory(account_number="100888-01", service_zip="97045")
    for _ in range(3):
        response = client.post(reverse("service_account_link"), answers(account, access_code="AAAA-AAAA"))
        assert response.status_code == 200
        assert "do not match our records" in response.content.decode()

    response = client.post(reverse("service_account_link"), answers(account))

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not customer.service_accounts.exists()


def test_wrong_answers_about_one_account_pause_it_for_every_login_and_address(client, settings):
    """Throwaway logins from many addresses cannot take turns guessing one account's code."""
    from django.test import Client

    settings.SERVICE_ACCOUNT_LINK_ACCOUNT_RATE = "4/h"
    target = ServiceAccountFactory(account_number="100888-01")
    other = ServiceAccountFactory()
    for n in range(4):
        stranger = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        stranger.force_login(UserFactory())
        # The number typed without its dash is the same account.
        typed = answers(target, account_number="10088801", access_code=f"AAAA-AAA{n + 2}")
        assert stranger.post(reverse("service_account_link"), typed).status_code == 200

    late = Client(REMOTE_ADDR="203.0.113.9")
    late.force_login(UserFactory())
    assert late.post(reverse("service_account_link"), answers(target)).status_code == 429
    # Other accounts are not paused.
    assert late.post(reverse("service_account_link"), answers(other)).status_code == 302
    assert not target.links.exists()


def test_wrong_answers_from_one_address_pause_every_login_there(settings):
    from django.test import Client

    settings.SERVICE_ACCOUNT_LINK_ADDRESS_RATE = "4/h"
    accounts = ServiceAccountFactory.create_batch(5)
    for account in accounts[:4]:
        throwaway = Client(REMOTE_ADDR="198.51.100.7")
        throwaway.force_login(UserFactory())
        assert (
            throwaway.post(reverse("service_account_link"), answers(account, service_zip="97222")).status_code
            == 200
        )

    same_place = Client(REMOTE_ADDR="198.51.100.7")
    same_place.force_login(UserFactory())
    assert same_place.post(reverse("service_account_link"), answers(accounts[4])).status_code == 429
    elsewhere = Client(REMOTE_ADDR="198.51.100.8")
    elsewhere.force_login(UserFactory())
    assert elsewhere.post(reverse("service_account_link"), answers(accounts[4])).status_code == 302


def test_behind_a_proxy_the_limit_counts_per_client_not_per_proxy(settings):
    """Every request arrives from the load balancer's address; X-Forwarded-For names the client."""
    from django.test import Client

    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    settings.SERVICE_ACCOUNT_LINK_ADDRESS_RATE = "3/h"
    accounts = ServiceAccountFactory.create_batch(2)

    def via_proxy(client_address, spoofed=""):
        # A client may send its own X-Forwarded-For; the proxy appends the address it saw.
        header = f"{spoofed}, {client_address}" if spoofed else client_address
        browser = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=header)
        browser.force_login(UserFactory())
        return browser

    for n in range(3):
        wrong = answers(accounts[0], service_zip="97222")
        assert (
            via_proxy("198.51.100.7", spoofed=f"192.0.2.{n}")
            .post(reverse("service_account_link"), wrong)
            .status_code
            == 200
        )

    # The same client, whatever it claims to be, is paused ...
    assert (
        via_proxy("198.51.100.7", spoofed="192.0.2.99")
        .post(reverse("service_account_link"), answers(accounts[1]))
        .status_code
        == 429
    )
    # ... and another client behind the same proxy is not.
    assert (
        via_proxy("198.51.100.8").post(reverse("service_account_link"), answers(accounts[1])).status_code
        == 302
    )


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings):
    from django.test import RequestFactory

    from kernel.security import client_ip

    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="192.0.2.1").get("/")
    assert client_ip(request) == "198.51.100.7"
    settings.PORTAL_TRUSTED_PROXY_COUNT = 2
    request = RequestFactory(
        REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.7, 10.0.0.9"
    ).get("/")
    assert client_ip(request) == "198.51.100.7"
    request = RequestFactory(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address, 10.0.0.9").get("/")
    assert client_ip(request) == "10.0.0.2"


def test_allauth_sign_in_limit_counts_per_client_behind_a_proxy(settings):
    from django.test import Client

    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip"}

    def sign_in(client_address, n):
        browser = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {client_address}")
        return browser.post(
            reverse("account_login"), {"login": f"nobody{n}@example.com", "password": "wrong"}
        )

    paused = "Too many failed login attempts"
    for n in range(3):
        assert paused not in sign_in("198.51.100.7", n).content.decode()
    assert paused in sign_in("198.51.100.7", 50).content.decode()
    assert paused not in sign_in("198.51.100.8", 51).content.decode()


def test_successful_links_do_not_count_toward_the_pause(client, customer, settings):
    settings.SERVICE_ACCOUNT_LINK_RATE = "2/15m"
    settings.SERVICE_ACCOUNT_LINK_ADDRESS_RATE = "2/15m"
    accounts = ServiceAccountFactory.create_batch(4)
    for account in accounts:
        client.post(reverse("service_account_link"), answers(account))
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


@pytest.mark.parametrize(
    ("remote", "forwarded", "count", "expected"),
    [
        ("::ffff:198.51.100.7", "", 0, "198.51.100.7"),  # IPv4 written the IPv6 way
        ("10.0.0.2", "198.51.100.7:5678", 1, "198.51.100.7"),  # with a port
        ("10.0.0.2", "[2001:db8::1]:443", 1, "2001:db8::1"),
        ("10.0.0.2", "::ffff:198.51.100.8", 1, "198.51.100.8"),
        ("", "", 0, "0.0.0.0"),  # noqa: S104 (a unix socket with no proxy: one shared count, never a 500)
    ],
)
def test_client_addresses_in_every_form_count_as_the_client(settings, remote, forwarded, count, expected):
    from django.test import RequestFactory

    from kernel.security import client_ip

    settings.PORTAL_TRUSTED_PROXY_COUNT = count
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    assert client_ip(RequestFactory(REMOTE_ADDR=remote, **headers).get("/")) == expected


def test_a_link_attempt_without_a_client_address_is_answered(client, customer):
    account = ServiceAccountFactory()
    client.defaults["REMOTE_ADDR"] = ""
    assert client.post(reverse("service_account_link"), answers(account)).status_code == 302


def test_staff_cannot_type_an_access_code(client):
    from accounts.tests.factories import staff_user

    account = ServiceAccountFactory()
    client.force_login(staff_user("Supervisors"))
    page = client.get(reverse("admin:accounts_serviceaccount_change", args=[account.pk])).content.decode()
    assert 'name="access_code"' not in page
    assert account.access_code_display in page  # shown, to read to a caller who proved who they are


def test_a_customer_keeps_the_phone_and_mailing_address_current_and_the_others_hear_of_it(client, customer):
    from django.core import mail

    account = AccountLinkFactory(user=customer).service_account
    other = AccountLinkFactory(service_account=account).user
    url = reverse("contact_details", args=[account.pk])

    half = client.post(url, {"phone": "503-555-0199", "mailing_address": "PO Box 7"})
    assert half.status_code == 200 and "Needed for a mailing address" in half.content.decode()
    account.refresh_from_db()
    assert account.phone != "503-555-0199"

    client.post(
        url,
        {
            "phone": "503-555-0199",
            "mailing_address": "PO Box 7",
            "mailing_city": "Salem",
            "mailing_state": "or",
            "mailing_zip": "97301",
        },
    )

    account.refresh_from_db()
    assert account.phone == "503-555-0199" and account.mail_to[1:] == ["PO Box 7", "Salem, OR 97301"]
    notices = [m for m in mail.outbox if "mailing address" in m.subject]
    assert {r for m in notices for r in m.to} == {customer.email, other.email}
    assert all("PO Box 7, Salem, OR 97301" in m.body for m in notices)


def test_a_changed_mailing_address_is_in_the_audit_trail_with_old_and_new(client, customer):
    from kernel.models import AuditEvent

    account = AccountLinkFactory(user=customer).service_account
    client.post(
        reverse("contact_details", args=[account.pk]),
        {
            "mailing_address": "PO Box 7",
            "mailing_city": "Salem",
            "mailing_state": "OR",
            "mailing_zip": "97301",
        },
    )
    event = AuditEvent.objects.get(action="account.contact")
    assert (
        event.changes["mailing_address"] == ["", "PO Box 7"]
        and event.account_number == account.account_number
    )


@pytest.mark.django_db
def test_staff_land_on_the_staff_home_and_customers_on_their_accounts():
    from django.test import RequestFactory

    from accounts.adapters import AccountAdapter
    from accounts.tests.factories import UserFactory, staff_user

    request = RequestFactory().get("/")
    request.user = staff_user("Clerks")
    assert AccountAdapter(request).get_login_redirect_url(request) == reverse("staff_home")
    request.user = UserFactory()
    assert AccountAdapter(request).get_login_redirect_url(request) == reverse("dashboard")
