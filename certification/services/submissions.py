"""Recording the list as sent to the tax collector, and the supplemental list of what changed
since (a dispute resolved as adjusted or withdrawn): the original file stays as it was sent."""

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from certification.models import Certification, CertificationSubmission
from certification.services.exports import certification_csv
from kernel.audit import audit_record
from kernel.errors import ApplicationError
from kernel.runs import file_keep

ZERO = Decimal("0.00")


def certification_submit(*, year: int, by) -> CertificationSubmission:
    """Keep the year's list, as exported now, as the one sent to the tax collector."""
    if not by.has_perm("certification.export_certification"):
        raise ApplicationError("Your role cannot export the certification list.")
    certifications = list(
        Certification.objects.filter(year=year)
        .exclude(status=Certification.Status.WITHDRAWN)
        .select_related("service_account")
    )
    if not certifications:
        raise ApplicationError(f"No account is certified for {year}: there is nothing to send.")
    data = certification_csv(year=year)
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "certification" / "sent"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"certification-{year}-sent-{timezone.now():%Y%m%d-%H%M%S}.csv"
    path.write_bytes(data)
    with transaction.atomic():
        stored = file_keep(run=None, path=path, permission="certification.export_certification")
        submission = CertificationSubmission.objects.create(
            year=year,
            sent_by=by,
            stored_file=stored,
            rows=[
                {
                    "id": c.pk,
                    "account_number": c.service_account.account_number,
                    "tax_lot": c.tax_lot,
                    "owner_name": c.owner_name,
                    "total_certified": str(c.total_certified),
                }
                for c in certifications
            ],
        )
        audit_record(
            actor=by,
            action="certification.sent",
            target=submission,
            summary=f"{by.email} recorded the {year} list as sent to the tax collector ({len(certifications)} accounts)",
        )
    return submission


@dataclass(frozen=True)
class Change:
    account_number: str
    tax_lot: str
    owner_name: str
    old_total: Decimal
    new_total: Decimal
    status: str


def certification_changes(*, year: int) -> tuple[CertificationSubmission | None, list[Change]]:
    """What changed since the year's list was last sent: each account whose total certified is
    not what was sent (adjusted, withdrawn), by tax lot then account number."""
    submission = CertificationSubmission.objects.filter(year=year).first()
    if submission is None:
        return None, []
    sent = {row["id"]: row for row in submission.rows}
    changes = []
    for c in Certification.objects.filter(year=year).select_related("service_account"):
        old = Decimal(sent[c.pk]["total_certified"]) if c.pk in sent else ZERO
        new = ZERO if c.status == Certification.Status.WITHDRAWN else c.total_certified
        if old != new:
            changes.append(
                Change(
                    c.service_account.account_number,
                    c.tax_lot,
                    c.owner_name,
                    old,
                    new,
                    c.get_status_display(),
                )
            )
    changes.sort(key=lambda change: (change.tax_lot, change.account_number))
    return submission, changes
