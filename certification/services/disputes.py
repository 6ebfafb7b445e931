"""Customers dispute certified charges; staff uphold, adjust or withdraw them."""

from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.models import AccountLink, User
from accounts.notifications import email_send
from billing.calendar import local_today
from billing.services.ledger import billing_accounts_lock, ledger_reverse
from certification.models import Certification, CertifiedItem, Dispute, DisputeDocument
from kernel.audit import audit_record
from kernel.errors import ApplicationError
from kernel.money import money
from kernel.uploads import document_type, stored_files_reencrypt


def dispute_open(
    *,
    certification: Certification,
    user: User,
    reason: str,
    items: list[CertifiedItem] = (),
    documents: list[UploadedFile] = (),
) -> Dispute:
    """A customer disputes certified charges: the ones named (none: the whole certification),
    why, and any papers that show it. The customer gets an acknowledgment; clerks and finance
    are told. One open dispute per certification at a time."""
    if not AccountLink.objects.filter(
        user=user, service_account_id=certification.service_account_id
    ).exists():
        raise ApplicationError(_("You can dispute charges only on your own accounts."))
    if not reason.strip():
        raise ApplicationError(_("Tell us what you believe is wrong."))
    if any(item.certification_id != certification.pk for item in items):
        raise ApplicationError(_("Choose among the charges of this certification."))
    checked = [(upload, document_type(upload)) for upload in documents]
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                certification=certification, opened_by=user, reason=reason.strip()[:4000]
            )
            dispute.items.set(items)
            for upload, content_type in checked:
                DisputeDocument.objects.create(
                    dispute=dispute,
                    file=upload,
                    original_name=(upload.name or "file")[:200],
                    content_type=content_type,
                    size=upload.size,
                )
    except IntegrityError as exc:
        raise ApplicationError(_("A dispute of these charges is already being investigated.")) from exc
    _dispute_opened_tell(dispute, items=list(items), documents=len(checked))
    return dispute


def dispute_open_for(*, certification: Certification) -> Dispute | None:
    return certification.disputes.filter(status=Dispute.Status.OPEN).first()


def _dispute_opened_tell(dispute: Dispute, *, items: list[CertifiedItem], documents: int) -> None:
    """The clerks and finance hear of a new dispute; the customer gets an acknowledgment."""
    certification = dispute.certification
    number = certification.service_account.account_number
    named = (
        "; ".join(
            f"{item.charge.description or item.charge.get_kind_display()} ${item.amount:,.2f}"
            for item in items
        )
        or "the whole certification"
    )
    email_send(
        kind="staff",
        subject=f"Certified charge disputed: {number}",
        template="emails/notice",
        context={
            "lines": [
                f"{dispute.opened_by.email} disputes the {certification.year} certification of account {number} "
                f"(${certification.total_certified:,.2f}).",
                f"Charges disputed: {named}.",
                f"Why: {dispute.reason}",
                f"Documents sent: {documents}.",
            ],
            "link": reverse("admin:certification_dispute_change", args=[dispute.pk]),
            "link_text": "Open the dispute",
        },
        users=User.objects.filter(
            is_active=True, groups__in=Group.objects.filter(name__in=["Clerks", "Finance"])
        ).distinct(),
        required=True,
        account_number=number,
        reference=f"dispute:{dispute.pk}",
    )
    _dispute_received_tell(dispute, items=items)


def _dispute_received_tell(dispute: Dispute, *, items: list[CertifiedItem]) -> None:
    """The customer's acknowledgment: what they disputed, and what happens next."""
    certification = dispute.certification
    number = certification.service_account.account_number
    total = sum((item.amount for item in items), Decimal("0"))
    email_send(
        kind="certification",
        subject=_("We received your dispute"),
        template="emails/notice",
        context={
            "lines": [
                format_lazy(
                    _("We received your dispute of the {year} certified charges on account {number}."),
                    year=certification.year,
                    number=number,
                )
                if not items
                else format_lazy(
                    ngettext_lazy(
                        "We received your dispute of {count} certified charge ({total}) on account {number}.",
                        "We received your dispute of {count} certified charges ({total}) on account {number}.",
                        len(items),
                    ),
                    count=len(items),
                    total=money(total),
                    number=number,
                ),
                _(
                    "Our staff will investigate and tell you what they find, usually within 30 days. If the charges "
                    "were certified in error, they are withdrawn or lowered on the tax roll."
                ),
            ],
            "link": reverse("service_account_detail", args=[certification.service_account_id]),
            "link_text": _("See your account"),
        },
        users=[dispute.opened_by],
        required=True,
        account_number=number,
        reference=f"dispute:{dispute.pk}:received",
    )


