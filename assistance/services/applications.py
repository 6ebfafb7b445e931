"""Applications to the Utility Assistance Program: submitting, reviewing, approving."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ServiceAccount, User
from accounts.notifications import email_send
from assistance.models import (
    ApplicationDocument,
    ApplicationEvent,
    AssistanceApplication,
    DraftUpload,
    HouseholdMember,
    IncomeSource,
)
from assistance.notification_kinds import ASSISTANCE_STATUS
from assistance.services.eligibility import eligibility_check
from billing.calendar import local_today
from billing.models import LedgerEntry
from billing.selectors import account_open_items
from billing.services.ledger import Posting, billing_accounts_lock, ledger_post, ledger_reverse
from kernel.audit import audit_record
from kernel.errors import ApplicationError
from kernel.i18n import lazy_lower, local_date
from kernel.money import money
from kernel.uploads import document_type


@dataclass(frozen=True)
class Member:
    name: str
    relationship: str


@dataclass(frozen=True)
class Income:
    kind: str
    monthly_amount: Decimal


def _record(
    application: AssistanceApplication,
    *,
    to_status: str,
    by: User | None,
    note: str = "",
    from_status=None,
    changes: dict | None = None,
):
    from_status = from_status if from_status is not None else application.status
    ApplicationEvent.objects.create(
        application=application, from_status=from_status, to_status=to_status, by=by, note=note[:300]
    )
    if by is not None and by.is_staff:
        audit_record(
            actor=by,
            action=f"assistance.{to_status}",
            target=application,
            summary=f"Application {application.pk}: {from_status} to {to_status}"
            + (f" ({note})" if note else ""),
            changes={"status": [from_status, to_status], "note": note, **(changes or {})},
            account_number=application.service_account.account_number,
        )


def _tell(application: AssistanceApplication, lines: list[str]) -> None:
    email_send(
        kind=ASSISTANCE_STATUS,
        subject=format_lazy(
            _("Your bill assistance application: {status}"),
            status=lazy_lower(application.get_status_display()),
        ),
        template="emails/notice",
        context={
            "lines": lines,
            "link": settings.PORTAL_BASE_URL + reverse("assistance_detail", args=[application.pk]),
            "link_text": _("See your application"),
        },
        users=[application.applicant],
        account_number=application.service_account.account_number,
        reference=f"assistance:{application.pk}",
    )


def application_submit(
    *,
    applicant: User,
    service_account: ServiceAccount,
    members: list[Member],
    incomes: list[Income],
    phone: str,
    preferred_contact_time: str,
    attestation_name: str,
    documents: dict[str, list[UploadedFile]] | None = None,
    drafts: list[DraftUpload] = (),
) -> AssistanceApplication:
    """Record an application with its household, income and documents, all or nothing.

    Documents come as new uploads (`documents`, by kind) or as files the login attached to its
    draft earlier (`drafts`, already checked and stored); the drafts become the application's."""
    documents = {kind: list(uploads) for kind, uploads in (documents or {}).items()}
    _submission_check(
        members=members,
        incomes=incomes,
        attestation_name=attestation_name,
        documents=documents,
        drafts=drafts,
    )
    checked = [
        (kind, upload, document_type(upload)) for kind, uploads in documents.items() for upload in uploads
    ]
    if application_open_for(service_account=service_account):
        raise ApplicationError(_("This account already has an application being reviewed."))
    today = local_today()
    with transaction.atomic():
        # One submission per account at a time: a double tap waits here, then finds the first.
        ServiceAccount.objects.select_for_update().filter(pk=service_account.pk).first()
        if application_open_for(service_account=service_account):
            raise ApplicationError(_("This account already has an application being reviewed."))
        if len(DraftUpload.objects.select_for_update().filter(pk__in=[d.pk for d in drafts])) != len(drafts):
            raise ApplicationError(
                _("Your attached files changed while this was sent; check them and send again.")
            )
        application = _application_create(
            applicant=applicant,
            service_account=service_account,
            members=members,
            incomes=incomes,
            phone=phone,
            preferred_contact_time=preferred_contact_time,
            attestation_name=attestation_name,
            today=today,
        )
        _documents_attach(application, checked=checked, drafts=drafts)
        _record(
            application, to_status=application.status, by=applicant, from_status="", note="Submitted online"
        )
    _tell(
        application,
        [
            _("We received your application to the Utility Assistance Program."),
            _("Next, we will call you for a short assessment, then set a time to check your ID and income."),
            _("Applying does not move your bill's due date: please keep paying what you can."),
        ],
    )
    return application


