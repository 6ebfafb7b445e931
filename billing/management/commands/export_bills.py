from django.core.management.base import BaseCommand, CommandError

from billing.calendar import parse_period
from billing.services.exports import bills_export_csv
from kernel.runs import RunFile, command_run_record


class Command(BaseCommand):
    help = "Write the bill file for the print-and-mail vendor (INTERFACES.md)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="the service month, YYYY-MM")
        parser.add_argument("--output", required=True, help="the CSV file to write")
        parser.add_argument(
            "--exclude-paperless", action="store_true", help="leave out accounts that chose paperless bills"
        )
        parser.add_argument(
            "--mailing",
            action="store_true",
            help="add where each bill is mailed: mail_name, mail_address, mail_city, mail_state, mail_zip "
            "(the mailing address, or the service address when there is none)",
        )

    def handle(self, *args, period, output, exclude_paperless, mailing, **options):
        month = parse_period(period)
        if month is None:
            raise CommandError(f"--period {period!r} is not a month like 2026-10.")
        try:
            count = bills_export_csv(
                period=month, path=output, exclude_paperless=exclude_paperless, mailing=mailing
            )
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        command_run_record(
            kind="bill_file",
            label=f"Bill file for {month:%B %Y}",
            summary=f"{count} bill(s) for {month:%Y-%m}.",
            files=[RunFile(path=output, permission="billing.view_bill")],
        )
        self.stdout.write(self.style.SUCCESS(f"{count} bills for {month:%Y-%m} written to {output}."))
