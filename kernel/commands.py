"""Shared pieces for management commands."""

from django.core.management.base import BaseCommand, CommandError

from kernel.csvimport import CsvImportError


def raise_import_errors(command, exc: CsvImportError) -> None:
    """Print each line-numbered problem, then fail with a one-line reason."""
    for error in exc.errors:
        command.stderr.write(error)
    raise CommandError(exc.message)


def report_import(command, label: str, result) -> None:
    """One summary line for an import: created, updated (where it applies), unchanged."""
    if getattr(result, "ignored_columns", None):
        command.stdout.write(f"Ignored columns: {', '.join(result.ignored_columns)}")
    parts = [f"{result.created} created"]
    if result.updated or label != "Transactions":
        parts.append(f"{result.updated} updated")
    parts.append(f"{result.unchanged} unchanged")
    command.stdout.write(command.style.SUCCESS(f"{label}: {', '.join(parts)}."))


class CsvImportCommand(BaseCommand):
    """A command that imports one CSV file with a service: all rows or none."""

    label = "Rows"

    def run_import(self, path: str):
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file (UTF-8, header row)")

    def handle(self, *args, file, **options):
        try:
            summary = self.run_import(file)
        except CsvImportError as exc:
            raise_import_errors(self, exc)
        report_import(self, self.label, summary)
