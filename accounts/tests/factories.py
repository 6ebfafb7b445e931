import factory
from allauth.account.models import EmailAddress

from accounts.models import AccountLink, ServiceAccount, User

PASSWORD = "Correct-Horse-9!"
# Staff must use two-step verification: staff logins made here have an authenticator with this key.
STAFF_TOTP_KEY = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        obj.save()
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)
        if create and obj.is_staff:
            from allauth.mfa.totp.internal.auth import TOTP

            TOTP.activate(obj, STAFF_TOTP_KEY)


class ServiceAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAccount

    account_number = factory.Sequence(lambda n: f"{200000 + n}-01")
    customer_name = factory.Faker("name")
    service_address = factory.Faker("street_address")
    service_city = "Oregon City"
    service_zip = "97045"
    tax_lot = factory.Sequence(lambda n: f"2S2E29AB{n:05d}")


class AccountLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountLink

    user = factory.SubFactory(UserFactory)
    service_account = factory.SubFactory(ServiceAccountFactory)


def staff_user(role: str | None, **kwargs) -> User:
    """A staff login (with an authenticator) in one of the roles `setup_roles` makes:
    "Clerks", "Finance", "Supervisors", or None for staff with no role."""
    from django.contrib.auth.models import Group

    from accounts.roles import ROLES, roles_setup

    if Group.objects.filter(name__in=ROLES).count() < len(ROLES):
        roles_setup()
    user = UserFactory(is_staff=True, **kwargs)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


def signed_in(user: User):
    """A test client signed in as `user`."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def staff_client(role: str | None):
    """A test client signed in as a new staff login in `role` (see staff_user)."""
    return signed_in(staff_user(role))
