"""What applicants upload: kept as drafts until the application is sent, asked for again by a
clerk, and deleted ASSISTANCE_DOCUMENT_RETENTION_DAYS after the decision (the record stays)."""

import datetime as dt
import statistics

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.notifications import email_send
from assistance.models import (
    ApplicationDocument,
    ApplicationDraft,
    ApplicationEvent,
    AssistanceApplication,
    DocumentRequest,
    DraftUpload,
)
from assistance.notification_kinds import ASSISTANCE_STATUS
from kernel.audit import audit_record
from kernel.errors import ApplicationError
from kernel.uploads import document_type, stored_files_reencrypt

# The most files one login keeps for an application not yet sent.
DRAFT_UPLOADS_MAX = 10


def draft_get(*, user: User) -> dict:
    draft = ApplicationDraft.objects.filter(user=user).first()
    return draft.data if draft else {}


def draft_save(*, user: User, data: dict) -> None:
    ApplicationDraft.objects.update_or_create(user=user, defaults={"data": data})


def draft_upload_add(*, user: User, kind: str, upload: UploadedFile) -> DraftUpload:
    """Check the file and keep it (encrypted) for the application this login is filling in."""
    if kind not in ApplicationDocument.Kind.values:
        raise ApplicationError(_("Choose what kind of document this is."))
    content_type = document_type(upload)
    if DraftUpload.objects.filter(user=user).count() >= DRAFT_UPLOADS_MAX:
        raise ApplicationError(
            format_lazy(_("An application takes at most {count} files."), count=DRAFT_UPLOADS_MAX)
        )
    return DraftUpload.objects.create(
        user=user,
        kind=kind,
        file=upload,
        original_name=(upload.name or "file")[:200],
        content_type=content_type,
        size=upload.size,
    )


def _drafts_delete(uploads) -> int:
    """Delete draft rows, and their files once that commits. Rows are locked first: a file whose
    row an application took meanwhile (submitted in another tab) is not touched."""
    with transaction.atomic():
        locked = list(DraftUpload.objects.select_for_update().filter(pk__in=[u.pk for u in uploads]))
        names = [u.file.name for u in locked]
        DraftUpload.objects.filter(pk__in=[u.pk for u in locked]).delete()
        storage = DraftUpload._meta.get_field("file").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return len(locked)


def draft_upload_remove(*, user: User, pk: int) -> None:
    if not _drafts_delete(DraftUpload.objects.filter(user=user, pk=pk)):
        raise ApplicationError(_("That file is no longer attached."))


def draft_discard(*, user: User) -> None:
    """Everything the login started: typed answers and files."""
    _drafts_delete(DraftUpload.objects.filter(user=user))
    ApplicationDraft.objects.filter(user=user).delete()


def drafts_purge(*, now: dt.datetime) -> dict[str, int]:
    """Drafts (and their files) untouched for ASSISTANCE_DRAFT_DAYS."""
    before = now - dt.timedelta(days=settings.ASSISTANCE_DRAFT_DAYS)
    stale_users = set(
        ApplicationDraft.objects.filter(updated_at__lt=before).values_list("user_id", flat=True)
    )
    # Files attached without any typed answer count by their own age.
    stale_users |= set(
        DraftUpload.objects.filter(uploaded_at__lt=before)
        .exclude(user__assistance_draft__updated_at__gte=before)
        .values_list("user_id", flat=True)
    )
    for user in User.objects.filter(pk__in=stale_users):
        draft_discard(user=user)
    return {"drafts_deleted": len(stale_users)}


def documents_request(*, application: AssistanceApplication, by: User, note: str) -> DocumentRequest:
    """A clerk asks for more documents; the applicant is emailed and adds them on the status page."""
    if not by.has_perm("assistance.change_assistanceapplication"):
        raise ApplicationError("Your role cannot review applications.")
    if not note.strip():
        raise ApplicationError("Say which documents are needed; the customer is told it.")
    if not application.is_open:
        raise ApplicationError(f"The application is {application.get_status_display().lower()}.")
    request = DocumentRequest.objects.create(
        application=application, requested_by=by, note=note.strip()[:500]
    )
    ApplicationEvent.objects.create(
        application=application,
        from_status=application.status,
        to_status=application.status,
        by=by,
        note=f"Documents asked for: {request.note}"[:300],
    )
    audit_record(
        actor=by,
        action="assistance.documents_requested",
        target=application,
        summary=f"Documents asked for on application {application.pk}: {request.note}",
        account_number=application.service_account.account_number,
    )
    email_send(
        kind=ASSISTANCE_STATUS,
        subject=_("We need another document for your bill assistance application"),
        template="emails/notice",
        context={
            "lines": [
                _("To finish reviewing your application, we need:"),
                request.note,
                _("Add it on your application's page: a photo of the paper is fine."),
            ],
            "link": settings.PORTAL_BASE_URL + reverse("assistance_detail", args=[application.pk]),
            "link_text": _("Add the document"),
        },
        users=[application.applicant],
        required=True,  # the application cannot go on without it
        account_number=application.service_account.account_number,
        reference=f"assistance:{application.pk}:request:{request.pk}",
    )
    return request


