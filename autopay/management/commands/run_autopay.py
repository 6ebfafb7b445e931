from django.core.management.base import BaseCommand, CommandError

from autopay.services.bank import bank_payments_settle
from autopay.services.drafts import autopay_run, autopay_send_reminders
from autopay.services.scheduled import scheduled_payments_remind, scheduled_payments_run
from billing.calendar import local_today, parse_date


class Command(BaseCommand):
    help = (
        "The day's payment run for a date: bank payments whose settlement date has come are posted, "
        "scheduled payments due are made, and every autopay enrollment and bank agreement due is drafted "
        "(days missed before it included)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")
        parser.add_argument("--reminders", action="store_true", help="also send the reminders due that day")

    def handle(self, *args, date, reminders, **options):
        on = parse_date(date) if date else local_today()
        if on is None:
            raise CommandError(f"--date {date!r} is not a date like 2026-07-20.")
        if reminders:
            sent = autopay_send_reminders(on=on) + scheduled_payments_remind(on=on)
            self.stdout.write(f"Reminders sent: {sent}")
        settled = bank_payments_settle(on=on)
        scheduled = scheduled_payments_run(on=on)
        self.stdout.write(
            f"Bank payments posted: {settled}. Scheduled payments: {scheduled.paid} paid by card, "
            f"{scheduled.sent} sent to the bank, {scheduled.failed} failed."
        )
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
