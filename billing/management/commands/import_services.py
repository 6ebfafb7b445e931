from billing.services.imports import services_import
from kernel.commands import CsvImportCommand


class Command(CsvImportCommand):
    help = "Set which services each account takes, and its units, from services.csv. All rows or none."
    label = "Account services"

    def run_import(self, path):
        return services_import(path=path)
