"""Production refuses weak settings; keys rotate; manage.py starts nothing unasked; a bank
account number typed by a clerk is never shown back."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import ServiceAccountFactory, staff_user
from autopay.models import BankDraftAgreement
from autopay.services.enrollment import bank_agreement_record
from kernel.crypto import decrypt
from portal.checks import production_settings_check

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ROUTING = "091000019"


def production_env(**changes) -> dict:
    """A production environment (DEBUG off, demo mode on) with every secret set, then changed."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE", "PORTAL_DEV_SERVICES"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.base",
        DJANGO_SECRET_KEY="production-like-secret-" + "y" * 40,
        DJANGO_ALLOWED_HOSTS="pay.example.org",
        PORTAL_DEMO_MODE="true",  # changes nothing: a demo on a public address needs real keys
        PORTAL_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        STRIPE_SECRET_KEY="sk_live_x",
        STRIPE_PUBLISHABLE_KEY="pk_live_x",
        STRIPE_WEBHOOK_SECRET="whsec_x",
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", code], env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "missing",
    ["PORTAL_ENCRYPTION_KEY", "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"],
)
def test_with_debug_off_the_deploy_check_names_each_missing_secret(settings, missing):
    settings.DEBUG = False
    settings.DEMO_MODE = True
    setattr(settings, missing, "")

    errors = production_settings_check()

    assert [error.id for error in errors] == ["portal.E001"]
    assert missing in errors[0].msg
    with pytest.raises(SystemCheckError, match=missing):
        call_command("check", "--deploy")


def test_with_debug_on_the_development_placeholders_are_allowed(settings):
    settings.DEBUG = True
    settings.PORTAL_ENCRYPTION_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert production_settings_check() == []


def test_a_malformed_encryption_key_is_refused(settings):
    settings.DEBUG = False
    settings.PORTAL_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},not-a-key"
    assert [error.id for error in production_settings_check()] == ["portal.E002"]


def test_gunicorn_and_celery_refuse_to_start_without_the_secrets():
    wsgi = python("import portal.wsgi", production_env(STRIPE_WEBHOOK_SECRET=None))
    assert wsgi.returncode != 0
    assert "STRIPE_WEBHOOK_SECRET is not set" in wsgi.stderr

    for program in ("worker", "beat"):
        celery = subprocess.run(  # noqa: S603 (our own interpreter)
            [sys.executable, "-m", "celery", "-A", "portal", program, "--loglevel=INFO"],
            env=production_env(PORTAL_ENCRYPTION_KEY=None, REDIS_URL="redis://127.0.0.1:9/0"),
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert celery.returncode != 0, program
        assert "PORTAL_ENCRYPTION_KEY is not set" in celery.stderr + celery.stdout, program

    complete = python("import portal.wsgi; print('serving')", production_env())
    assert complete.returncode == 0, complete.stderr
    assert "serving" in complete.stdout


def test_manage_py_without_database_url_starts_nothing_and_says_what_to_do(tmp_path):
    env = production_env(DATABASE_URL=None)
    result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "check"],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
    assert 'make manage CMD="..."' in result.stderr
    assert "PostgreSQL" not in result.stdout + result.stderr  # no service was started


@pytest.mark.django_db
def test_keys_rotate_and_reencrypt_secrets_moves_every_number_to_the_newest_key(settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEY = old
    numbers = ["123456789", "5550001234"]
    for number in numbers:
        bank_agreement_record(
            service_account=ServiceAccountFactory(),
            holder_name="Pat Doe",
            routing_number=ROUTING,
            account_number=number,
            account_type="checking",
            signed_on=dt.date(2026, 6, 1),
            recorded_by=None,
        )

    # A new key in front: old secrets still read, new ones are written under the new key.
    settings.PORTAL_ENCRYPTION_KEY = f"{new},{old}"
    stored = list(
        BankDraftAgreement.objects.order_by("pk").values_list("account_number_encrypted", flat=True)
    )
    assert [decrypt(token) for token in stored] == numbers

    call_command("reencrypt_secrets")
    call_command("reencrypt_secrets")

    out = capsys.readouterr().out
    assert "2 re-encrypted under the newest key, 0 already were" in out
    assert "0 re-encrypted under the newest key, 2 already were" in out
    # The old key can go: everything reads with the new one alone.
    settings.PORTAL_ENCRYPTION_KEY = new
    stored = list(
        BankDraftAgreement.objects.order_by("pk").values_list("account_number_encrypted", flat=True)
    )
    assert [decrypt(token) for token in stored] == numbers
    assert all(number not in token for token, number in zip(stored, numbers, strict=True))


BANK_NUMBER = "98765432101234"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"routing_number": "091000018"},  # a bad check digit
        {"account_type": ""},
        {"holder_name": ""},
        {"account_number": BANK_NUMBER + "9999"},  # too long
    ],
)
def test_a_form_with_an_error_never_shows_the_bank_account_number_back(changes):
    account = ServiceAccountFactory()
    client = Client()
    client.force_login(staff_user("Clerks"))
    data = {
        "service_account": account.pk,
        "holder_name": "Pat Doe",
        "routing_number": ROUTING,
        "account_number": BANK_NUMBER,
        "account_type": "checking",
        "signed_on": "2026-06-01",
        **changes,
    }

    response = client.post(reverse("admin:autopay_bankdraftagreement_add"), data)

    body = response.content.decode()
    assert response.status_code == 200
    assert "errornote" in body or "errorlist" in body
    assert BANK_NUMBER not in body
    assert not BankDraftAgreement.objects.exists()


def test_make_run_links_to_the_address_it_listens_on():
    from portal.devservices import SERVICE_VARIABLES, run_defaults

    assert run_defaults(8123)["PORTAL_BASE_URL"] == "http://127.0.0.1:8123"
    assert "PORTAL_BASE_URL" in SERVICE_VARIABLES  # `make manage` beside it links the same way


@pytest.mark.django_db
def test_emails_link_to_the_portals_public_address(settings, django_capture_on_commit_callbacks):
    from django.core import mail

    from accounts.tests.factories import AccountLinkFactory
    from billing.models import Service
    from billing.services.bills import bills_run
    from billing.tests.factories import AccountServiceFactory, RateScheduleFactory

    settings.PORTAL_BASE_URL = "https://pay.example-utility.org"
    RateScheduleFactory(service=Service.SEWER, effective_date=dt.date(2025, 7, 1))
    account = AccountServiceFactory(service=Service.SEWER).service_account
    AccountLinkFactory(service_account=account)

    with django_capture_on_commit_callbacks(execute=True):  # the email is queued when the bills commit
        bills_run(period=dt.date(2026, 6, 1), issued_on=dt.date(2026, 7, 1))

    (message,) = mail.outbox
    assert "https://pay.example-utility.org/service-accounts/" in message.body
    assert "127.0.0.1" not in message.body


def test_the_shut_off_path_needs_its_start_date(settings):
    settings.DEBUG = False
    settings.COLLECTION_PATH = "shutoff"
    settings.COLLECTIONS_START_DATE = ""
    assert [error.id for error in production_settings_check()] == ["portal.E003"]
    settings.COLLECTIONS_START_DATE = "2026-07-01"
    assert production_settings_check() == []


def test_manage_py_checks_the_migrations_without_any_service():
    env = production_env(DATABASE_URL=None)
    env.pop("DJANGO_SETTINGS_MODULE")
    result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
