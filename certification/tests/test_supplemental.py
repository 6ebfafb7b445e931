"""Once a year's list is recorded as sent to the tax collector, a dispute resolved as adjusted or
withdrawn puts the change on a supplemental list; the file sent stays as it was."""

import csv
import datetime as dt
import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, staff_user
from billing.tests.factories import post
from certification.models import Certification, CertificationSubmission, Dispute
from certification.services.disputes import dispute_resolve
from certification.services.sweep import certification_sweep
from kernel.models import AuditEvent

pytestmark = pytest.mark.django_db
D = dt.date


def test_disputes_after_the_list_was_sent_make_a_supplemental_list(time_machine):
    time_machine.move_to(dt.datetime(2026, 6, 22, 18, tzinfo=dt.UTC), tick=False)
    links = [
        AccountLinkFactory(
            service_account__account_number=f"70010{n}-01", service_account__tax_lot=f"2S2E0{n}"
        )
        for n in range(3)
    ]
    for link in links:
        post(link.service_account, "charge", "200.00", D(2026, 2, 1), D(2026, 2, 20))
    certification_sweep(year=2026)
    finance = Client()
    finance.force_login(staff_user("Finance"))
    changes_url = reverse("report_table", args=["certification-changes"])
    assert finance.get(changes_url, {"year": "2026", "format": "csv"}).content.decode().count("\n") == 1

    confirm = finance.get(reverse("admin:certification_submit"), {"year": "2026"}).content.decode()
    assert "Record the 2026 list as sent" in confirm
    finance.post(reverse("admin:certification_submit") + "?year=2026")
    submission = CertificationSubmission.objects.get()
    sent = Path(submission.stored_file.path).read_bytes()
    assert len(submission.rows) == 3 and b"700100-01" in sent
    assert AuditEvent.objects.filter(action="certification.sent").exists()

    clerk = staff_user("Clerks")
    adjusted, withdrawn = (
        Certification.objects.get(service_account=links[n].service_account) for n in (0, 1)
    )
    for certification, outcome, amount in [
        (adjusted, "adjusted", Decimal("120.00")),
        (withdrawn, "withdrawn", None),
    ]:
        dispute = Dispute.objects.create(certification=certification, opened_by=links[0].user, reason="Paid")
        dispute_resolve(dispute=dispute, outcome=outcome, note="Checked", by=clerk, new_amount=amount)

    rows = list(
        csv.reader(io.StringIO(finance.get(changes_url, {"year": "2026", "format": "csv"}).content.decode()))
    )
    assert rows[0] == [
        "tax_lot",
        "account_number",
        "owner_name",
        "old_total_certified",
        "new_total_certified",
        "change",
        "status",
    ]
    assert [(r[1], r[3], r[4], r[5], r[6]) for r in rows[1:]] == [
        ("700100-01", "250.00", "170.00", "-80.00", "Adjusted after a dispute"),
        ("700101-01", "250.00", "0.00", "-250.00", "Withdrawn"),
    ]
    # The file as sent is unchanged; today's export has moved on.
    assert (
        hashlib.sha256(Path(submission.stored_file.path).read_bytes()).hexdigest()
        == submission.stored_file.sha256
    )
    assert (
        finance.get(reverse("admin:certification_export"), {"year": "2026", "format": "csv"}).content != sent
    )
    nothing = finance.post(reverse("admin:certification_submit") + "?year=2019", follow=True).content.decode()
    assert "No account is certified for 2019" in nothing
