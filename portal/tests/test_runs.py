"""Runs started from the staff pages: the bill run, the NACHA file, notices and the certification
sweep (dry first, then confirmed), done by a Celery worker, their files kept in private storage
and downloaded by the roles allowed, each download audited; one run of a kind at a time."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, staff_client
from billing.models import Bill, Service
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory, post
from certification.models import Certification
from kernel.models import AuditEvent, Run, StoredFile

D = dt.date


def start(client, kind, data, callbacks):
    with callbacks(execute=True):  # the task is queued when the transaction commits
        response = client.post(reverse("run_new", args=[kind]), data)
    return response


@pytest.mark.django_db
def test_a_bill_run_from_the_page_issues_the_bills_and_keeps_the_bill_file(
    time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(dt.datetime(2026, 12, 1, 18, tzinfo=dt.UTC), tick=False)
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    accounts = [AccountServiceFactory(service=Service.SEWER).service_account for _ in range(3)]
    finance = staff_client("Finance")
    assert "Bill run" in finance.get(reverse("runs")).content.decode()

    early = finance.post(reverse("run_new", args=["bill_run"]), {"period": "2026-12"}).content.decode()
    assert "December 2026 has not ended" in early and not Run.objects.exists()
    response = start(finance, "bill_run", {"period": "2026-11"}, django_capture_on_commit_callbacks)

    run = Run.objects.get()
    assert response["Location"] == reverse("run_detail", args=[run.pk])
    assert (run.status, run.progress, run.label) == ("succeeded", 100, "Bill run for November 2026")
    assert Bill.objects.filter(period=D(2026, 11, 1)).count() == 3
    assert "3 bill(s) issued for November 2026" in run.summary
    page = finance.get(reverse("run_detail", args=[run.pk])).content.decode()
    (stored,) = StoredFile.objects.filter(run=run)
    assert stored.name == "bills-2026-11.csv" and reverse("file_download", args=[stored.pk]) in page
    download = finance.get(reverse("file_download", args=[stored.pk]))
    body = b"".join(download.streaming_content).decode()
    assert all(account.account_number in body for account in accounts)
    assert AuditEvent.objects.filter(action="file.download", object_id=str(stored.pk)).count() == 1
    # A clerk reads runs but does not start them.
    clerk = staff_client("Clerks")
    assert clerk.get(reverse("runs")).status_code == 200
    assert clerk.post(reverse("run_new", args=["bill_run"]), {"period": "2026-11"}).status_code == 403


def _one_bank_draft_on(day):
    from decimal import Decimal

    from autopay.services.drafts import autopay_run
    from autopay.services.enrollment import bank_agreement_record
    from billing.models import Service
    from billing.services.bills import bills_run
    from billing.tests.factories import AccountServiceFactory, RateScheduleFactory

    RateScheduleFactory(
        service=Service.SEWER, effective_date=dt.date(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    bank_agreement_record(
        service_account=AccountServiceFactory(service=Service.SEWER).service_account,
        holder_name="Pat Doe",
        routing_number="091000019",
        account_number="123456789",
        account_type="checking",
        signed_on=dt.date(2026, 6, 1),
        recorded_by=None,
    )
    bills_run(period=day.replace(day=1, month=day.month - 1), issued_on=day.replace(day=1), notify=False)
    autopay_run(on=day)


@pytest.mark.django_db
def test_one_run_of_a_kind_at_a_time_and_files_only_for_the_roles_allowed(
    time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(dt.datetime(2026, 7, 20, 18, tzinfo=dt.UTC), tick=False)
    finance = staff_client("Finance")
    busy = Run.objects.create(kind="nacha", label="NACHA file for 07/19/2026", status="running")
    refused = finance.post(
        reverse("run_new", args=["nacha"]), {"on": "2026-07-20"}, follow=True
    ).content.decode()
    assert "NACHA file of bank drafts is running already" in refused
    assert Run.objects.filter(kind="nacha").count() == 1
    waiting = finance.get(reverse("run_detail", args=[busy.pk])).content.decode()
    assert 'role="status"' in waiting and "run_progress.js" in waiting and "Check again" in waiting
    # A day later with no end in sight (its worker died): taken for failed, its kind free again.
    Run.objects.filter(pk=busy.pk).update(created_at=busy.created_at - dt.timedelta(hours=25))
    assert finance.get(reverse("run_status", args=[busy.pk])).json()["done"] is True
    busy.refresh_from_db()
    assert busy.status == "failed" and busy.error == "It stopped without finishing."

    start(finance, "nacha", {"on": "2026-07-21"}, django_capture_on_commit_callbacks)
    quiet = Run.objects.exclude(pk=busy.pk).get()
    assert quiet.status == "succeeded" and "No bank drafts are dated 2026-07-21" in quiet.summary
    assert not quiet.files.exists()  # no empty batch: no file
    _one_bank_draft_on(dt.date(2026, 7, 20))
    start(finance, "nacha", {"on": "2026-07-20"}, django_capture_on_commit_callbacks)
    run = Run.objects.exclude(pk__in=[busy.pk, quiet.pk]).get()
    assert (
        run.status == "succeeded"
        and "1 entry (1 paper draft, 0 online bank payments, 0 prenotes), $48.50" in run.summary
    )
    (stored,) = run.files.all()
    clerk = staff_client("Clerks")
    # Bank account numbers: not for clerks, and not listed for them.
    assert (
        reverse("file_download", args=[stored.pk])
        not in clerk.get(reverse("run_detail", args=[run.pk])).content.decode()
    )
    assert clerk.get(reverse("file_download", args=[stored.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="file.download").exists()
    assert finance.get(reverse("run_new", args=["no-such-run"])).status_code == 404


@pytest.mark.django_db
def test_the_sweep_runs_dry_first_then_is_confirmed_and_letters_are_files_to_print(
    time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(dt.datetime(2026, 6, 22, 18, tzinfo=dt.UTC), tick=False)
    account = AccountLinkFactory().service_account
    post(account, "charge", "300.00", D(2026, 3, 1), D(2026, 3, 20))
    finance = staff_client("Finance")

    blind = finance.post(reverse("run_new", args=["certification_sweep"]), {"year": "2026"}).content.decode()
    assert "Run the 2026 sweep dry first" in blind and not Run.objects.exists()
    early = finance.post(reverse("run_new", args=["certification_sweep"]), {"year": "2027", "dry_run": "on"})
    assert "The 2027 sweep can run from 06/21/2027" in early.content.decode() and not Run.objects.exists()
    start(
        finance, "certification_sweep", {"year": "2026", "dry_run": "on"}, django_capture_on_commit_callbacks
    )
    dry = Run.objects.get()
    assert dry.status == "succeeded" and "1 account(s) would be certified, delinquent $300.00" in dry.summary
    assert not Certification.objects.exists()
    page = finance.get(reverse("run_detail", args=[dry.pk])).content.decode()
    assert "Confirm: certify for real" in page and account.account_number in page

    start(finance, "certification_sweep", {"year": "2026"}, django_capture_on_commit_callbacks)
    real = Run.objects.exclude(pk=dry.pk).get()
    assert "1 account(s) certified" in real.summary
    assert Certification.objects.get().delinquent_amount == Decimal("300.00")

    # Letters: a PDF to print, kept with the run, that clerks may download too.
    time_machine.move_to(dt.datetime(2026, 7, 2, 18, tzinfo=dt.UTC), tick=False)
    other = AccountLinkFactory().service_account
    post(other, "charge", "120.00", D(2026, 5, 1), D(2026, 5, 20))
    finance = staff_client("Finance")
    start(finance, "past_due_notices", {"as_of": "2026-07-02"}, django_capture_on_commit_callbacks)
    letters = Run.objects.get(kind="past_due_notices")
    (pdf,) = letters.files.all()
    assert pdf.content_type == "application/pdf" and pdf.size > 0
    clerk = staff_client("Clerks")
    response = clerk.get(reverse("file_download", args=[pdf.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")


@pytest.mark.django_db(transaction=True)
def test_a_run_is_done_by_a_real_worker_and_its_page_shows_the_progress(time_machine, celery_worker):
    time_machine.move_to(dt.datetime(2026, 12, 1, 18, tzinfo=dt.UTC), tick=True)
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    AccountServiceFactory(service=Service.SEWER)
    finance = staff_client("Finance")
    finance.post(reverse("run_new", args=["bill_run"]), {"period": "2026-11"})
    run = Run.objects.get()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Run.objects.get(pk=run.pk).status in Run.ACTIVE:
        time.sleep(0.2)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.started_at and run.finished_at
    assert Bill.objects.count() == 1
    page = finance.get(reverse("run_detail", args=[run.pk])).content.decode()
    assert "run_progress.js" not in page  # done: the page no longer asks
    assert finance.get(reverse("run_status", args=[run.pk])).json() == {
        "status": "Done",
        "progress": 100,
        "done": True,
    }


@pytest.mark.django_db
def test_a_shutoff_utility_runs_collections_from_the_page_and_gets_its_letters_and_crew_list(
    settings, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(dt.datetime(2026, 8, 10, 18, tzinfo=dt.UTC), tick=False)
    finance = staff_client("Finance")
    # A utility that certifies has no such run: not offered, not started.
    assert "Late notices, door hangers" not in finance.get(reverse("runs")).content.decode()
    assert finance.post(reverse("run_new", args=["collections"]), {"as_of": "2026-08-10"}).status_code == 404
    assert not Run.objects.exists()

    settings.COLLECTION_PATH = "shutoff"
    settings.COLLECTIONS_START_DATE = "2026-01-01"
    account = AccountLinkFactory(service_account__account_number="500032-01").service_account
    post(account, "charge", "50.00", D(2026, 5, 1), D(2026, 5, 20))
    from certification.services.collections import collections_run

    collections_run(as_of=D(2026, 7, 25))  # the door hanger, hung two weeks before
    start(finance, "collections", {"as_of": "2026-08-10"}, django_capture_on_commit_callbacks)
    run = Run.objects.get()
    assert run.status == "succeeded" and "1 account(s) on the field crew's list" in run.summary
    names = sorted(run.files.values_list("name", flat=True))
    assert "field-crew-2026-08-10.csv" in names


@pytest.mark.django_db
def test_a_command_lines_run_and_files_are_listed_too(tmp_path):
    from django.core.management import call_command

    account = AccountLinkFactory(service_account__account_number="800100-01").service_account
    post(account, "charge", "42.00", D(2026, 5, 1), D(2026, 5, 20))
    output = tmp_path / "aging.csv"
    call_command("export_aging", "--as-of", "2026-06-30", "--output", str(output))

    run = Run.objects.get()
    assert run.label == "Aging report as of 06/30/2026 (CSV) (command line)" and run.status == "succeeded"
    (stored,) = run.files.all()
    assert stored.path != str(output)  # a copy kept in private storage
    finance = staff_client("Finance")
    assert (
        reverse("file_download", args=[stored.pk])
        in finance.get(reverse("run_detail", args=[run.pk])).content.decode()
    )
    body = b"".join(finance.get(reverse("file_download", args=[stored.pk])).streaming_content)
    assert body == output.read_bytes()


@pytest.mark.django_db
def test_a_dry_run_that_finds_nothing_offers_no_confirm(time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(dt.datetime(2026, 6, 22, 18, tzinfo=dt.UTC), tick=False)
    finance = staff_client("Finance")
    start(
        finance, "certification_sweep", {"year": "2026", "dry_run": "on"}, django_capture_on_commit_callbacks
    )
    run = Run.objects.get()
    assert "0 account(s) would be certified" in run.summary
    assert (
        "Confirm: certify for real" not in finance.get(reverse("run_detail", args=[run.pk])).content.decode()
    )
