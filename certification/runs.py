"""Notices and the certification sweep, started from the staff pages (kernel.runs). The sweep is
run dry first: its page shows the list and totals, and offers to certify for real."""

import csv
import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone

from billing.calendar import local_today, parse_date
from certification.services.collections import collections_run
from certification.services.notices import notices_past_due, notices_precertification
from certification.services.sweep import certification_sweep, cutoff_date
from kernel.models import Run
from kernel.money import format_money
from kernel.runs import RunFile, RunKind, RunOutcome, run_folder, run_kind_register
from kernel.spreadsheets import text_cell

NOTICE_PERMISSION = "certification.view_notice"


class AsOfForm(forms.Form):
    as_of = forms.DateField(
        label="As of", widget=forms.DateInput(attrs={"type": "date"}), initial=local_today
    )


class YearForm(forms.Form):
    year = forms.IntegerField(label="Year", min_value=2000, max_value=2100)


class SweepForm(YearForm):
    dry_run = forms.BooleanField(
        label="Dry run: show the list and totals, change nothing", required=False, initial=True
    )

    def clean(self):
        data = super().clean()
        year = data.get("year")
        if year and local_today() <= cutoff_date(year):
            raise forms.ValidationError(
                f"The {year} sweep can run from {cutoff_date(year) + dt.timedelta(days=1):%m/%d/%Y}, after June 20."
            )
        if year and not data.get("dry_run"):
            tried = Run.objects.filter(
                kind="certification_sweep",
                status=Run.Status.SUCCEEDED,
                parameters__year=str(year),
                parameters__dry_run="True",
                finished_at__gte=timezone.now() - dt.timedelta(days=1),
            )
            if not tried.exists():
                raise forms.ValidationError(
                    f"Run the {year} sweep dry first (today), read its list, then confirm it."
                )
        return data


def _notices(run, *, what: str) -> RunOutcome:
    files = [RunFile(path=run.batch_file, permission=NOTICE_PERMISSION)] if run.batch_file else []
    summary = (
        f"{len(run.letters)} {what} in the PDF to print (also emailed to the linked logins that want them)"
    )
    if run.already:
        summary += f"; {run.already} sent before, not again"
    return RunOutcome(summary=summary + ".", files=files)


def past_due_execute(*, parameters: dict, progress) -> RunOutcome:
    run = notices_past_due(as_of=parse_date(parameters["as_of"]))
    progress(100)
    return _notices(run, what="past-due letter(s)")


def precertification_execute(*, parameters: dict, progress) -> RunOutcome:
    run = notices_precertification(year=int(parameters["year"]))
    progress(100)
    return _notices(run, what="pre-certification notice(s)")


def sweep_execute(*, parameters: dict, progress) -> RunOutcome:
    year, dry_run = int(parameters["year"]), parameters.get("dry_run") == "True"
    result = certification_sweep(year=year, dry_run=dry_run)
    progress(90)
    path = run_folder(f"sweep-{year}") / f"certification-{year}-{'dry-run' if dry_run else 'certified'}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tax_lot", "account_number", "customer_name", "delinquent_amount"])
        for candidate in sorted(
            result.certified, key=lambda c: (c.service_account.tax_lot, c.service_account.account_number)
        ):
            account = candidate.service_account
            writer.writerow(
                [
                    text_cell(account.tax_lot),
                    text_cell(account.account_number),
                    text_cell(account.customer_name),
                    format_money(candidate.amount),
                ]
            )
    verb = "would be certified" if dry_run else "certified"
    summary = (
        f"{year}: {len(result.certified)} account(s) {verb}, delinquent ${result.delinquent_total:,.2f}; "
        f"{result.already} already certified; {result.left_out_for_plans} left out (payment plan in good standing)."
    )
    if dry_run:
        summary += "\nDry run: nothing was changed. Read the list (the file below), then confirm to certify."
    lines = [
        f"{c.service_account.tax_lot}  {c.service_account.account_number}  ${c.amount:,.2f}  {c.service_account.customer_name}"
        for c in result.certified[:100]
    ]
    if lines:
        summary += (
            "\n\n"
            + "\n".join(lines)
            + ("\n(the first 100: the file has them all)" if len(result.certified) > 100 else "")
        )
    return RunOutcome(
        summary=summary, files=[RunFile(path=path, permission="certification.view_certification")]
    )


def collections_execute(*, parameters: dict, progress) -> RunOutcome:
    result = collections_run(as_of=parse_date(parameters["as_of"]))
    progress(100)
    files = [
        RunFile(path=path, permission=NOTICE_PERMISSION)
        for path in (result.late_file, result.door_hanger_file, result.field_crew_file)
        if path
    ]
    return RunOutcome(
        summary=f"{result.late_fees} late fee(s) and {result.door_hangers} door-hanger fee(s) posted; "
        f"{result.held} held (assistance pending); {len(result.field_crew)} account(s) on the field crew's list.",
        files=files,
    )


def register() -> None:
    run_kind_register(
        RunKind(
            key="collections",
            title="Late notices, door hangers and the field crew's list",
            permission="portal.start_runs",
            form=AsOfForm,
            describe=lambda data: f"Collections as of {data['as_of']:%m/%d/%Y}",
            execute=collections_execute,
            available=lambda: settings.COLLECTION_PATH == "shutoff",
            help="utilities that shut service off only: late fees and notices, door hangers with their fee, "
            "and the field crew's list, as files to print.",
        )
    )
    run_kind_register(
        RunKind(
            key="past_due_notices",
            title="Past-due letters",
            permission="portal.start_runs",
            form=AsOfForm,
            describe=lambda data: f"Past-due letters as of {data['as_of']:%m/%d/%Y}",
            execute=past_due_execute,
            help="letters (one PDF to print) and emails to accounts past due on that day, once per day.",
        )
    )
    run_kind_register(
        RunKind(
            key="precertification_notices",
            title="Pre-certification notices",
            permission="portal.start_runs",
            form=YearForm,
            describe=lambda data: f"Pre-certification notices for {data['year']}",
            execute=precertification_execute,
            help="the April notice to every account that would be certified if still unpaid on June 20.",
        )
    )
    run_kind_register(
        RunKind(
            key="certification_sweep",
            title="Certification sweep",
            permission="certification.export_certification",
            form=SweepForm,
            describe=lambda data: (
                f"Certification sweep {data['year']}" + (" (dry run)" if data.get("dry_run") else "")
            ),
            execute=sweep_execute,
            help="certify to the tax roll what is still unpaid on June 20: run it dry first, then confirm.",
            confirm_kind="certify for real",
        )
    )
