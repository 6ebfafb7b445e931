from django.core.management.base import BaseCommand

from billing.services.imports import meter_reads_import
from portal.commands import raise_import_errors, report_import
from portal.csvimport import CsvImportError


class Command(BaseCommand):
    help = "Load water consumption per account and service month from meter_reads.csv. All rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file (UTF-8, header row)")

    def handle(self, *args, file, **options):
        try:
            result = meter_reads_import(path=file)
        except CsvImportError as exc:
            raise_import_errors(self, exc)
        report_import(self, "Meter reads", result)