def _application_create(
    *,
    applicant,
    service_account,
    members,
    incomes,
    phone: str,
    preferred_contact_time: str,
    attestation_name: str,
    today,
) -> AssistanceApplication:
    """The application row with its household and incomes."""
    application = AssistanceApplication.objects.create(
        service_account=service_account,
        applicant=applicant,
        program_year=today.year,
        household_size=len(members),
        monthly_income=sum((i.monthly_amount for i in incomes), Decimal("0")),
        phone=phone.strip(),
        preferred_contact_time=preferred_contact_time,
        attestation_name=attestation_name.strip(),
        attested_on=today,
    )
    HouseholdMember.objects.bulk_create(
        [
            HouseholdMember(application=application, name=m.name.strip(), relationship=m.relationship.strip())
            for m in members
        ]
    )
    IncomeSource.objects.bulk_create(
        [IncomeSource(application=application, kind=i.kind, monthly_amount=i.monthly_amount) for i in incomes]
    )
    return application


def _submission_check(*, members, incomes, attestation_name: str, documents: dict, drafts) -> None:
    """ApplicationError for the first thing an application lacks: the household, an income the
    program can record, the signature, a photo ID, proof of income."""
    kinds = {kind for kind, uploads in documents.items() if uploads} | {d.kind for d in drafts}
    if not members:
        raise ApplicationError(_("List everyone in your household, including yourself."))
    if sum((i.monthly_amount for i in incomes), Decimal("0")) > Decimal("99999999.99"):
        raise ApplicationError(
            _("The monthly income is more than this program can record; check the amounts.")
        )
    if not attestation_name.strip():
        raise ApplicationError(_("Type your full name to sign the attestation."))
    if ApplicationDocument.Kind.PHOTO_ID not in kinds:
        raise ApplicationError(_("Add a photo ID."))
    if ApplicationDocument.Kind.INCOME_PROOF not in kinds:
        raise ApplicationError(_("Add proof of income for the past 30 days."))


def _documents_attach(application: AssistanceApplication, *, checked, drafts) -> None:
    """The new uploads (kind, file, checked type) and the login's earlier drafts become the
    application's documents."""
    for kind, upload, content_type in checked:
        ApplicationDocument.objects.create(
            application=application,
            kind=kind,
            file=upload,
            original_name=(upload.name or "file")[:200],
            content_type=content_type,
            size=upload.size,
        )
    for draft in drafts:
        # The encrypted file stays where it is: the draft's row becomes the document's.
        ApplicationDocument.objects.create(
            application=application,
            kind=draft.kind,
            file=draft.file.name,
            original_name=draft.original_name,
            content_type=draft.content_type,
            size=draft.size,
        )
        draft.delete()


def application_open_for(*, service_account: ServiceAccount) -> AssistanceApplication | None:
    """The account's application being reviewed, if any: one at a time."""
    return (
        AssistanceApplication.objects.filter(
            service_account=service_account, status__in=AssistanceApplication.OPEN_STATUSES
        )
        .order_by("-submitted_at")
        .first()
    )


