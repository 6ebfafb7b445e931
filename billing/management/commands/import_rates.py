from billing.services.imports import rates_import
from kernel.commands import CsvImportCommand


class Command(CsvImportCommand):
    help = "Create or update rate schedules from rates.csv. All rows or none."
    label = "Rate schedules"

    def run_import(self, path):
        return rates_import(path=path)
