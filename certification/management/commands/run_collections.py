from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing.calendar import local_today, parse_date
from certification.services.collections import collections_run
from kernel.errors import ApplicationError
from kernel.runs import RunFile, command_run_record


class Command(BaseCommand):
    help = "For a utility that shuts service off: late fees and notices, door hangers and fees, the field crew's list."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be posted; post, print and send nothing"
        )

    def handle(self, *args, as_of, dry_run, **options):
        day = parse_date(as_of) if as_of else local_today()
        if day is None:
            raise CommandError(f"--as-of {as_of!r} is not a date like 2026-07-25.")
        try:
            result = collections_run(as_of=day, dry_run=dry_run)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if dry_run:
            late, hanger = Decimal(settings.LATE_FEE), Decimal(settings.DOOR_HANGER_FEE)
            self.stdout.write(
                f"Dry run for {day}: would post {result.late_fees} late fee(s) (${result.late_fees * late:,.2f}) "
                f"and {result.door_hangers} door-hanger fee(s) (${result.door_hangers * hanger:,.2f}) on "
                f"{result.accounts} account(s), {result.held} held (assistance pending). Nothing was posted, "
                "printed or sent."
            )
            return
        command_run_record(
            kind="collections",
            label=f"Collections as of {day:%m/%d/%Y}",
            summary=f"{result.late_fees} late fee(s), {result.door_hangers} door hanger(s), {result.held} held, "
            f"{len(result.field_crew)} account(s) for the field crew.",
            files=[
                RunFile(path=path, permission="certification.view_notice")
                for path in (result.late_file, result.door_hanger_file, result.field_crew_file)
                if path
            ],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{day}: {result.late_fees} late fee(s), {result.door_hangers} door hanger(s), {result.held} held "
                f"(assistance pending), {len(result.field_crew)} account(s) for the field crew"
                + (f" in {result.field_crew_file}" if result.field_crew_file else "")
                + "."
            )
        )
