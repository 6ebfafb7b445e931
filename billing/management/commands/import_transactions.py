from billing.services.imports import transactions_import
from kernel.commands import CsvImportCommand


class Command(CsvImportCommand):
    help = "Append ledger history from transactions.csv. Idempotent by ref; all rows or none."
    label = "Transactions"

    def run_import(self, path):
        return transactions_import(path=path)
