"""Demo data for the accounts app: service accounts and the demo logins in their staff roles."""

import random

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from accounts.demo_logins import DEMO_LOGINS, DEMO_STAFF_TOTP_KEY
from accounts.models import AccountLink, ServiceAccount, User
from accounts.roles import roles_setup

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


def seed(*, accounts: int, **context) -> dict:
    """Service accounts and the demo logins: a customer, and a clerk, a finance user and a
    supervisor in the roles `setup_roles` makes."""
    rng = random.Random(2026)  # the same demo data on every machine
    rows = [ServiceAccount(**demo_account_values(i, rng)) for i in range(accounts)]
    ServiceAccount.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    roles_setup()
    groups = {"clerk": "Clerks", "finance": "Finance", "supervisor": "Supervisors"}
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
        if user.is_staff:
            from allauth.mfa.totp.internal.auth import TOTP

            TOTP.activate(user, DEMO_STAFF_TOTP_KEY)
        if role in groups:
            user.groups.add(Group.objects.get(name=groups[role]))
        users[role] = user
    for account in ServiceAccount.objects.order_by("account_number")[:2]:
        AccountLink.objects.get_or_create(user=users["customer"], service_account=account)
    return {"users": users}
