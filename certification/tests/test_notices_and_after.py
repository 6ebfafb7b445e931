import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import EmailLog, User
from accounts.notification_kinds import notification_kinds
from accounts.notifications import notification_switches_set
from accounts.tests.factories import AccountLinkFactory, ServiceAccountFactory, UserFactory
from billing.models import BillingAccount, LedgerEntry
from billing.tests.factories import post
from certification.models import Certification, Dispute, Notice
from certification.services.collections import collections_run
from certification.services.disputes import dispute_open, dispute_resolve
from certification.services.notices import notices_past_due, notices_precertification
from certification.services.sweep import certification_sweep
from kernel.errors import ApplicationError
from kernel.models import AuditEvent

pytestmark = pytest.mark.django_db
D = dt.date


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def test_past_due_notices_go_to_accounts_over_the_minimum_once_with_a_printable_batch(capsys):
    big = ServiceAccountFactory(account_number="500001-01")
    post(big, "charge", "80.00", D(2026, 6, 1), D(2026, 6, 20))
    small = ServiceAccountFactory(account_number="500002-01")
    post(small, "charge", "10.00", D(2026, 6, 1), D(2026, 6, 20))
    user = AccountLinkFactory(service_account=big).user

    call_command("send_past_due_notices", "--as-of", "2026-07-25")
    call_command("send_past_due_notices", "--as-of", "2026-07-25")

    out = capsys.readouterr().out
    assert "1 letter(s)" in out and "0 letter(s)" in out and "1 sent before" in out
    notice = Notice.objects.get()
    assert (notice.service_account, notice.amount) == (big, Decimal("80.00"))
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_past_due_letter_batch_is_a_pdf_holding_each_letter():
    accounts = [ServiceAccountFactory(account_number=number) for number in ("500011-01", "500012-01")]
    for account in accounts:
        post(account, "charge", "40.00", D(2026, 6, 1), D(2026, 6, 20))

    run = notices_past_due(as_of=D(2026, 7, 25))

    text = pdf_text(run.batch_file)
    assert "500011-01" in text and "500012-01" in text and "$40.00" in text
    assert all(account.access_code_display in text for account in accounts)


def test_precertification_letters_go_regardless_of_switches_and_emails_follow_them():
    account = ServiceAccountFactory(account_number="500021-01")
    post(account, "charge", "40.00", D(2026, 3, 1), D(2026, 3, 20))
    post(ServiceAccountFactory(), "charge", "40.00", D(2026, 4, 1), D(2026, 4, 21))  # due after April 20
    quiet = AccountLinkFactory(service_account=account).user
    notification_switches_set(user=quiet, enabled=dict.fromkeys(notification_kinds(), False))

    run = notices_precertification(year=2026, today=D(2026, 4, 25))

    assert [letter.account for letter in run.letters] == [account]
    assert "June 20, 2026" in pdf_text(run.batch_file)
    assert mail.outbox == []
    assert EmailLog.objects.filter(kind="precertification", status="skipped").count() == 1


def test_the_shutoff_path_adds_fees_and_door_hangers_and_never_runs_for_a_certifying_utility(settings):
    with pytest.raises(ApplicationError, match="certifies"):
        collections_run(as_of=D(2026, 7, 25))
    settings.COLLECTION_PATH = "shutoff"
    settings.COLLECTIONS_START_DATE = "2026-01-01"
    late = ServiceAccountFactory(account_number="500031-01")
    post(late, "charge", "50.00", D(2026, 7, 1), D(2026, 7, 20))
    long_late = ServiceAccountFactory(account_number="500032-01")
    post(long_late, "charge", "50.00", D(2026, 5, 1), D(2026, 5, 20))

    first = collections_run(as_of=D(2026, 7, 25))
    again = collections_run(as_of=D(2026, 7, 25))

    assert (first.late_fees, first.door_hangers) == (2, 1)
    assert (again.late_fees, again.door_hangers) == (0, 0)
    assert LedgerEntry.objects.filter(
        service_account=long_late, kind="door_hanger_fee"
    ).get().amount == Decimal("30.00")
    later = collections_run(as_of=D(2026, 8, 10))
    assert later.field_crew == ["500032-01"]
    assert "500032-01" in later.field_crew_file.read_text()
    with pytest.raises(ApplicationError, match="shuts service off"):
        certification_sweep(year=2026, today=D(2026, 6, 21))


