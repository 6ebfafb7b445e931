from accounts.services import service_accounts_import
from kernel.commands import CsvImportCommand


class Command(CsvImportCommand):
    help = "Create or update service accounts from accounts.csv. All rows or none."
    label = "Accounts"

    def run_import(self, path):
        return service_accounts_import(path=path)