def documents_add(
    *, application: AssistanceApplication, user: User, kind: str, uploads: list[UploadedFile]
) -> list[ApplicationDocument]:
    """The applicant adds documents a clerk asked for. The clerk who asked is told."""
    if application.applicant_id != user.pk:
        raise ApplicationError(_("Only the applicant can add documents."))
    if not application.is_open:
        raise ApplicationError(_("This application is decided; documents can no longer be added."))
    request = application.document_requests.filter(answered_at__isnull=True).first()
    if request is None:
        raise ApplicationError(_("No document is being asked for right now."))
    if kind not in ApplicationDocument.Kind.values:
        raise ApplicationError(_("Choose what kind of document this is."))
    if not uploads:
        raise ApplicationError(_("Choose a file to add."))
    checked = [(upload, document_type(upload)) for upload in uploads]
    with transaction.atomic():
        added = [
            ApplicationDocument.objects.create(
                application=application,
                kind=kind,
                file=upload,
                original_name=(upload.name or "file")[:200],
                content_type=content_type,
                size=upload.size,
                request=request,
            )
            for upload, content_type in checked
        ]
        DocumentRequest.objects.filter(pk=request.pk).update(answered_at=timezone.now())
        ApplicationEvent.objects.create(
            application=application,
            from_status=application.status,
            to_status=application.status,
            by=user,
            note=f"{len(added)} document(s) added as asked",
        )
    email_send(
        kind="staff",
        subject=f"Documents added to assistance application {application.pk}",
        template="emails/notice",
        context={
            "lines": [
                f"The applicant added {len(added)} document(s) you asked for on application {application.pk} "
                f"(account {application.service_account.account_number})."
            ],
            "link": settings.PORTAL_BASE_URL
            + reverse("admin:assistance_assistanceapplication_change", args=[application.pk]),
            "link_text": "Open the application",
        },
        users=[request.requested_by],
        required=True,
        account_number=application.service_account.account_number,
        reference=f"assistance:{application.pk}:answered:{request.pk}",
    )
    return added


def documents_purge(*, now: dt.datetime) -> dict[str, int]:
    """Delete the files of applications closed more than ASSISTANCE_DOCUMENT_RETENTION_DAYS ago.
    Each document's row stays (kind, name, size, when received, when deleted), as do who saw the
    ID and income and when: the record of what was received and verified."""
    before = now - dt.timedelta(days=settings.ASSISTANCE_DOCUMENT_RETENTION_DAYS)
    due = ApplicationDocument.objects.filter(
        deleted_at__isnull=True,
        application__closed_at__lt=before,
        application__status__in=[
            s for s in AssistanceApplication.Status.values if s not in AssistanceApplication.OPEN_STATUSES
        ],
    ).select_related("application")
    deleted = 0
    applications = set()
    for document in due.iterator():
        if document.file:
            document.file.delete(save=False)
        ApplicationDocument.objects.filter(pk=document.pk).update(file="", deleted_at=now)
        deleted += 1
        applications.add(document.application_id)
    for application in AssistanceApplication.objects.filter(pk__in=applications):
        # The status stays; the event is the dated record of the deletion.
        ApplicationEvent.objects.create(
            application=application,
            from_status=application.status,
            to_status=application.status,
            note=f"Documents deleted {settings.ASSISTANCE_DOCUMENT_RETENTION_DAYS} days after the decision",
        )
    return {"documents_deleted": deleted}


def typical_decision_days(*, now: dt.datetime | None = None) -> int:
    """The median days from applying to a decision over the last year, once there are enough
    decisions to say; ASSISTANCE_TYPICAL_DECISION_DAYS until then."""
    now = now or timezone.now()
    spans = [
        (closed - submitted).days
        for submitted, closed in AssistanceApplication.objects.filter(
            status__in=[AssistanceApplication.Status.APPROVED, AssistanceApplication.Status.DENIED],
            closed_at__gte=now - dt.timedelta(days=365),
        ).values_list("submitted_at", "closed_at")
    ]
    if len(spans) < 5:
        return settings.ASSISTANCE_TYPICAL_DECISION_DAYS
    return max(1, round(statistics.median(spans)))


def documents_reencrypt() -> tuple[int, int]:
    """Every stored application document and draft file under the newest key (`reencrypt_secrets`)."""
    return stored_files_reencrypt([ApplicationDocument.objects.all(), DraftUpload.objects.all()])