def test_a_pending_assistance_application_holds_the_door_hanger(settings):
    settings.COLLECTION_PATH = "shutoff"
    settings.COLLECTIONS_START_DATE = "2026-01-01"
    from assistance.tests.factories import submit

    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "50.00", D(2026, 5, 1), D(2026, 5, 20))
    submit(user, account)

    result = collections_run(as_of=D(2026, 7, 25))

    assert result.held == 1
    assert not LedgerEntry.objects.filter(kind="door_hanger_fee").exists()


def test_after_a_conversion_only_bills_due_since_collections_started_are_fined(settings, capsys):
    """Imported history already carries the old system's fees: the first run must not fine a
    year of old bills at once. And it refuses to run on the shut-off path without a start date."""
    settings.COLLECTION_PATH = "shutoff"
    settings.COLLECTIONS_START_DATE = ""
    account = ServiceAccountFactory(account_number="500041-01")
    for month in range(1, 7):  # legacy bills due January to June, unpaid, each already fined
        charge = post(account, "charge", "50.00", D(2026, month, 1), D(2026, month, 20))
        post(
            account,
            "late_fee",
            "5.00",
            D(2026, month, 25),
            D(2026, month, 25),
            description=f"Legacy {charge.pk}",
        )
    post(account, "charge", "50.00", D(2026, 7, 1), D(2026, 7, 20))  # the first bill from the portal

    with pytest.raises(CommandError, match="Set COLLECTIONS_START_DATE"):
        call_command("run_collections", "--as-of", "2026-07-25")
    settings.COLLECTIONS_START_DATE = "2026-07-01"
    call_command("run_collections", "--as-of", "2026-07-25", "--dry-run")
    assert (
        "would post 1 late fee(s) ($5.00) and 0 door-hanger fee(s) ($0.00) on 1 account(s)"
        in capsys.readouterr().out
    )
    assert LedgerEntry.objects.filter(kind="late_fee").count() == 6  # the dry run posted nothing

    call_command("run_collections", "--as-of", "2026-07-25")

    assert LedgerEntry.objects.filter(kind="late_fee").count() == 7
    assert not LedgerEntry.objects.filter(
        kind="door_hanger_fee"
    ).exists()  # its oldest fineable bill is 5 days late


@pytest.fixture
def certified_customer():
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "40.00", D(2026, 2, 1), D(2026, 2, 20))
    post(account, "charge", "30.00", D(2026, 3, 1), D(2026, 3, 20))
    certification_sweep(year=2026, today=D(2026, 6, 21))
    return {
        "user": user,
        "account": account,
        "certification": Certification.objects.get(service_account=account),
    }


def test_withdrawing_a_disputed_certification_puts_the_charges_back_on_the_account(certified_customer):
    account, user = certified_customer["account"], certified_customer["user"]
    clerk = UserFactory(is_staff=True)
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("0.00")

    dispute = dispute_open(
        certification=certified_customer["certification"], user=user, reason="I paid in March."
    )
    dispute_resolve(
        dispute=dispute,
        by=clerk,
        outcome="withdrawn",
        note="The March payment was posted to the wrong account.",
    )

    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("70.00")
    assert Certification.objects.get(pk=certified_customer["certification"].pk).status == "withdrawn"
    assert "withdrew the certification" in mail.outbox[-1].body
    (event,) = AuditEvent.objects.filter(action="dispute.withdrawn")
    assert (event.actor, event.changes["returned_to_account"]) == (clerk, "70.00")
    from certification.services.exports import certification_rows

    assert certification_rows(year=2026) == []


