from django.core.management.base import BaseCommand, CommandError

from billing.calendar import local_today, parse_date
from certification.services.collections import collections_run
from portal.errors import ApplicationError


class Command(BaseCommand):
    help = "For a utility that shuts service off: late fees and notices, door hangers and fees, the field crew's list."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, as_of, **options):
        day = parse_date(as_of) if as_of else local_today()
        if day is None:
            raise CommandError(f"--as-of {as_of!r} is not a date like 2026-07-25.")
        try:
            result = collections_run(as_of=day)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{day}: {result.late_fees} late fee(s), {result.door_hangers} door hanger(s), {result.held} held "
                f"(assistance pending), {len(result.field_crew)} account(s) for the field crew"
                + (f" in {result.field_crew_file}" if result.field_crew_file else "")
                + "."
            )
        )
