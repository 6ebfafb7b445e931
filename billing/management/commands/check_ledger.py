from django.core.management.base import BaseCommand, CommandError

from billing.selectors import ledger_balance_mismatches


class Command(BaseCommand):
    help = "Verify every account's balance against its ledger rows; exit 1 listing the accounts that differ."

    def handle(self, *args, **options):
        mismatches = ledger_balance_mismatches()
        if not mismatches:
            self.stdout.write(self.style.SUCCESS("Every balance matches its ledger."))
            return
        for row in mismatches:
            self.stderr.write(
                f"{row.account_number}: balance {row.balance:.2f}, ledger {row.ledger_total:.2f}"
            )
        raise CommandError(f"{len(mismatches)} account(s) have a balance that differs from their ledger.")
