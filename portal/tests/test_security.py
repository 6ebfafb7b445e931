"""Headers, session limits, asking for the password again, and the staff rules."""

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.urls import reverse

from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_pages_carry_a_policy_that_runs_scripts_only_from_the_portal_and_stripe(client):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    client.force_login(user)
    for url in [reverse("home"), reverse("dashboard"), reverse("pay_account", args=[account.pk])]:
        response = client.get(url)
        policy = directives(response)
        assert policy["script-src"] == ["'self'", settings.STRIPE_JS_ORIGIN], url
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        features = dict(part.split("=", 1) for part in response["Permissions-Policy"].split(", "))
        assert features["camera"] == features["microphone"] == features["geolocation"] == "()"
        assert features["payment"].startswith("(self ") and '"https://js.stripe.com"' in features["payment"]


def production_settings(**env) -> dict:
    """The settings a deployment gets (DEBUG off), read in a fresh process."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'hsts': s.SECURE_HSTS_SECONDS, 'ssl_redirect': s.SECURE_SSL_REDIRECT, "
        "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
        "'http_only': s.SESSION_COOKIE_HTTPONLY, 'script_src': s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src'], "
        "'idle': s.SESSION_IDLE_MINUTES, 'max_hours': s.SESSION_MAX_HOURS, 'staff_2fa': s.STAFF_REQUIRE_TWO_FACTOR}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STRIPE_", "SESSION_"))}
    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "portal.settings.base",
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "portal.example",
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    return json.loads(result.stdout)


def test_a_deployment_gets_hsts_secure_cookies_and_stripes_own_script_origin():
    values = production_settings()
    assert values["hsts"] >= 31536000
    assert values["ssl_redirect"] is True
    assert values["session_secure"] and values["csrf_secure"] and values["http_only"]
    assert values["script_src"] == ["'self'", "https://js.stripe.com"]
    assert (values["idle"], values["max_hours"], values["staff_2fa"]) == (30, 12, True)
    assert production_settings(SESSION_IDLE_MINUTES="15")["idle"] == 15


def test_a_login_ends_after_thirty_idle_minutes(client, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), tick=False)
    user = UserFactory()
    client.force_login(user)
    time_machine.shift(dt.timedelta(minutes=29))
    assert client.get(reverse("dashboard")).status_code == 200
    time_machine.shift(dt.timedelta(minutes=29))  # 29 minutes since the last page: still fine
    assert client.get(reverse("dashboard")).status_code == 200

    time_machine.shift(dt.timedelta(minutes=31))
    response = client.get(reverse("dashboard"), follow=True)

    assert response.redirect_chain[0][0] == f"{reverse('account_login')}?next=%2Fdashboard%2F"
    assert "after 30 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_login_ends_twelve_hours_after_signing_in_however_active(client, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC), tick=False)
    client.force_login(UserFactory())
    for _ in range(35):  # a page every 20 minutes: 11 h 40 min
        time_machine.shift(dt.timedelta(minutes=20))
        assert client.get(reverse("dashboard")).status_code == 200
    time_machine.shift(dt.timedelta(minutes=21))

    response = client.get(reverse("dashboard"), follow=True)

    assert "after 12 hours" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_form_posted_after_the_limit_changes_nothing(client, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), tick=False)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    client.force_login(user)
    time_machine.shift(dt.timedelta(minutes=45))

    response = client.post(reverse("paperless_update", args=[account.pk]), {"paperless": "on"})

    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    from billing.models import BillingAccount

    assert not BillingAccount.objects.filter(pk=account.pk, paperless=True).exists()


def test_changing_autopay_cards_asks_for_the_password_again(client):
    from urllib.parse import quote

    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    client.force_login(user)
    url = reverse("autopay_manage", args=[account.pk])

    assert client.get(url).status_code == 200  # seeing autopay asks for nothing more
    setup = client.post(reverse("autopay_card_setup"), HTTP_REFERER=f"http://testserver{url}")
    assert setup.status_code == 403 and "confirm your password" in setup.json()["error"]
    assert (
        setup.json()["reauthenticate_url"]
        == f"{reverse('account_reauthenticate')}?next={quote(url, safe='')}"
    )
    enrol = client.post(url, {"card_id": "1", "draft_day": "5", "accept_terms": "yes"})
    assert enrol.status_code == 302 and enrol["Location"].startswith(reverse("account_reauthenticate"))

    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.post(reverse("autopay_card_setup")).status_code == 200


def test_adding_an_email_address_asks_for_the_password_again(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("account_email"), {"action_add": "", "email": "new@example.com"})

    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    from allauth.account.models import EmailAddress

    assert not EmailAddress.objects.filter(email="new@example.com").exists()


def test_the_admin_sign_in_is_the_portals_rate_limited_one():
    from django.test import Client

    clerk = UserFactory(is_staff=True)
    guest = Client()
    response = guest.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    # Django's own admin form is gone: a password posted to it signs no one in.
    posted = guest.post("/admin/login/", {"username": clerk.email, "password": PASSWORD})
    assert posted.status_code == 302 and posted["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in guest.session
    # The portal's sign-in counts failures per login: the sixth try is refused, right or wrong.
    for _ in range(5):
        guest.post(reverse("account_login"), {"login": clerk.email, "password": "Wrong-Pass-1!"})
    refused = guest.post(reverse("account_login"), {"login": clerk.email, "password": PASSWORD})
    assert "_auth_user_id" not in guest.session and refused.status_code in (200, 429)


def test_staff_without_two_step_verification_are_sent_to_set_it_up(client):
    clerk = UserFactory(is_staff=True)
    Authenticator.objects.filter(user=clerk).delete()
    client.force_login(clerk)

    for url in ["/admin/", reverse("phone_payment")]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp"), url

    UserFactory(email="other-clerk@example.com", is_staff=True)  # the factory adds an authenticator
    client.force_login(UserFactory._meta.model.objects.get(email="other-clerk@example.com"))
    assert client.get("/admin/").status_code == 200


def test_the_audit_trail_cannot_be_changed_or_deleted_even_by_a_superuser(client):
    from django.db import IntegrityError, InternalError, transaction

    from kernel.audit import audit_record
    from kernel.models import AuditEvent

    clerk = UserFactory(is_staff=True)
    event = audit_record(actor=clerk, action="batch.post", target=clerk, summary="Posted a batch")
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="Nothing happened")
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).summary == "Posted a batch"

    boss = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(boss)
    assert client.get(reverse("admin:portal_auditevent_changelist")).status_code == 200
    page = client.get(reverse("admin:portal_auditevent_change", args=[event.pk])).content.decode()
    assert "Posted a batch" in page and 'name="_save"' not in page
    assert client.post(reverse("admin:portal_auditevent_delete", args=[event.pk])).status_code == 403
    assert client.get(reverse("admin:portal_auditevent_add")).status_code == 403
