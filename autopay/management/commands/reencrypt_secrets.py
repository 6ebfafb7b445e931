from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from autopay.services.bank import bank_numbers_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt the stored bank account numbers under the newest PORTAL_ENCRYPTION_KEY key "
        "(the first of the comma-separated keys). Run after putting a new key in front; then the "
        "old keys can be removed."
    )

    def handle(self, *args, **options):
        try:
            done, unchanged = bank_numbers_reencrypt()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Bank account numbers: {done} re-encrypted under the newest key, {unchanged} already were."
            )
        )
