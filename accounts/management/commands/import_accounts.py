from django.core.management.base import BaseCommand

from accounts.services import service_accounts_import
from portal.commands import raise_import_errors, report_import
from portal.csvimport import CsvImportError


class Command(BaseCommand):
    help = "Create or update service accounts from accounts.csv. All rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to accounts.csv (UTF-8, header row)")

    def handle(self, *args, file, **options):
        try:
            summary = service_accounts_import(path=file)
        except CsvImportError as exc:
            raise_import_errors(self, exc)
        report_import(self, "Accounts", summary)
