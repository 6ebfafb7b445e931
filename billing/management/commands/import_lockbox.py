import csv

from django.core.management.base import BaseCommand, CommandError

from billing.services.batches import lockbox_import
from kernel.commands import raise_import_errors
from kernel.csvimport import CsvImportError


class Command(BaseCommand):
    help = (
        "Post the bank's lockbox file (account_number,amount,check_number,date) as one batch; rows "
        "that match no account are listed as exceptions and not posted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="the lockbox CSV file: account_number,amount,check_number,date[,scan_line]"
        )
        parser.add_argument("--exceptions", help="also write the exceptions to this CSV file")

    def handle(self, *args, file, exceptions, **options):
        try:
            result = lockbox_import(path=file)
        except CsvImportError as exc:
            raise_import_errors(self, exc)
        self.stdout.write(
            self.style.SUCCESS(f"Lockbox: {result.posted} payment(s) posted, totalling ${result.total:,.2f}.")
        )
        if result.exceptions:
            self.stdout.write(
                self.style.WARNING(f"{len(result.exceptions)} exception(s) for a clerk to resolve:")
            )
            for line in result.exceptions:
                self.stdout.write(f"  {line}")
            if exceptions:
                try:
                    with open(exceptions, "w", newline="", encoding="utf-8") as handle:
                        writer = csv.writer(handle)
                        writer.writerow(["exception"])
                        writer.writerows([line] for line in result.exceptions)
                except OSError as exc:
                    raise CommandError(f"cannot write {exceptions}: {exc.strerror}") from exc
