from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import ServiceAccount, User


def service_account_list_for_user(*, user: User) -> QuerySet[ServiceAccount]:
    """The service accounts this login may see. Every customer page starts here."""
    if not user.is_authenticated:
        return ServiceAccount.objects.none()
    return ServiceAccount.objects.filter(links__user=user).order_by("account_number")


def service_account_get_for_user(*, user: User, pk: int) -> ServiceAccount:
    """The login's own service account, or 404: another customer's id is simply not found."""
    return get_object_or_404(service_account_list_for_user(user=user), pk=pk)