def application_set_status(
    *, application: AssistanceApplication, status: str, by: User, note: str = "", appointment_at=None
) -> AssistanceApplication:
    """Move an application along (assessed, appointment scheduled, withdrawn, expired)."""
    allowed = {
        AssistanceApplication.Status.ASSESSED,
        AssistanceApplication.Status.APPOINTMENT_SCHEDULED,
        AssistanceApplication.Status.WITHDRAWN,
        AssistanceApplication.Status.EXPIRED,
    }
    if status not in allowed:
        raise ApplicationError("Use approve or deny for a decision.")
    with transaction.atomic():
        application = AssistanceApplication.objects.select_for_update().get(pk=application.pk)
        if not application.is_open:
            raise ApplicationError(f"The application is {application.get_status_display().lower()} already.")
        if status == AssistanceApplication.Status.APPOINTMENT_SCHEDULED:
            appointment_at = appointment_at or application.appointment_at
            if appointment_at is None:
                raise ApplicationError("Enter the appointment's date and time first.")
            application.appointment_at = appointment_at
        _record(application, to_status=status, by=by, note=note)
        application.status = status
        if not application.is_open:
            application.closed_at = timezone.now()
        application.save(update_fields=["status", "appointment_at", "closed_at", "updated_at"])
    if status == AssistanceApplication.Status.APPOINTMENT_SCHEDULED:
        when = timezone.localtime(application.appointment_at)
        _tell(
            application,
            [
                format_lazy(
                    _("Your verification appointment is on {when}."), when=local_date(when, "DATETIME_FORMAT")
                ),
                _(
                    "Bring a photo ID, proof of income for the past 30 days and, if you have one, the late notice "
                    "or door hanger."
                ),
            ],
        )
    return application


def verification_held(application: AssistanceApplication) -> bool:
    """Whether a clerk has recorded seeing the photo ID and proof of income. The appointment's time
    passing is not enough: a customer who did not come has shown nothing."""
    return application.documents_seen_at is not None


def application_documents_seen(*, application: AssistanceApplication, by: User) -> AssistanceApplication:
    """The clerk records that the customer came (or brought them early): ID and income seen."""
    if not by.has_perm("assistance.change_assistanceapplication"):
        raise ApplicationError("Your role cannot review applications.")
    with transaction.atomic():
        application = AssistanceApplication.objects.select_for_update().get(pk=application.pk)
        if not application.is_open:
            raise ApplicationError(f"The application is {application.get_status_display().lower()}.")
        if application.documents_seen_at is None:
            application.documents_seen_at = timezone.now()
            application.documents_seen_by = by
            application.save(update_fields=["documents_seen_at", "documents_seen_by", "updated_at"])
            audit_record(
                actor=by,
                action="assistance.documents_seen",
                target=application,
                summary=f"{by.email} saw the photo ID and proof of income for application {application.pk}",
                account_number=application.service_account.account_number,
            )
    return application


def application_approve(
    *, application: AssistanceApplication, by: User, note: str = "", documents_verified: bool = False
) -> AssistanceApplication:
    """Approve once, in one transaction: the credit for the household size posted, unpaid late
    and door-hanger fees waived, conservation materials marked provided; the customer emailed.

    Before the verification appointment has taken place, only a clerk who records that the
    documents were verified (`documents_verified`) may approve. A second approval (a double
    click, two clerks) finds it approved and does nothing more. One approved credit per account
    per ASSISTANCE_CREDIT_INTERVAL_DAYS.
    """
    today = local_today()
    with transaction.atomic():
        billing_accounts_lock(service_account_ids=[application.service_account_id])
        application = AssistanceApplication.objects.select_for_update().get(pk=application.pk)
        if application.status == AssistanceApplication.Status.APPROVED:
            return application
        _approval_check(application, documents_verified=documents_verified)
        verified_now = documents_verified and application.documents_seen_at is None
        if verified_now:
            application.documents_seen_at, application.documents_seen_by = timezone.now(), by
        result = eligibility_check(
            household_size=application.household_size, monthly_income=application.monthly_income, on=today
        )
        if not result.likely_eligible:
            raise ApplicationError(f"Not eligible by the income table: {result.reason}")
        waived, count = _fees_waive(application, today=today)
        (credit,) = ledger_post(
            postings=[
                Posting(
                    service_account_id=application.service_account_id,
                    kind=LedgerEntry.Kind.CREDIT,
                    amount=-result.credit,
                    posted_on=today,
                    description="Utility Assistance Program credit",
                    source_key=f"assist:{application.pk}",
                )
            ]
        )
        _record(
            application,
            to_status="approved",
            by=by,
            note=note
            or f"Credit ${result.credit}; {count} fee(s) waived"
            + ("; photo ID and proof of income verified by the approving clerk" if verified_now else ""),
            changes={"credit": result.credit, "fees_waived": waived},
        )
        application.status = AssistanceApplication.Status.APPROVED
        application.credit_amount = result.credit
        application.credit_entry = credit
        application.conservation_materials_provided = True
        application.reviewed_by = by
        application.reviewed_at = application.closed_at = timezone.now()
        application.decision_reason = note[:300]
        application.save()
    lines = _approved_lines(application, credit=result.credit, waived=waived)
    transaction.on_commit(lambda: _tell(application, lines))
    return application


