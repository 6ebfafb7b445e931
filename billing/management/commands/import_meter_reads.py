from billing.services.imports import meter_reads_import
from kernel.commands import CsvImportCommand


class Command(CsvImportCommand):
    help = "Load water use per account and service month from meter_reads.csv. All rows or none."
    label = "Meter reads"

    def run_import(self, path):
        return meter_reads_import(path=path)
