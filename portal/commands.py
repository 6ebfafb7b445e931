"""Shared pieces for management commands."""

from django.core.management.base import CommandError

from portal.csvimport import CsvImportError


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