def _approval_check(application: AssistanceApplication, *, documents_verified: bool) -> None:
    """ApplicationError unless the application may be approved now: still open, its documents
    seen (at the appointment, or by the approving clerk), no credit within the interval."""
    if not application.is_open:
        raise ApplicationError(f"The application is {application.get_status_display().lower()}.")
    if not (documents_verified or verification_held(application)):
        raise ApplicationError(
            "No one has recorded seeing the photo ID and proof of income: record the appointment as "
            "kept, or approve from the application's Decide page and tick that they were verified."
        )
    since = timezone.now() - dt.timedelta(days=settings.ASSISTANCE_CREDIT_INTERVAL_DAYS)
    recent = AssistanceApplication.objects.filter(
        service_account_id=application.service_account_id,
        status=AssistanceApplication.Status.APPROVED,
        reviewed_at__gte=since,
    ).exclude(pk=application.pk)
    if recent.exists():
        raise ApplicationError(
            f"This account had an assistance credit approved within the last "
            f"{settings.ASSISTANCE_CREDIT_INTERVAL_DAYS} days."
        )


def _fees_waive(application: AssistanceApplication, *, today: dt.date) -> tuple[Decimal, int]:
    """Reverse what is unpaid of the account's late and door-hanger fees: (amount waived, fees)."""
    fee_kinds = (LedgerEntry.Kind.LATE_FEE, LedgerEntry.Kind.DOOR_HANGER_FEE)
    open_fees = [
        i
        for i in account_open_items(service_account=application.service_account, as_of=today)
        if i.kind in fee_kinds
    ]
    for item in open_fees:
        ledger_reverse(
            entry=LedgerEntry.objects.get(pk=item.entry_id),
            amount=item.unpaid,
            posted_on=today,
            source_key=f"assist-waive:{application.pk}:{item.entry_id}",
            description="Fee waived: Utility Assistance Program",
        )
    return sum((i.unpaid for i in open_fees), Decimal("0")), len(open_fees)


def _approved_lines(application: AssistanceApplication, *, credit: Decimal, waived: Decimal) -> list:
    lines = [
        format_lazy(
            _("Your application is approved. A credit of {amount} is on account {number}."),
            amount=money(credit),
            number=application.service_account.account_number,
        )
    ]
    if waived:
        lines.append(
            format_lazy(_("Late and door-hanger fees of {amount} were waived."), amount=money(waived))
        )
    lines.append(_("Water-conservation materials are on their way to you."))
    return lines


def application_deny(
    *, application: AssistanceApplication, by: User, reason: str, code: str = ""
) -> AssistanceApplication:
    if not reason.strip():
        raise ApplicationError("Give the reason for the denial; the customer is told it.")
    with transaction.atomic():
        application = AssistanceApplication.objects.select_for_update().get(pk=application.pk)
        if application.status == AssistanceApplication.Status.DENIED:
            return application
        if not application.is_open:
            raise ApplicationError(f"The application is {application.get_status_display().lower()}.")
        _record(application, to_status="denied", by=by, note=reason)
        application.status = AssistanceApplication.Status.DENIED
        application.decision_reason = reason.strip()[:300]
        application.denial_code = code if code in AssistanceApplication.DenialReason.values else ""
        application.reviewed_by = by
        application.reviewed_at = application.closed_at = timezone.now()
        application.save()
    _tell(
        application,
        [
            format_lazy(
                _("Your application was not approved: {reason}"),
                reason=format_lazy(
                    "{}: {}",
                    AssistanceApplication.DenialReason(application.denial_code).label,
                    application.decision_reason,
                )
                if application.denial_code
                else application.decision_reason,
            ),
            _("If something has changed, you can apply again, or call us to talk about a payment plan."),
        ],
    )
    return application
