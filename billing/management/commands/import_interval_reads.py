from billing.services.imports import interval_reads_import
from kernel.commands import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Load smart meters' interval reads (account_number, starts_at, gallons) from a CSV file, then "
        "alert accounts where water ran for 24 hours without a stop. All rows or none."
    )
    label = "Interval reads"

    def run_import(self, path):
        return interval_reads_import(path=path)
