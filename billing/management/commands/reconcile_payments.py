import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from billing.services.payments import payments_reconcile


class Command(BaseCommand):
    help = "Settle card payments left pending by asking Stripe where each stands."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=10,
            help="leave newer payments to the customer's browser",
        )

    def handle(self, *args, older_than_minutes, **options):
        if older_than_minutes < 0:
            raise CommandError("--older-than-minutes cannot be negative.")
        counts = payments_reconcile(older_than=dt.timedelta(minutes=older_than_minutes))
        self.stdout.write(
            self.style.SUCCESS(
                f"Payments: {counts['settled']} settled, {counts['still_open']} still open, "
                f"{counts['canceled']} canceled."
            )
        )
