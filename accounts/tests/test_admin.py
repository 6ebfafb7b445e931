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


def test_only_a_supervisor_changes_who_an_account_is_and_the_change_is_audited():
    from django.test import Client
    from django.urls import reverse

    from accounts.tests.factories import staff_user
    from kernel.models import AuditEvent
    from kernel.testing.admin_forms import admin_form_data

    account = ServiceAccountFactory(
        account_number="300200-01", customer_name="Ana Ruiz", tax_lot="2S2E01AA00100"
    )
    url = reverse("admin:accounts_serviceaccount_change", args=[account.pk])
    clerk, supervisor = Client(), Client()
    clerk.force_login(staff_user("Clerks"))
    supervisor.force_login(staff_user("Supervisors"))

    page = clerk.get(url).content.decode()
    form = admin_form_data(page)
    assert "account_number" not in form and "tax_lot" not in form and "customer_name" not in form
    forged = {
        **form,
        "account_number": "999999-01",
        "tax_lot": "X",
        "customer_name": "Someone",
        "phone": "503-555-0100",
    }
    assert clerk.post(url, forged).status_code == 302
    account.refresh_from_db()
    assert (account.account_number, account.tax_lot, account.customer_name) == (
        "300200-01",
        "2S2E01AA00100",
        "Ana Ruiz",
    )
    assert account.phone == "503-555-0100"  # the rest of the account is the clerk's to keep up to date
    assert not AuditEvent.objects.filter(action="account.identity").exists()

    form = admin_form_data(supervisor.get(url).content.decode())
    response = supervisor.post(url, {**form, "tax_lot": "2S2E01AA00200", "customer_name": "Ana Ruiz Soto"})

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.tax_lot, account.customer_name) == ("2S2E01AA00200", "Ana Ruiz Soto")
    (event,) = AuditEvent.objects.filter(action="account.identity")
    assert event.changes == {
        "tax_lot": ["2S2E01AA00100", "2S2E01AA00200"],
        "customer_name": ["Ana Ruiz", "Ana Ruiz Soto"],
    }
    assert event.account_number == "300200-01"


def test_audit_trail_and_email_log_are_read_by_the_roles_that_need_them_and_filter_by_account_and_person():
    from django.test import Client
    from django.urls import reverse

    from accounts.models import EmailLog
    from accounts.tests.factories import staff_user
    from kernel.audit import audit_record

    clerk_user, finance_user = staff_user("Clerks"), staff_user("Finance")
    mine = ServiceAccountFactory(account_number="300300-01")
    audit_record(
        actor=clerk_user, action="batch.post", target=mine, summary="Posted", account_number="300300-01"
    )
    audit_record(
        actor=finance_user,
        action="refund.create",
        target=mine,
        summary="Refunded",
        account_number="300301-01",
    )
    EmailLog.objects.create(
        kind="bill_ready",
        to_email="a@example.com",
        subject="Bill A",
        status="sent",
        account_number="300300-01",
    )
    EmailLog.objects.create(
        kind="bill_ready",
        to_email="b@example.com",
        subject="Bill B",
        status="sent",
        account_number="300301-01",
    )
    clerk, finance = Client(), Client()
    clerk.force_login(clerk_user)
    finance.force_login(finance_user)
    audit = reverse("admin:portal_auditevent_changelist")
    emails = reverse("admin:accounts_emaillog_changelist")

    assert clerk.get(audit).status_code == 403
    by_person = finance.get(audit, {"actor_email": clerk_user.email}).content.decode()
    by_account = finance.get(audit, {"q": "300301-01"}).content.decode()
    by_date = finance.get(audit, {"at__year": "2000"}).content.decode()
    assert "Posted" in by_person and "Refunded" not in by_person
    assert "Refunded" in by_account and "Posted" not in by_account
    assert "Posted" not in by_date and "Refunded" not in by_date
    for client in (clerk, finance):
        page = client.get(emails, {"q": "300300-01"}).content.decode()
        assert "Bill A" in page and "Bill B" not in page