def dispute_resolve(
    *, dispute: Dispute, by: User, outcome: str, note: str, new_amount: Decimal | None = None
) -> Dispute:
    """Uphold, adjust (to a lower delinquent amount) or withdraw; withdrawal and adjustment reverse
    the transfer to the tax roll (the charges come back to the account). The customer is told."""
    if outcome not in (Dispute.Status.UPHELD, Dispute.Status.ADJUSTED, Dispute.Status.WITHDRAWN):
        raise ApplicationError("Choose uphold, adjust or withdraw.")
    if not note.strip():
        raise ApplicationError("Write what was found; the customer is told it.")
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if dispute.status != Dispute.Status.OPEN:
            raise ApplicationError("This dispute is resolved already.")
        certification = Certification.objects.select_for_update().get(pk=dispute.certification_id)
        billing_accounts_lock(service_account_ids=[certification.service_account_id])
        to_return = _amount_to_return(certification, outcome=outcome, new_amount=new_amount)
        _transfers_reverse(certification, dispute=dispute, amount=to_return, outcome=outcome)
        if outcome == Dispute.Status.WITHDRAWN:
            certification.status = Certification.Status.WITHDRAWN
        elif outcome == Dispute.Status.ADJUSTED:
            certification.status = Certification.Status.ADJUSTED
            certification.delinquent_amount = new_amount
            certification.total_certified = new_amount + certification.processing_fee
        certification.save()
        dispute.status = outcome
        dispute.resolution = note.strip()[:4000]
        dispute.resolved_by = by
        dispute.resolved_at = timezone.now()
        dispute.save()
        audit_record(
            actor=by,
            action=f"dispute.{outcome}",
            target=dispute,
            summary=f"Dispute {dispute.pk} of the {certification.year} certification: {outcome}; "
            f"${to_return:,.2f} back on the account",
            changes={
                "status": ["open", outcome],
                "returned_to_account": to_return,
                "certified_now": certification.delinquent_amount,
                "note": dispute.resolution,
            },
            account_number=certification.service_account.account_number,
        )
    _dispute_resolved_tell(dispute, certification, returned=to_return)
    return dispute


def _amount_to_return(certification: Certification, *, outcome: str, new_amount: Decimal | None) -> Decimal:
    """What goes back from the tax roll to the account: all of it for a withdrawal, the part above
    the new amount for an adjustment, nothing when the certification stands."""
    if outcome == Dispute.Status.WITHDRAWN:
        return certification.delinquent_amount
    if outcome == Dispute.Status.ADJUSTED:
        if new_amount is None or not (Decimal("0") <= new_amount < certification.delinquent_amount):
            raise ApplicationError(
                f"The new amount must be less than ${certification.delinquent_amount:,.2f}."
            )
        return certification.delinquent_amount - new_amount
    return Decimal("0")


def _transfers_reverse(
    certification: Certification, *, dispute: Dispute, amount: Decimal, outcome: str
) -> None:
    """Reverse `amount` of the certification's transfers to the tax roll, newest charge first."""
    left, today = amount, local_today()
    for item in certification.items.select_related("transfer").order_by("-charge__due_date", "-pk"):
        if left <= 0:
            break
        back = min(left, item.amount)
        ledger_reverse(
            entry=item.transfer,
            amount=back,
            posted_on=today,
            source_key=f"dispute:{dispute.pk}:{item.pk}",
            description=f"Certification {certification.year} {'withdrawn' if outcome == 'withdrawn' else 'adjusted'}",
        )
        left -= back


def _dispute_resolved_tell(dispute: Dispute, certification: Certification, *, returned: Decimal) -> None:
    lines = {
        Dispute.Status.UPHELD: _("We investigated your dispute. The certified charges stand."),
        Dispute.Status.ADJUSTED: format_lazy(
            _(
                "We investigated your dispute and lowered the certified amount to {amount}. {returned} is back on "
                "your utility account."
            ),
            amount=money(certification.delinquent_amount),
            returned=money(returned),
        ),
        Dispute.Status.WITHDRAWN: format_lazy(
            _(
                "We investigated your dispute and withdrew the certification. The {returned} is back on your "
                "utility account instead of the tax roll."
            ),
            returned=money(returned),
        ),
    }[dispute.status]
    email_send(
        kind="certification",
        subject=_("Your dispute of certified charges"),
        template="emails/notice",
        context={"lines": [lines, dispute.resolution]},
        users=[dispute.opened_by],
        required=True,
        account_number=certification.service_account.account_number,
        reference=f"dispute:{dispute.pk}:resolved",
    )


def dispute_documents_reencrypt() -> tuple[int, int]:
    """Every stored dispute document under the newest key (`reencrypt_secrets`)."""
    return stored_files_reencrypt([DisputeDocument.objects.all()])
