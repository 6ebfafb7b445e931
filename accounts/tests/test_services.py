import pytest

from accounts.models import AccountLink
from accounts.services import (
    LINK_MISMATCH_MESSAGE,
    service_account_link,
    service_account_unlink,
)
from accounts.tests.factories import ServiceAccountFactory, UserFactory
from kernel.errors import ApplicationError

pytestmark = pytest.mark.django_db


def link(user, account):
    return service_account_link(
        user=user,
        account_number=account.account_number,
        service_zip=account.service_zip,
        access_code=account.access_code,
    )


def test_link_with_matching_number_and_zip_links_the_account():
    user = UserFactory()
    account = ServiceAccountFactory(account_number="100234-01", service_zip="97045")

    linked, created = service_account_link(
        user=user, account_number=" 100234-01 ", service_zip="97045-1234", access_code=account.access_code
    )

    assert (linked, created) == (account, True)
    assert list(user.service_accounts.all()) == [account]


@pytest.mark.parametrize(
    ("number", "zip_code", "code"),
    [
        ("100234-01", "97222", "K7QM4XPT"),
        ("999999-99", "97045", "K7QM4XPT"),
        ("100234-01", "97045", "K7QM4XPA"),  # number and ZIP code right, the code one letter off
        ("100234-01", "97045", ""),
        ("", "", ""),
    ],
)
def test_link_with_wrong_details_says_they_do_not_match_without_saying_which(number, zip_code, code):
    user = UserFactory()
    ServiceAccountFactory(account_number="100234-01", service_zip="97045", access_code="K7QM4XPT")

    with pytest.raises(ApplicationError) as exc:
        service_account_link(user=user, account_number=number, service_zip=zip_code, access_code=code)

    assert exc.value.message == LINK_MISMATCH_MESSAGE
    assert not AccountLink.objects.exists()


def test_linking_twice_keeps_one_link():
    user = UserFactory()
    account = ServiceAccountFactory()
    service_account_link(
        user=user,
        account_number=account.account_number,
        service_zip=account.service_zip,
        access_code=account.access_code,
    )

    _, created = service_account_link(
        user=user,
        account_number=account.account_number,
        service_zip=account.service_zip,
        access_code=account.access_code,
    )

    assert created is False
    assert AccountLink.objects.count() == 1


def test_landlord_holds_several_accounts_and_an_account_has_several_logins():
    landlord, tenant = UserFactory(), UserFactory()
    first, second = ServiceAccountFactory(), ServiceAccountFactory()
    for account in (first, second):
        link(landlord, account)
    link(tenant, first)

    assert set(landlord.service_accounts.all()) == {first, second}
    assert set(first.users.all()) == {landlord, tenant}


def test_unlink_removes_only_that_logins_access():
    owner, tenant = UserFactory(), UserFactory()
    account = ServiceAccountFactory()
    for user in (owner, tenant):
        link(user, account)

    service_account_unlink(user=tenant, service_account=account)

    assert list(account.users.all()) == [owner]
    account.refresh_from_db()
    assert account.status == "active"  # the account itself is untouched


@pytest.mark.parametrize("typed", ["10023401", "100234 01", "100234 - 01", "100234-01"])
def test_an_account_number_typed_without_its_dash_or_with_spaces_is_the_same_number(typed):
    user = UserFactory()
    account = ServiceAccountFactory(account_number="100234-01", service_zip="97045")
    ServiceAccountFactory(account_number="100235-01", service_zip="97045")

    linked, _ = service_account_link(
        user=user, account_number=typed, service_zip="97045", access_code=account.access_code
    )

    assert linked == account


def test_typing_the_number_without_its_dash_is_not_a_wrong_answer(client):
    from django.urls import reverse

    account = ServiceAccountFactory(account_number="100234-01", service_zip="97045")
    client.force_login(UserFactory())
    for _ in range(6):  # more than the wrong-answer limit
        response = client.post(
            reverse("service_account_link"),
            {"account_number": "10023401", "service_zip": "97045", "access_code": account.access_code},
        )
        assert response.status_code == 302
    assert AccountLink.objects.filter(service_account=account).count() == 1


def test_the_logins_already_on_an_account_are_told_when_another_links_it():
    from django.core import mail

    from accounts.models import EmailLog

    account = ServiceAccountFactory(account_number="100234-01", service_zip="97045")
    owner = UserFactory(email="owner@example.com")
    link(owner, account)
    assert mail.outbox == []  # nobody else to tell
    from accounts.notifications import notification_switches_set

    notification_switches_set(user=owner, enabled={})  # every switch off: this one goes anyway

    link(UserFactory(email="stranger@example.net"), account)

    (message,) = mail.outbox
    assert message.to == ["owner@example.com"]
    assert "100234-01" in message.subject and "s***@example.net" in message.body
    assert "stranger@example.net" not in message.body
    assert EmailLog.objects.get(to_email="owner@example.com").account_number == account.account_number


@pytest.mark.parametrize("typed", ["K7QM-4XPT", "k7qm4xpt", " K7QM 4XPT "])
def test_the_access_code_is_read_as_printed_or_in_any_case_with_spaces(typed):
    account = ServiceAccountFactory(account_number="100234-01", service_zip="97045", access_code="K7QM4XPT")

    linked, _ = service_account_link(
        user=UserFactory(), account_number="100234-01", service_zip="97045", access_code=typed
    )

    assert linked == account


def test_every_account_gets_its_own_access_code_from_an_unambiguous_alphabet():
    from accounts.models import ACCESS_CODE_ALPHABET

    codes = [ServiceAccountFactory().access_code for _ in range(50)]

    assert len(set(codes)) == 50
    assert all(len(code) == 8 and set(code) <= set(ACCESS_CODE_ALPHABET) for code in codes)
    assert not set("01OIL") & set(ACCESS_CODE_ALPHABET)


def test_a_new_access_code_stops_the_old_one_and_keeps_existing_links():
    from accounts.models import ServiceAccount
    from accounts.services import service_accounts_new_access_codes
    from accounts.tests.factories import staff_user
    from kernel.models import AuditEvent

    account = ServiceAccountFactory()
    owner = UserFactory()
    link(owner, account)
    old = account.access_code

    service_accounts_new_access_codes(
        accounts=ServiceAccount.objects.filter(pk=account.pk), by=staff_user("Clerks")
    )

    account.refresh_from_db()
    assert account.access_code != old
    assert AuditEvent.objects.filter(
        action="account.access_code", account_number=account.account_number
    ).exists()
    with pytest.raises(ApplicationError):
        service_account_link(
            user=UserFactory(),
            account_number=account.account_number,
            service_zip=account.service_zip,
            access_code=old,
        )
    assert list(account.users.all()) == [owner]


@pytest.mark.parametrize("typed", ["-", " - ", "K7QM", "K7QM4XPTX"])
def test_a_code_of_the_wrong_length_never_matches(typed):
    from accounts.services import access_code_matches

    account = ServiceAccountFactory(access_code="K7QM4XPT")
    assert not access_code_matches(account=account, typed=typed)
    account.access_code = ""
    assert not access_code_matches(account=account, typed=typed)
