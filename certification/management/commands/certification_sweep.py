from django.core.management.base import BaseCommand, CommandError

from certification.services.sweep import certification_sweep


class Command(BaseCommand):
    help = "Certify to the tax roll every account with charges more than 60 days past due on June 20 of YYYY."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--dry-run", action="store_true", help="print the list and totals; change nothing"
        )

    def handle(self, *args, year, dry_run, **options):
        from kernel.errors import ApplicationError

        if not 2000 <= year <= 2100:
            raise CommandError(f"--year {year} is not a year like 2026.")
        try:
            result = certification_sweep(year=year, dry_run=dry_run)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for candidate in result.certified:
            account = candidate.service_account
            self.stdout.write(
                f"{account.tax_lot:<20} {account.account_number:<12} {candidate.amount:>10.2f}  {account.customer_name}"
            )
        verb = "would be certified" if dry_run else "certified"
        self.stdout.write(
            self.style.SUCCESS(
                f"{year}: {len(result.certified)} account(s) {verb}, delinquent ${result.delinquent_total:,.2f}; "
                f"{result.already} already certified; {result.left_out_for_plans} left out (payment plan in good standing)."
                + (" Dry run: nothing was changed." if dry_run else "")
            )
        )
