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
from assistance.models import ApplicationEvent, AssistanceApplication, PaymentPlan
from assistance.selectors import accounts_holding_door_hanger_fees, accounts_with_plan_in_good_standing
from assistance.services.applications import (
    application_approve,
    application_deny,
)
from assistance.services.eligibility import eligibility_check
from assistance.services.plans import plan_decide, plan_request, plan_schedule, plans_check
from assistance.tests.factories import submit
from billing.models import Bill, BillingAccount, LedgerEntry, Service
from billing.services.bills import bills_run
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory, post
from kernel.errors import ApplicationError
from kernel.models import AuditEvent
from kernel.testing.files import pdf_bytes, png_bytes, upload

D = dt.date
TODAY = D(2026, 11, 22)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("size", "income", "eligible", "credit"),
    [
        (1, "1792.00", True, "25"),
        (1, "1792.01", False, "0"),
        (3, "2895.00", True, "75"),
        (6, "4549.00", True, "125"),
        (6, "4549.01", False, "0"),
        (9, "4549.00", True, "125"),  # the last row covers 6 or more
        (9, "4600.00", False, "0"),
    ],
)
def test_eligibility_at_the_limit_and_one_cent_over(size, income, eligible, credit):
    result = eligibility_check(household_size=size, monthly_income=Decimal(income), on=TODAY)
    assert (result.likely_eligible, result.credit) == (eligible, Decimal(credit))


@pytest.mark.django_db
def test_eligibility_page_needs_no_login_and_shows_the_table(client):
    response = client.get(
        reverse("assistance_eligibility"), {"household_size": "2", "monthly_income": "2344"}
    )
    body = response.content.decode()
    assert "You are likely eligible" in body and "$50.00" in body
    assert "$4,549.00" in body  # the table
    over = client.get(reverse("assistance_eligibility"), {"household_size": "2", "monthly_income": "2344.01"})
    assert "Probably not eligible" in over.content.decode()


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
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("pay.pdf", b"\x89PNG" + b"0" * 40, "not a PDF, JPEG or PNG"),
        ("pay.pdf", png_bytes(), "does not contain what its name says"),
        ("pay.png", b"%PDF-1.4 not really a pdf", "not a PDF, JPEG or PNG"),
        ("pay.exe", pdf_bytes(), "does not contain what its name says"),
    ],
)
def test_an_upload_that_is_not_what_its_name_says_is_refused(name, data, message):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    with pytest.raises(ApplicationError, match=message):
        submit(
            user,
            account,
            documents={"photo_id": [upload("id.png", png_bytes())], "income_proof": [upload(name, data)]},
        )
    assert not AssistanceApplication.objects.exists()


@pytest.mark.django_db
def test_an_upload_over_the_size_limit_is_refused(settings):
    settings.ASSISTANCE_UPLOAD_MAX_BYTES = 100
    user = UserFactory()
    with pytest.raises(ApplicationError, match="larger than"):
        submit(user, AccountLinkFactory(user=user).service_account)


@pytest.mark.django_db
def test_documents_open_for_the_applicant_and_clerks_only(client):
    call_command("seed_demo", accounts=3)
    user = UserFactory()
    application = submit(user, AccountLinkFactory(user=user).service_account)
    doc = application.documents.first()
    url = reverse("assistance_document", args=[doc.pk])

    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.get(reverse("assistance_detail", args=[application.pk])).status_code == 404
    client.force_login(User.objects.get(email="clerk@example.com"))
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302


def owing_fees(account):
    post(account, "charge", "100.00", D(2026, 9, 1), D(2026, 9, 20))
    post(account, "late_fee", "10.00", D(2026, 9, 25), D(2026, 9, 25))
    post(account, "door_hanger_fee", "30.00", D(2026, 10, 5), D(2026, 10, 5))


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


# --- payment plans ----------------------------------------------------------------------------


def test_schedule_splits_evenly_with_the_cents_on_the_last_installment():
    schedule = plan_schedule(total=Decimal("100.00"), installments=3, starts_on=D(2026, 7, 15))
    assert [(i.due_date, i.amount) for i in schedule] == [
        (D(2026, 8, 20), Decimal("33.33")),
        (D(2026, 9, 20), Decimal("33.33")),
        (D(2026, 10, 20), Decimal("33.34")),
    ]


@pytest.mark.django_db
def test_a_plan_appears_on_bills_keeps_good_standing_and_ends_when_missed(time_machine):
    time_machine.move_to(dt.datetime(2026, 7, 2, 18, tzinfo=dt.UTC), tick=False)
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("40")
    )
    clerk = UserFactory(is_staff=True)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    AccountServiceFactory(service_account=account, service=Service.SEWER)
    post(account, "charge", "90.00", D(2026, 5, 1), D(2026, 5, 20))

    with pytest.raises(ApplicationError, match="2 to 12"):
        plan_request(service_account=account, user=user, installments=13)
    plan = plan_request(service_account=account, user=user, installments=3)
    assert plan.total == Decimal("90.00")
    plan = plan_decide(plan=plan, approve=True, by=clerk)
    assert AuditEvent.objects.get(action="plan.approve").changes["total"] == "90.00"
    assert "first $30.00 due July 20" in mail.outbox[-1].body

    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 3), notify=False)
    assert (
        "installment 1 of 3, $30.00, is due July 20, 2026" in Bill.objects.get(service_account=account).notes
    )

    post(account, "payment", "70.00", D(2026, 7, 18))  # the installment and June's bill
    assert accounts_with_plan_in_good_standing(account_ids=[account.pk], as_of=D(2026, 7, 21)) == {account.pk}
    from billing.selectors import delinquent_worklist

    # Paying down as agreed, so not on the clerks' list of delinquent accounts to call.
    assert account.pk not in [row.account.pk for row in delinquent_worklist(today=D(2026, 7, 21))]
    assert plans_check(as_of=D(2026, 7, 21)) == {"ended": 0, "completed": 0}

    # Nothing paid for the August installment.
    assert plans_check(as_of=D(2026, 8, 21)) == {"ended": 1, "completed": 0}
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.ENDED
    assert mail.outbox[-1].subject == "Your payment plan has ended"
    assert accounts_with_plan_in_good_standing(account_ids=[account.pk], as_of=D(2026, 8, 21)) == set()


@pytest.mark.django_db
def test_plan_page_is_for_the_accounts_own_logins(client):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    client.force_login(UserFactory())
    assert client.get(reverse("payment_plan", args=[account.pk])).status_code == 404
    client.force_login(user)
    assert "Nothing is past due" in client.get(reverse("payment_plan", args=[account.pk])).content.decode()


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
