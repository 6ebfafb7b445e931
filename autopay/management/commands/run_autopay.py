from django.core.management.base import BaseCommand, CommandError

from autopay.services.drafts import autopay_run, autopay_send_reminders
from billing.calendar import local_today, parse_date


class Command(BaseCommand):
    help = "Draft every autopay enrollment and bank agreement due on a date (and days missed before it)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")
        parser.add_argument("--reminders", action="store_true", help="also send the reminders due that day")

    def handle(self, *args, date, reminders, **options):
        on = parse_date(date) if date else local_today()
        if on is None:
            raise CommandError(f"--date {date!r} is not a date like 2026-07-20.")
        if reminders:
            self.stdout.write(f"Reminders sent: {autopay_send_reminders(on=on)}")
        result = autopay_run(on=on)
        self.stdout.write(
            self.style.SUCCESS(
                f"Autopay {on}: {result.drafted} drafted ({result.succeeded} paid by card, "
                f"{result.failed} failed, {result.bank_scheduled} bank drafts for the NACHA file), "
                f"{result.skipped} with nothing due."
            )
        )
        for error in result.errors:
            self.stderr.write(f"not finished, will be retried: {error}")
