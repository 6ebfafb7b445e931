from django.core.management.base import BaseCommand

from billing.services.imports import services_import
from portal.commands import raise_import_errors, report_import
from portal.csvimport import CsvImportError


class Command(BaseCommand):
    help = "Set which services each account takes, and its units, from services.csv. All rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file (UTF-8, header row)")

    def handle(self, *args, file, **options):
        try:
            result = services_import(path=file)
        except CsvImportError as exc:
            raise_import_errors(self, exc)
        report_import(self, "Account services", result)
