from django.db.models import QuerySet

from accounts.models import ServiceAccount, User


def service_account_list_for_user(*, user: User) -> QuerySet[ServiceAccount]:
    """The service accounts this login may see. Every customer page starts here."""
    if not user.is_authenticated:
        return ServiceAccount.objects.none()
    return ServiceAccount.objects.filter(links__user=user).order_by("account_number")
