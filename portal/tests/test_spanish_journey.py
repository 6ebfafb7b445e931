"""A customer switches to Spanish and reads the portal in it; axe-core on every page."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import PASSWORD, AccountLinkFactory, UserFactory
from kernel.testing.browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_switches_to_spanish_signs_in_and_reads_the_account_in_spanish(page, live_server):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("button", name="Español").click()
    expect(
        page.get_by_role("heading", name="Pague y administre su factura de alcantarillado y agua")
    ).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "es"
    assert_accessible(page)

    page.get_by_role("link", name="Iniciar sesión").first.click()
    page.get_by_label("Correo electrónico").fill(user.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_role("heading", name="Mis cuentas")).to_be_visible()
    assert_accessible(page)
    assert User.objects.get(pk=user.pk).language == "es"  # kept on the login

    page.get_by_role("link", name=f"Cuenta {account.account_number}", exact=True).click()
    expect(page.get_by_role("heading", name="Lo que debe")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="What you owe")).to_be_visible()  # the same page, in English
    assert User.objects.get(pk=user.pk).language == "en"
