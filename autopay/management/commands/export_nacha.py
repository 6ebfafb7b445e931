from django.core.management.base import BaseCommand, CommandError

from autopay.services.bank import NoDrafts, nacha_export
from billing.calendar import parse_date
from kernel.runs import RunFile, command_run_record


class Command(BaseCommand):
    help = "Write the NACHA PPD debit file of the bank drafts dated YYYY-MM-DD, and post them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", required=True, help="the draft date, YYYY-MM-DD (the 20th, or the next banking day)"
        )
        parser.add_argument("--output", required=True, help="the file to write")

    def handle(self, *args, date, output, **options):
        on = parse_date(date)
        if on is None:
            raise CommandError(f"--date {date!r} is not a date like 2026-07-20.")
        try:
            built = nacha_export(on=on, path=output)
        except NoDrafts as exc:
            self.stdout.write(exc.message)  # not an error: a quiet day
            return
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        command_run_record(
            kind="nacha",
            label=f"NACHA file for {on:%m/%d/%Y}",
            summary=f"{built.summary}; they post as payments on {on}.",
            files=[RunFile(path=output, permission="portal.start_runs")],
        )
        self.stdout.write(
            self.style.SUCCESS(f"NACHA file {output}: {built.entries} drafts, ${built.total:,.2f}.")
        )
