from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ROLES, roles_setup


class Command(BaseCommand):
    help = (
        "Create or update the staff roles (groups Clerks, Finance and Supervisors) with the "
        "permissions the code gives them. Safe to run on every deploy."
    )

    def handle(self, *args, **options):
        try:
            counts = roles_setup()
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] >= 1:
            for role, count in counts.items():
                self.stdout.write(f"{role}: {len(ROLES[role])} capabilities, {count} permissions")
            self.stdout.write(self.style.SUCCESS("Staff roles are up to date."))
