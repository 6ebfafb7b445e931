"""The staff's decide page: the case, approval only with the documents verified, a denial with a
reason code and the customer's words, read in the customer's language."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import AccountLinkFactory, UserFactory
from assistance.services.applications import (
    application_deny,
)
from assistance.tests.factories import owing_fees, submit


@pytest.mark.django_db
def test_the_decide_page_shows_the_case_and_approves_only_with_documents_verified(client):
    from accounts.tests.factories import staff_user

    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    owing_fees(account)
    application = submit(user, account, members=3, income="2500.00")
    client.force_login(staff_user("Clerks"))
    url = reverse("admin:assistance_application_decide", args=[application.pk])

    page = client.get(url).content.decode()
    for expected in [
        "Household",
        "3 (people listed: 3)",
        "$2500.00",
        "Eligible",
        "the credit is $75.00",
        "total $40.00",
        "Not scheduled",
    ]:
        assert expected in page, expected

    refused = client.post(url, {"decision": "approve"}, follow=True).content.decode()
    application.refresh_from_db()
    assert application.status == "submitted" and "No one has recorded seeing the photo ID" in refused

    client.post(url, {"decision": "approve", "documents_verified": "on"})
    application.refresh_from_db()
    assert application.status == "approved" and application.credit_amount == Decimal("75.00")
    assert "verified by the approving clerk" in application.events.get(to_status="approved").note


@pytest.mark.django_db
def test_a_denial_from_the_decide_page_has_a_reason_code_and_the_customers_words(client):
    from accounts.tests.factories import staff_user

    user = UserFactory()
    application = submit(user, AccountLinkFactory(user=user).service_account)
    client.force_login(staff_user("Clerks"))
    url = reverse("admin:assistance_application_decide", args=[application.pk])

    client.post(url, {"decision": "deny", "deny-code": "documents", "deny-reason": ""})
    application.refresh_from_db()
    assert application.status == "submitted"  # the words are required

    client.post(
        url,
        {"decision": "deny", "deny-code": "documents", "deny-reason": "The pay stub was for another person."},
    )
    application.refresh_from_db()
    assert application.status == "denied"
    assert (application.denial_code, application.decision_reason) == (
        "documents",
        "The pay stub was for another person.",
    )
    assert "Documents missing or not verified: The pay stub was for another person" in mail.outbox[-1].body


@pytest.mark.django_db
def test_a_spanish_applicant_reads_the_denial_reason_in_spanish(client):
    from accounts.tests.factories import staff_user

    user = UserFactory()
    User.objects.filter(pk=user.pk).update(language="es")
    application = submit(user, AccountLinkFactory(user=user).service_account)
    application_deny(
        application=application, by=staff_user("Clerks"), reason="Falta el talón de pago.", code="documents"
    )

    client.force_login(user)
    page = client.get(reverse("assistance_detail", args=[application.pk])).content.decode()
    assert "No aprobada: Faltan documentos o no se pudieron verificar. Falta el talón de pago." in page
    assert "Faltan documentos o no se pudieron verificar: Falta el talón de pago." in mail.outbox[-1].body
