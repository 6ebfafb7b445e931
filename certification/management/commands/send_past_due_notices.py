from django.core.management.base import BaseCommand, CommandError

from billing.calendar import parse_date
from certification.services.notices import notices_past_due
from kernel.runs import RunFile, command_run_record


class Command(BaseCommand):
    help = "Past-due letters (one printable PDF batch) and emails, to accounts past due by at least PAST_DUE_NOTICE_MINIMUM."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", required=True, help="YYYY-MM-DD")

    def handle(self, *args, as_of, **options):
        day = parse_date(as_of)
        if day is None:
            raise CommandError(f"--as-of {as_of!r} is not a date like 2026-07-25.")
        run = notices_past_due(as_of=day)
        command_run_record(
            kind="past_due_notices",
            label=f"Past-due letters as of {day:%m/%d/%Y}",
            summary=f"{len(run.letters)} past-due letter(s); {run.already} sent before.",
            files=[RunFile(path=run.batch_file, permission="certification.view_notice")]
            if run.batch_file
            else [],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Past-due notices for {day}: {len(run.letters)} letter(s)"
                + (f" in {run.batch_file}" if run.batch_file else "")
                + f"; {run.already} sent before."
            )
        )
