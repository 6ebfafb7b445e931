from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from kernel.crypto import REENCRYPTORS


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (bank account numbers, customers' documents) under the newest "
        "PORTAL_ENCRYPTION_KEY key (the first of the comma-separated keys). Run after putting a new key "
        "in front; then the old keys can be removed."
    )

    def handle(self, *args, **options):
        for label, reencrypt in REENCRYPTORS:
            try:
                done, unchanged = reencrypt()
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                self.style.SUCCESS(
                    f"{label}: {done} re-encrypted under the newest key, {unchanged} already were."
                )
            )
