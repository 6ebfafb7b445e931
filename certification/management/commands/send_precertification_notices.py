from django.core.management.base import BaseCommand, CommandError

from certification.services.notices import notices_precertification
from kernel.runs import RunFile, command_run_record


class Command(BaseCommand):
    help = "The April notice to every account whose charges would be certified if still unpaid on June 20 of YYYY."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)

    def handle(self, *args, year, **options):
        if not 2000 <= year <= 2100:
            raise CommandError(f"--year {year} is not a year like 2026.")
        run = notices_precertification(year=year)
        command_run_record(
            kind="precertification_notices",
            label=f"Pre-certification notices for {year}",
            summary=f"{len(run.letters)} pre-certification notice(s); {run.already} sent before.",
            files=[RunFile(path=run.batch_file, permission="certification.view_notice")]
            if run.batch_file
            else [],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Pre-certification notices for {year}: {len(run.letters)} letter(s)"
                + (f" in {run.batch_file}" if run.batch_file else "")
                + f"; {run.already} sent before."
            )
        )
