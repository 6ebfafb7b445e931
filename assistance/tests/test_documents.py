"""What applicants upload: encrypted at rest, kept as drafts, asked for later, deleted after the
retention period with a record left; the application form as a phone user meets it."""

import datetime as dt
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import AccountLinkFactory, UserFactory
from assistance.models import (
    ApplicationDraft,
    ApplicationEvent,
    AssistanceApplication,
    DraftUpload,
)
from assistance.services.applications import (
    application_deny,
)
from assistance.services.documents import documents_purge, documents_request, drafts_purge
from assistance.tests.factories import submit
from kernel.errors import ApplicationError
from kernel.testing.files import pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db


def on_disk(document) -> bytes:
    return Path(settings.PRIVATE_MEDIA_ROOT, document.file.name).read_bytes()


def test_documents_are_encrypted_on_disk_and_served_decrypted(client):
    user = UserFactory()
    application = submit(user, AccountLinkFactory(user=user).service_account)
    photo = application.documents.get(kind="photo_id")

    assert on_disk(photo).startswith(b"gAAAAA") and png_bytes() not in on_disk(photo)
    client.force_login(user)
    response = client.get(reverse("assistance_document", args=[photo.pk]))
    assert b"".join(response.streaming_content) == png_bytes()


def test_rotating_the_key_reencrypts_documents_and_encrypts_files_kept_plain_before(settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEY = old
    user = UserFactory()
    application = submit(user, AccountLinkFactory(user=user).service_account)
    pay, photo = application.documents.order_by("kind")  # income_proof, photo_id
    # A file stored before encryption began: plain bytes, still served as they are.
    Path(settings.PRIVATE_MEDIA_ROOT, pay.file.name).write_bytes(pdf_bytes())

    settings.PORTAL_ENCRYPTION_KEY = f"{new},{old}"
    call_command("reencrypt_secrets")
    call_command("reencrypt_secrets")

    out = capsys.readouterr().out
    assert "Assistance documents: 2 re-encrypted under the newest key, 0 already were" in out
    assert "Assistance documents: 0 re-encrypted under the newest key, 2 already were" in out
    settings.PORTAL_ENCRYPTION_KEY = new  # the old key can go
    assert on_disk(pay).startswith(b"gAAAAA")
    assert {photo.file.open().read(), pay.file.open().read()} == {pdf_bytes(), png_bytes()}


def test_documents_are_deleted_after_the_retention_period_and_a_record_stays(client):
    clerk = UserFactory(is_staff=True)
    user = UserFactory()
    application = submit(user, AccountLinkFactory(user=user).service_account)
    application.documents_seen_at, application.documents_seen_by = timezone.now(), clerk
    application.save()
    application_deny(application=application, by=clerk, reason="Income over the limit.", code="income")
    still_open = submit(UserFactory(), AccountLinkFactory().service_account)
    application.refresh_from_db()
    paths = [Path(settings.PRIVATE_MEDIA_ROOT, d.file.name) for d in application.documents.all()]
    kept_days = settings.ASSISTANCE_DOCUMENT_RETENTION_DAYS

    # The day before the period ends nothing goes; the day after, the files do.
    assert documents_purge(now=application.closed_at + dt.timedelta(days=kept_days - 1)) == {
        "documents_deleted": 0
    }
    later = application.closed_at + dt.timedelta(days=kept_days + 1)
    assert documents_purge(now=later) == {"documents_deleted": 2}
    assert documents_purge(now=later) == {"documents_deleted": 0}

    assert not any(path.exists() for path in paths)
    rows = list(
        application.documents.order_by("kind").values_list("kind", "original_name", "file", "deleted_at")
    )
    assert rows == [("income_proof", "pay.pdf", "", later), ("photo_id", "id.png", "", later)]
    application.refresh_from_db()
    assert application.documents_seen_by == clerk  # who verified them stays
    assert (
        ApplicationEvent.objects.filter(application=application, note__contains="Documents deleted").count()
        == 1
    )
    assert all(d.file for d in still_open.documents.all())  # an open application keeps its files
    client.force_login(user)
    page = client.get(reverse("assistance_detail", args=[application.pk])).content.decode()
    assert "id.png (deleted" in page
    doc = application.documents.first()
    assert client.get(reverse("assistance_document", args=[doc.pk])).status_code == 404


def form_data(account, **overrides):
    data = {
        "service_account": str(account.pk),
        "members-TOTAL_FORMS": "2",
        "members-INITIAL_FORMS": "0",
        "members-0-name": "Rosa Martinez",
        "members-0-relationship": "self",
        "members-1-name": "",
        "members-1-relationship": "",
        "incomes-TOTAL_FORMS": "1",
        "incomes-INITIAL_FORMS": "0",
        "incomes-0-kind": "wages",
        "incomes-0-monthly_amount": "1,500.00",
        "phone": "503-555-0199",
        "preferred_contact_time": "morning",
        "attest": "on",
        "attestation_name": "Rosa Martinez",
        "action": "submit",
    }
    return {**data, **overrides}


def test_a_wrong_file_is_named_and_the_good_ones_are_kept_until_submitted(client):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    client.force_login(user)
    url = reverse("assistance_apply")

    response = client.post(
        url,
        form_data(
            account,
            **{"members-1-name": "Kim Martinez"},  # no relationship: that row is incomplete
            photo_id=upload("id.png", png_bytes()),
            income_proof=upload("paystub.pdf", b"not a pdf at all"),
            late_notice=upload("notice.pdf", pdf_bytes()),
        ),
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "paystub.pdf is not a PDF, JPEG or PNG file that can be opened." in page
    assert "Say how this person is related to you" in page
    assert "Attached: Photo ID, id.png" in page and "notice.pdf" in page
    assert sorted(DraftUpload.objects.filter(user=user).values_list("original_name", flat=True)) == [
        "id.png",
        "notice.pdf",
    ]
    assert not AssistanceApplication.objects.exists()

    # Only the missing file is sent again; the household row is completed.
    response = client.post(
        url,
        form_data(
            account,
            **{"members-1-name": "Kim Martinez", "members-1-relationship": "child"},
            income_proof=upload("paystub.pdf", pdf_bytes()),
        ),
    )
    application = AssistanceApplication.objects.get()
    assert response["Location"] == reverse("assistance_detail", args=[application.pk])
    assert application.household_size == 2  # counted from the people listed
    assert str(application.monthly_income) == "1500.00"  # "1,500.00" as typed
    assert sorted(application.documents.values_list("original_name", flat=True)) == [
        "id.png",
        "notice.pdf",
        "paystub.pdf",
    ]
    assert not DraftUpload.objects.exists() and not ApplicationDraft.objects.exists()
    assert (
        client.get(reverse("assistance_document", args=[application.documents.first().pk])).status_code == 200
    )


def test_answers_are_kept_between_visits_and_a_person_is_added_without_script(client):
    user = UserFactory()
    AccountLinkFactory(user=user)
    client.force_login(user)
    url = reverse("assistance_apply")
    first = client.get(url).content.decode()
    assert 'name="members-TOTAL_FORMS" value="1"' in first  # one person row to start
    assert "Relationship to you (optional)" not in first and "Name (optional)" not in first

    response = client.post(
        url,
        {
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "0",
            "members-0-name": "Rosa Martinez",
            "members-0-relationship": "self",
            "phone": "503-555-0199",
            "action": "add_member",
        },
    )
    assert response.status_code == 302 and response["Location"] == url + "#household"

    client.logout()
    client.force_login(User.objects.get(pk=user.pk))  # another visit
    page = client.get(url).content.decode()
    assert 'name="members-TOTAL_FORMS" value="2"' in page
    assert 'value="Rosa Martinez"' in page and 'value="503-555-0199"' in page
    assert "Enter this person's name" not in page  # the new empty row is not an error


def test_an_open_application_is_said_before_anything_is_typed(client):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    submit(user, account)
    client.force_login(user)

    page = client.get(reverse("assistance_apply")).content.decode()

    assert "Your application is being reviewed" in page
    assert 'name="phone"' not in page
    second = AccountLinkFactory(user=user).service_account  # another account may still apply
    page = client.get(reverse("assistance_apply")).content.decode()
    assert f'value="{second.pk}"' in page and f'value="{account.pk}"' not in page
    assert f"Account {account.account_number} already has an application being reviewed" in page


def test_drafts_untouched_for_a_week_are_deleted_with_their_files(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    client.force_login(user)
    client.post(
        reverse("assistance_apply"), form_data(account, action="save", photo_id=upload("id.png", png_bytes()))
    )
    draft_file = Path(settings.PRIVATE_MEDIA_ROOT, DraftUpload.objects.get().file.name)
    assert draft_file.exists()

    assert drafts_purge(now=timezone.now() + dt.timedelta(days=6)) == {"drafts_deleted": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_purge(now=timezone.now() + dt.timedelta(days=8)) == {"drafts_deleted": 1}
    assert not DraftUpload.objects.exists() and not ApplicationDraft.objects.exists()
    assert not draft_file.exists()


def test_a_clerk_asks_for_a_document_and_the_applicant_adds_it_from_the_status_page(client):
    call_command("seed_demo", accounts=3)
    clerk = User.objects.get(email="clerk@example.com")
    user = UserFactory()
    application = submit(user, AccountLinkFactory(user=user).service_account)
    detail = reverse("assistance_detail", args=[application.pk])
    add = reverse("assistance_documents_add", args=[application.pk])
    client.force_login(user)
    response = client.post(add, {"kind": "income_proof", "file": upload("more.pdf", pdf_bytes())})
    assert (
        response.status_code == 400
        and "No document is being asked for right now" in response.content.decode()
    )
    mail.outbox.clear()

    documents_request(application=application, by=clerk, note="Your last two pay stubs from October.")

    (asked,) = mail.outbox
    assert asked.to == [user.email] and "Your last two pay stubs from October." in asked.body
    page = client.get(detail).content.decode()
    assert "We need another document" in page and "Your last two pay stubs from October." in page
    bad = client.post(add, {"kind": "income_proof", "file": upload("stub.pdf", png_bytes())})
    assert bad.status_code == 400 and "does not contain what its name says" in bad.content.decode()
    assert (
        client.post(add, {"kind": "income_proof", "file": upload("stub.pdf", pdf_bytes())})["Location"]
        == detail
    )

    added = application.documents.get(original_name="stub.pdf")
    assert added.request.answered_at is not None
    assert [m.to for m in mail.outbox[1:]] == [[clerk.email]]
    assert "We need another document" not in client.get(detail).content.decode()
    client.force_login(clerk)
    admin_page = client.get(reverse("admin:assistance_assistanceapplication_change", args=[application.pk]))
    assert "Your last two pay stubs from October." in admin_page.content.decode()
    assert "deleted 1095 days after the decision" in admin_page.content.decode()
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.post(add, {"kind": "income_proof", "file": upload("x.pdf", pdf_bytes())}).status_code == 404
    with pytest.raises(ApplicationError, match="Say which documents"):
        documents_request(application=application, by=clerk, note=" ")


def test_the_status_page_says_the_typical_wait_and_the_expected_credit(client):
    user = UserFactory()
    application = submit(user, AccountLinkFactory(user=user).service_account, members=3, income="2500.00")
    client.force_login(user)

    page = client.get(reverse("assistance_detail", args=[application.pk])).content.decode()

    assert f"A decision typically takes {settings.ASSISTANCE_TYPICAL_DECISION_DAYS} days" in page
    assert "the credit would be $75.00" in page
    assert "deleted 3 years after the decision" in page


@pytest.mark.parametrize(
    ("language", "typed"),
    [("en", "2,100"), ("en", "$2,100.00"), ("en", "2100"), ("es", "2.100,00"), ("es", "$2.100")],
)
def test_eligibility_takes_amounts_as_people_type_them(client, language, typed):
    client.post(reverse("language_set"), {"language": language})
    response = client.get(reverse("assistance_eligibility"), {"household_size": "2", "monthly_income": typed})
    page = response.content.decode()
    assert response.status_code == 200
    assert ("You are likely eligible" if language == "en" else "Es probable que califique") in page, page
    assert ("A photo ID." if language == "en" else "Una identificación con foto.") in page


def test_eligibility_refuses_what_is_not_an_amount(client):
    page = client.get(
        reverse("assistance_eligibility"), {"household_size": "2", "monthly_income": "about 2k"}
    ).content.decode()
    assert "Enter the amount in dollars and cents, like 2,500.00." in page
    assert "You are likely eligible" not in page


def test_an_amount_too_large_to_keep_is_refused_with_a_message(client):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    client.force_login(user)

    response = client.post(
        reverse("assistance_apply"), form_data(account, **{"incomes-0-monthly_amount": "200,000,000"})
    )

    assert response.status_code == 400
    assert "Enter an amount of at most $99,999,999.99." in response.content.decode()
    assert not AssistanceApplication.objects.exists()


def test_removing_an_attached_file_deletes_it_and_a_stale_value_changes_nothing(
    client, django_capture_on_commit_callbacks
):
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    client.force_login(user)
    client.post(
        reverse("assistance_apply"), form_data(account, action="save", photo_id=upload("id.png", png_bytes()))
    )
    draft = DraftUpload.objects.get()
    path = Path(settings.PRIVATE_MEDIA_ROOT, draft.file.name)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("assistance_apply"), form_data(account, remove_upload=str(draft.pk)))

    assert response["Location"].endswith("#documents")
    assert not DraftUpload.objects.exists() and not path.exists()
    again = client.post(
        reverse("assistance_apply"), form_data(account, remove_upload=str(draft.pk)), follow=True
    )
    assert "That file is no longer attached." in again.content.decode()
    odd = client.post(reverse("assistance_apply"), form_data(account, action="submit", remove_upload="²"))
    assert odd.status_code == 400  # not a file number: the form is simply checked


def test_in_spanish_the_file_controls_are_the_browsers_own_words(client):
    user = UserFactory(language="es")
    AccountLinkFactory(user=user)
    client.force_login(user)
    client.post(reverse("language_set"), {"language": "es"})

    page = client.get(reverse("assistance_apply")).content.decode()

    # USWDS's drop zone says "Drag file here or choose from folder" in English whatever the page.
    assert "portal-file-native" in page and "usa-file-input" not in page
    assert 'accept=".pdf,.jpg,.jpeg,.png' in page
    client.post(reverse("language_set"), {"language": "en"})
    assert "usa-file-input" in client.get(reverse("assistance_apply")).content.decode()


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
