import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo_logins import DEMO_LOGINS, DEMO_STAFF_TOTP_KEY
from accounts.models import User
from billing.calendar import local_today
from portal.demo import DEMO_APPS


class Command(BaseCommand):
    help = (
        "Load the demo utility: service accounts with 13 months of bills and payments, a demo "
        "customer, and a clerk, a finance user and a supervisor in their staff roles."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--accounts", type=int, default=200, help="how many service accounts (default 200)"
        )

    def handle(self, *args, accounts: int, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "seed_demo creates logins with published passwords; it runs only with "
                "PORTAL_DEMO_MODE=true (or DJANGO_DEBUG=true)."
            )
        if accounts < 2:
            raise CommandError("--accounts must be at least 2 (the demo customer holds two).")
        if User.objects.filter(email=DEMO_LOGINS[0][1]).exists():
            self.stdout.write("Demo data is already loaded; nothing to do.")
            return
        modules = [importlib.import_module(f"{app}.demo") for app in DEMO_APPS]
        context = {"accounts": accounts, "today": local_today(), "stdout": self.stdout}
        events = []
        with transaction.atomic():
            for module in modules:
                produced = module.seed(**context) or {}
                events += produced.pop("events", [])
                context.update(produced)
            # The demo year, lived in date order: bills, payments, notices, the June sweep and
            # later bills each on their day, so every bill agrees with the ledger of its day.
            for _day, event in sorted(events, key=lambda item: item[0]):
                event()
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {accounts} service accounts."))
        for role, email, password in DEMO_LOGINS:
            self.stdout.write(f"  {role:<9} {email:<22} {password}")
        self.stdout.write(
            f"  Staff sign in with two-step verification: authenticator key {DEMO_STAFF_TOTP_KEY}, "
            "or `make manage CMD=demo_code` for the current code."
        )
