from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing.calendar import parse_date
from billing.reports import aging_export
from kernel.runs import RunFile, command_run_record


class Command(BaseCommand):
    help = "Write the accounts-receivable aging report as of a date (one row per account that owes or has credit)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", required=True, help="YYYY-MM-DD: ledger rows posted on or before it count"
        )
        parser.add_argument("--output", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")

    def handle(self, *args, as_of, output, format, **options):
        day = parse_date(as_of)
        if day is None:
            raise CommandError(f"--as-of {as_of!r} is not a date like 2026-06-30.")
        report, data = aging_export(as_of=day, fmt=format)
        try:
            Path(output).write_bytes(data)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        command_run_record(
            kind="aging_export",
            label=f"Aging report as of {day:%m/%d/%Y} ({format.upper()})",
            summary=f"{len(report.rows)} account(s), ${report.total:,.2f} in all.",
            files=[RunFile(path=output, permission="billing.view_finance_reports")],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Aging as of {day}: {len(report.rows)} account(s), ${report.total:,.2f} in all, written to {output}."
            )
        )
