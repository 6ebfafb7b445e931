import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.demo_logins import DEMO_STAFF_TOTP_KEY


class Command(BaseCommand):
    help = "Print the current two-step verification code of the demo staff logins (demo mode only)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("demo_code runs only with PORTAL_DEMO_MODE=true (or DJANGO_DEBUG=true).")
        from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

        now = int(time.time())
        self.stdout.write(
            f"{format_hotp_value(hotp_value(DEMO_STAFF_TOTP_KEY, now // 30))}"
            f"  (good for {30 - now % 30} more seconds)"
        )
