import random

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import AccountLink, ServiceAccount, User
from portal.demo import DEMO_LOGINS

# What each staff group may do in admin. Later features add their models here.
GROUP_PERMISSIONS = {
    "Clerks": [
        "accounts.view_serviceaccount",
        "accounts.change_serviceaccount",
        "accounts.view_accountlink",
        "accounts.add_accountlink",
        "accounts.delete_accountlink",
        "accounts.view_user",
    ],
    "Finance": [
        "accounts.view_serviceaccount",
        "accounts.view_accountlink",
    ],
}

STREETS = [
    "Beavercreek Rd",
    "Molalla Ave",
    "Main St",
    "Washington St",
    "Abernethy Rd",
    "Linn Ave",
    "Warner Milne Rd",
    "Leland Rd",
    "Holcomb Blvd",
    "Redland Rd",
    "Maplelane Rd",
    "Division St",
]
FIRST = [
    "Maria",
    "James",
    "Linh",
    "Robert",
    "Aisha",
    "David",
    "Rosa",
    "Michael",
    "Grace",
    "Tomas",
    "Nora",
    "Samuel",
]
LAST = [
    "Garcia",
    "Nguyen",
    "Smith",
    "Johnson",
    "Martinez",
    "Brown",
    "Lee",
    "Hernandez",
    "Davis",
    "Wilson",
    "Lopez",
    "Clark",
]
CITIES = [("Oregon City", "97045"), ("Gladstone", "97027"), ("Milwaukie", "97222"), ("Happy Valley", "97086")]


def demo_account_values(index: int, rng: random.Random) -> dict:
    city, zip_code = CITIES[index % len(CITIES)]
    return {
        "account_number": f"{100000 + index:06d}-01",
        "customer_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "service_address": f"{rng.randint(100, 19999)} {rng.choice(STREETS)}",
        "service_city": city,
        "service_zip": zip_code,
        "tax_lot": (
            f"2S2E{rng.randint(1, 36):02d}{rng.choice('ABCD')}{rng.choice('ABCD')}"
            f"{rng.randint(100, 9900):05d}"
        ),
        "status": ServiceAccount.Status.CLOSED if index % 97 == 96 else ServiceAccount.Status.ACTIVE,
    }


class Command(BaseCommand):
    help = "Load the demo utility: service accounts, a demo customer, a clerk and a finance user."

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
        with transaction.atomic():
            created = self._service_accounts(accounts)
            users = self._logins()
            customer = users["customer"]
            for account in ServiceAccount.objects.order_by("account_number")[:2]:
                AccountLink.objects.get_or_create(user=customer, service_account=account)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {created} service accounts."))
        for role, email, password in DEMO_LOGINS:
            self.stdout.write(f"  {role:<9} {email:<22} {password}")

    def _service_accounts(self, count: int) -> int:
        rng = random.Random(2026)  # the same demo data on every machine
        rows = [ServiceAccount(**demo_account_values(i, rng)) for i in range(count)]
        before = ServiceAccount.objects.count()
        ServiceAccount.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
        return ServiceAccount.objects.count() - before

    def _logins(self) -> dict[str, User]:
        groups = {}
        for name, codenames in GROUP_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=name)
            perms = [
                Permission.objects.get(content_type__app_label=label, codename=codename)
                for label, codename in (code.split(".") for code in codenames)
            ]
            group.permissions.add(*perms)
            groups[name] = group
        users = {}
        for role, email, password in DEMO_LOGINS:
            user = User.objects.create_user(
                email=email,
                password=password,
                first_name=role.capitalize(),
                last_name="Demo",
                is_staff=role != "customer",
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            if role == "clerk":
                user.groups.add(groups["Clerks"])
            elif role == "finance":
                user.groups.add(groups["Finance"])
            users[role] = user
        return users
