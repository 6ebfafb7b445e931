from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certification.services.exports import certification_export, certification_rows
from kernel.runs import RunFile, command_run_record


class Command(BaseCommand):
    help = "Write the certified list for the county tax collector (INTERFACES.md layout)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--output", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")

    def handle(self, *args, year, output, format, **options):
        if not 2000 <= year <= 2100:
            raise CommandError(f"--year {year} is not a year like 2026.")
        data = certification_export(year=year, fmt=format)
        try:
            Path(output).write_bytes(data)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        command_run_record(
            kind="certification_export",
            label=f"Certification list {year} ({format.upper()})",
            summary=f"{len(certification_rows(year=year))} certified account(s).",
            files=[RunFile(path=output, permission="certification.export_certification")],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(certification_rows(year=year))} certified account(s) for {year} written to {output}."
            )
        )