def test_adjusting_lowers_the_certified_amount_and_returns_the_difference(certified_customer):
    account, user = certified_customer["account"], certified_customer["user"]
    dispute = dispute_open(
        certification=certified_customer["certification"], user=user, reason="March was estimated."
    )
    with pytest.raises(ApplicationError, match="less than"):
        dispute_resolve(dispute=dispute, by=user, outcome="adjusted", note="x", new_amount=Decimal("80"))

    dispute_resolve(
        dispute=dispute, by=user, outcome="adjusted", note="March re-read.", new_amount=Decimal("50.00")
    )

    certification = Certification.objects.get(pk=certified_customer["certification"].pk)
    assert (certification.delinquent_amount, certification.total_certified, certification.status) == (
        Decimal("50.00"),
        Decimal("100.00"),
        "adjusted",
    )
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("20.00")


def test_only_the_accounts_logins_can_dispute(certified_customer):
    with pytest.raises(ApplicationError, match="your own accounts"):
        dispute_open(certification=certified_customer["certification"], user=UserFactory(), reason="no")
    assert not Dispute.objects.exists()


def test_account_page_shows_certified_charges_apart_and_the_timeline(
    client, certified_customer, time_machine
):
    time_machine.move_to(dt.datetime(2026, 7, 2, 18, tzinfo=dt.UTC), tick=False)
    account = certified_customer["account"]
    post(account, "charge", "45.00", D(2026, 5, 1), D(2026, 5, 20))
    client.force_login(certified_customer["user"])

    body = client.get(reverse("service_account_detail", args=[account.pk])).content.decode()

    assert "Charges certified to the tax roll" in body
    assert "$120.00" in body  # 70.00 + the 50.00 fee
    assert "Tax Collector" in body
    assert "What happens if the past-due amount stays unpaid" in body
    assert "June 20, 2027" in body
    other = UserFactory()
    client.force_login(other)
    url = reverse("certification_dispute", args=[account.pk, certified_customer["certification"].pk])
    assert client.get(url).status_code == 404


def test_tax_lot_view_lists_every_account_on_the_property(client, certified_customer):
    call_command("seed_demo", accounts=2)
    lot = certified_customer["account"].tax_lot
    ServiceAccountFactory(tax_lot=lot, account_number="599999-01", status="closed")
    client.force_login(User.objects.get(email="clerk@example.com"))

    body = client.get(reverse("tax_lot"), {"tax_lot": lot}).content.decode()

    assert certified_customer["account"].account_number in body and "599999-01" in body
    assert "2026: $120.00 (certified)" in body
    client.force_login(certified_customer["user"])
    assert client.get(reverse("tax_lot"), {"tax_lot": lot}).status_code in (302, 403)


def test_finance_downloads_the_same_bytes_as_the_command_and_clerks_cannot(
    client, certified_customer, tmp_path
):
    call_command("seed_demo", accounts=2)
    output = tmp_path / "cert.csv"
    call_command("export_certification", "--year", "2026", "--output", str(output))
    client.force_login(User.objects.get(email="finance@example.com"))

    response = client.get(reverse("admin:certification_export"), {"year": "2026", "format": "csv"})

    assert response.status_code == 200
    assert response.content == output.read_bytes()
    assert client.get(reverse("admin:certification_export"), {"year": "x"}).status_code == 400
    client.force_login(User.objects.get(email="clerk@example.com"))
    assert client.get(reverse("admin:certification_export"), {"year": "2026"}).status_code == 403


def test_bad_command_input_is_refused():
    with pytest.raises(CommandError):
        call_command("send_past_due_notices", "--as-of", "yesterday")
    with pytest.raises(CommandError):
        call_command("export_certification", "--year", "26", "--output", "x.csv")
