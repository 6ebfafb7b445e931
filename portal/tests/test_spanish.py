"""English and Spanish: the catalog is complete, the choice is kept per login, and pages, emails
and letters come in the customer's language."""

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import User
from accounts.tests.factories import PASSWORD, AccountLinkFactory, ServiceAccountFactory, UserFactory
from billing.tests.factories import BillFactory, post
from certification.services.notices import notices_past_due

CATALOG = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES"
# What makemessages reads: the apps, the templates; not the tests, the benchmark or installed packages.
SOURCES = [
    "accounts",
    "assistance",
    "autopay",
    "billing",
    "certification",
    "kernel",
    "portal",
    "templates",
    "locale",
]
D = dt.date


def untranslated(po: polib.POFile) -> list[str]:
    return [e.msgid for e in po if not e.translated() or "fuzzy" in e.flags]


def test_every_message_in_the_code_has_a_spanish_translation(tmp_path):
    """Extract the messages afresh from a copy of the code (as `make messages` does) and fail on
    any the committed catalog does not translate: a new English text fails here until translated."""
    for name in SOURCES + ["manage.py"]:
        source = Path(settings.BASE_DIR) / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("tests", "__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-location", "--no-obsolete"],
        cwd=tmp_path,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"},
        check=True,
        capture_output=True,
    )
    fresh = polib.pofile(str(tmp_path / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    assert len(fresh) > 500
    missing = untranslated(fresh)
    assert not missing, "messages without a Spanish translation (run `make messages`):\n" + "\n".join(missing)


def test_the_committed_catalog_is_complete_and_compiled():
    po = polib.pofile(str(CATALOG / "django.po"))
    assert not untranslated(po)
    compiled = {e.msgid: e.msgstr or e.msgstr_plural for e in polib.mofile(str(CATALOG / "django.mo"))}
    for entry in po:
        assert entry.msgid in compiled, (
            f"django.mo is older than django.po (run `make messages`): {entry.msgid}"
        )
    # A translation uses only the names its English gives it (a wrong one would fail at run time).
    placeholders = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    for entry in po:
        given = set(placeholders.findall(entry.msgid + entry.msgid_plural))
        for translation in [entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values():
            assert given >= set(placeholders.findall(translation)), entry.msgid


@pytest.mark.django_db
def test_the_switcher_keeps_the_choice_on_the_login_for_every_device():
    user = UserFactory()
    AccountLinkFactory(user=user)
    phone = Client()
    phone.force_login(user)
    assert "My accounts" in phone.get(reverse("dashboard")).content.decode()

    response = phone.post(reverse("language_set"), {"language": "es", "next": reverse("dashboard")})

    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert User.objects.get(pk=user.pk).language == "es"
    page = phone.get(reverse("dashboard")).content.decode()
    assert "Mis cuentas" in page and '<html lang="es">' in page
    laptop = Client()  # no cookie: the login remembers
    laptop.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert "Mis cuentas" in laptop.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_a_guest_choice_is_kept_in_a_cookie_and_adopted_by_the_login_made_next():
    guest = Client()
    guest.post(reverse("language_set"), {"language": "es", "next": "/"})
    assert "Pague y administre" in guest.get(reverse("home")).content.decode()
    user = UserFactory()
    guest.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert User.objects.get(pk=user.pk).language == "es"


@pytest.mark.django_db
def test_the_switcher_refuses_an_unknown_language_and_an_outside_address():
    guest = Client()
    response = guest.post(reverse("language_set"), {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.django_db
def test_spanish_forms_explain_their_errors_in_spanish():
    user = UserFactory(language="es")
    client = Client()
    client.force_login(user)
    page = client.post(reverse("service_account_link"), {"account_number": "", "service_zip": "9"})
    body = page.content.decode()
    assert "Escriba el código postal de 5 dígitos" in body
    assert "Este campo es obligatorio" in body  # Django's own message, in Spanish


@pytest.mark.django_db
def test_each_login_gets_the_bill_email_in_its_own_language(time_machine):
    from billing.services.notices import bills_send_ready_notices

    time_machine.move_to(dt.datetime(2026, 7, 2, 18, tzinfo=dt.UTC), tick=False)
    account = ServiceAccountFactory(account_number="510001-01")
    english = AccountLinkFactory(service_account=account).user
    spanish = AccountLinkFactory(service_account=account, user=UserFactory(language="es")).user
    bill = BillFactory(service_account=account, new_charges=Decimal("59.70"))

    bills_send_ready_notices(bill_ids=[bill.pk])

    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address[english.email].subject == "Your June 2026 bill for account 510001-01"
    assert by_address[spanish.email].subject == "Su factura de junio de 2026 de la cuenta 510001-01"
    assert "Fecha de vencimiento: 20 de julio de 2026" in by_address[spanish.email].body
    assert "Due date: July 20, 2026" in by_address[english.email].body


@pytest.mark.django_db
def test_a_letter_is_printed_in_the_language_of_the_accounts_login():
    spanish_account = ServiceAccountFactory(account_number="520001-01")
    post(spanish_account, "charge", "80.00", D(2026, 6, 1), D(2026, 6, 20))
    AccountLinkFactory(service_account=spanish_account, user=UserFactory(language="es"))
    english_account = ServiceAccountFactory(account_number="520002-01")
    post(english_account, "charge", "90.00", D(2026, 6, 1), D(2026, 6, 20))

    run = notices_past_due(as_of=D(2026, 7, 25))

    pages = [p.extract_text() for p in PdfReader(io.BytesIO(run.batch_file.read_bytes())).pages]
    spanish_page = next(p for p in pages if "520001-01" in p)
    english_page = next(p for p in pages if "520002-01" in p)
    assert "Aviso de saldo vencido: cuenta 520001-01" in spanish_page
    assert "Nuestros registros muestran $80.00 vencidos" in spanish_page
    assert "Past-due notice: account 520002-01" in english_page
    assert "Our records show $90.00 past due" in english_page
