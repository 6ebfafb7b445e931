"""Applications: recorded with household, income and documents; approved once (the credit, the
waived fees) or denied with a reason; one credit per account per interval; fees held meanwhile."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import AccountLinkFactory, ServiceAccountFactory, UserFactory
from assistance.models import ApplicationEvent, AssistanceApplication
from assistance.selectors import accounts_holding_door_hanger_fees
from assistance.services.applications import (
    application_approve,
    application_deny,
)
from assistance.tests.factories import owing_fees, submit
from billing.models import BillingAccount, LedgerEntry
from kernel.errors import ApplicationError
from kernel.models import AuditEvent


@pytest.mark.django_db
def test_an_application_is_recorded_with_household_income_and_documents():
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account

    application = submit(user, account, members=3, income="2000.00")

    assert (application.household_size, application.monthly_income, application.status) == (
        3,
        Decimal("2000.00"),
        "submitted",
    )
    assert application.documents.count() == 2
    stored = application.documents.get(kind="income_proof")
    assert stored.content_type == "application/pdf"
    assert "pay.pdf" not in stored.file.name  # the customer's name for the file is data, not a path
    assert mail.outbox[0].subject.startswith("Your bill assistance application")
    assert "does not move your bill's due date" in mail.outbox[0].body


@pytest.mark.django_db
def test_approval_posts_the_credit_waives_fees_and_happens_once(django_capture_on_commit_callbacks):
    clerk = UserFactory(is_staff=True)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    owing_fees(account)
    application = submit(user, account, members=3, income="2500.00")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        application_approve(application=application, by=clerk, documents_verified=True)
        application_approve(application=application, by=clerk, documents_verified=True)  # a double click

    application.refresh_from_db()
    assert (application.status, application.credit_amount, application.conservation_materials_provided) == (
        "approved",
        Decimal("75.00"),
        True,
    )
    assert LedgerEntry.objects.filter(source_key=f"assist:{application.pk}").count() == 1
    assert LedgerEntry.objects.filter(source_key__startswith=f"assist-waive:{application.pk}:").count() == 2
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("25.00")  # 140 - 40 fees - 75
    assert (
        ApplicationEvent.objects.filter(application=application, to_status="approved", by=clerk).count() == 1
    )
    assert len(mail.outbox) == 1 and "$75.00" in mail.outbox[0].body
    (event,) = AuditEvent.objects.filter(action="assistance.approved")
    assert (event.actor, event.object_id, event.account_number) == (
        clerk,
        str(application.pk),
        account.account_number,
    )
    assert (event.changes["credit"], event.changes["fees_waived"]) == ("75.00", "40.00")


@pytest.mark.django_db(transaction=True)
def test_two_clerks_approving_at_once_post_one_credit():
    clerks = [UserFactory(is_staff=True), UserFactory(is_staff=True)]
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    application = submit(user, account)
    errors = []

    def approve(clerk):
        try:
            application_approve(application=application, by=clerk, documents_verified=True)
        except Exception as exc:  # noqa: BLE001 (asserted below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(c,)) for c in clerks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert LedgerEntry.objects.filter(kind="credit").count() == 1
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("-25.00")


@pytest.mark.django_db
def test_one_approved_credit_per_account_per_twelve_months(settings):
    clerk = UserFactory(is_staff=True)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    application_approve(application=submit(user, account), by=clerk, documents_verified=True)

    second = submit(user, account)
    with pytest.raises(ApplicationError, match="within the last 365 days"):
        application_approve(application=second, by=clerk, documents_verified=True)

    settings.ASSISTANCE_CREDIT_INTERVAL_DAYS = 0
    application_approve(application=second, by=clerk, documents_verified=True)
    assert LedgerEntry.objects.filter(kind="credit").count() == 2


@pytest.mark.django_db
def test_denial_needs_a_reason_and_tells_the_customer():
    clerk = UserFactory(is_staff=True)
    user = UserFactory()
    application = submit(user, AccountLinkFactory(user=user).service_account)
    with pytest.raises(ApplicationError):
        application_deny(application=application, by=clerk, reason=" ")
    application_deny(application=application, by=clerk, reason="Income proof did not cover the past 30 days.")
    application.refresh_from_db()
    assert (application.status, application.reviewed_by) == ("denied", clerk)
    (event,) = AuditEvent.objects.filter(action="assistance.denied")
    assert event.changes["note"] == "Income proof did not cover the past 30 days."
    # The customer's own submission is history on the application, not a staff action.
    assert not AuditEvent.objects.filter(action="assistance.submitted").exists()
    assert "did not cover the past 30 days" in mail.outbox[-1].body


@pytest.mark.django_db
def test_clerk_approves_from_the_admin_queue(client):
    call_command("seed_demo", accounts=3)
    user = UserFactory()
    application = submit(user, AccountLinkFactory(user=user).service_account)
    client.force_login(User.objects.get(email="clerk@example.com"))
    # The bulk action is for applications whose verification appointment has taken place.
    client.post(
        reverse("admin:assistance_assistanceapplication_changelist"),
        {"action": "approve", "_selected_action": [application.pk]},
    )
    application.refresh_from_db()
    assert application.status == "submitted"
    AssistanceApplication.objects.filter(pk=application.pk).update(
        appointment_at=timezone.now() - dt.timedelta(hours=2), status="appointment_scheduled"
    )
    # The time passing is not a kept appointment: the customer may not have come.
    client.post(
        reverse("admin:assistance_assistanceapplication_changelist"),
        {"action": "approve", "_selected_action": [application.pk]},
    )
    application.refresh_from_db()
    assert application.status == "appointment_scheduled"
    decide = client.get(
        reverse("admin:assistance_application_decide", args=[application.pk])
    ).content.decode()
    assert "passed, not recorded as kept" in decide
    client.post(
        reverse("admin:assistance_assistanceapplication_changelist"),
        {"action": "mark_documents_seen", "_selected_action": [application.pk]},
    )
    application.refresh_from_db()
    assert application.documents_seen_by.email == "clerk@example.com"

    queue = client.get(
        reverse("admin:assistance_assistanceapplication_changelist"),
        {"status__exact": "appointment_scheduled"},
    )
    assert application.service_account.account_number in queue.content.decode()
    client.post(
        reverse("admin:assistance_assistanceapplication_changelist"),
        {"action": "approve", "_selected_action": [application.pk]},
    )

    application.refresh_from_db()
    assert application.status == "approved"
    assert application.reviewed_by.email == "clerk@example.com"


@pytest.mark.django_db
def test_a_pending_application_holds_door_hanger_fees(settings):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    other = ServiceAccountFactory()
    submit(user, account)
    assert accounts_holding_door_hanger_fees(account_ids=[account.pk, other.pk]) == {account.pk}
    settings.ASSISTANCE_HOLD_DOOR_HANGER_FEES = False
    assert accounts_holding_door_hanger_fees(account_ids=[account.pk]) == set()
