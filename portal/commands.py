"""Shared pieces for management commands."""

from django.core.management.base import CommandError

from portal.csvimport import CsvImportError


def raise_import_errors(command, exc: CsvImportError) -> None:
    """Print each line-numbered problem, then fail with a one-line reason."""
    for error in exc.errors:
        command.stderr.write(error)
    raise CommandError(exc.message)
