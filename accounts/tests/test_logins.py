"""allauth as configured here: verification, rate limits, password reset and change, 2FA."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_unverified_email_cannot_sign_in_and_gets_a_verification_email(client):
    user = UserFactory(verified=False)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1
    # The greeting names the utility (it once read "Hello from !").
    from django.conf import settings

    assert f"Hello from {settings.UTILITY_NAME}!" in mail.outbox[0].body


def test_repeated_failed_logins_are_rate_limited_through_redis(client):
    user = UserFactory()
    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": user.email, "password": "Wrong-Pass-1!"})
        assert response.status_code == 200

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    user = UserFactory()
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert len(mail.outbox) == 1
    # The link is on PORTAL_BASE_URL, not on whatever host the request named.
    base = re.escape(settings.PORTAL_BASE_URL)
    link = re.search(base + r"(/auth/password/reset/key/\S+/)", mail.outbox[0].body).group(1)

    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = client.post(form_url, {"password1": "New-Harbor-77!", "password2": "New-Harbor-77!"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("New-Harbor-77!")


def test_password_change_applies_the_policy(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "alllowercase1!", "password2": "alllowercase1!"},
    )

    assert "upper-case letter" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_every_email_names_the_utility_and_links_with_the_whole_address(client, settings):
    """allauth's password reset and the portal's own notice, from a path given as the link."""
    import re as regex

    from accounts.notifications import email_send

    user = UserFactory()
    mail.outbox.clear()
    client.post(reverse("account_reset_password"), {"email": user.email})
    email_send(
        kind="staff",
        subject="A test notice",
        template="emails/notice",
        context={"lines": ["Hello"], "link": "/service-accounts/1/"},
        users=[user],
        required=True,
    )
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        bodies = [message.body, *(content for content, _ in getattr(message, "alternatives", []))]
        for body in bodies:
            assert settings.UTILITY_NAME in body or settings.UTILITY_SHORT_NAME in message.subject, (
                message.subject
            )
            assert "from !" not in body and "using !" not in body
            # Every link is whole: no path alone after a space, a quote or an "href=".
            assert not regex.search(
                r"""(?:^|[\s"'=(])/(?:auth|service-accounts|assistance|payments|quick-pay)/""", body
            ), body
