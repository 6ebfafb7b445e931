from django.core.management.base import BaseCommand

from autopay.services.bank import ach_returns_import
from kernel.commands import raise_import_errors
from kernel.csvimport import CsvImportError


class Command(BaseCommand):
    help = (
        "Post the bank's returned drafts (trace_number,return_code,date); R02/R03/R07/R10 end the agreement."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the returns CSV")

    def handle(self, *args, file, **options):
        try:
            result = ach_returns_import(path=file)
        except CsvImportError as exc:
            raise_import_errors(self, exc)
        self.stdout.write(
            self.style.SUCCESS(
                f"Returns: {result.returned} reversed, {result.deactivated} agreement(s) ended."
            )
        )
        for line in result.unknown:
            self.stdout.write(self.style.WARNING(line))
