import re

from django.db.models import QuerySet, Value
from django.db.models.functions import Replace, Upper
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


def account_number_key(number: str) -> str:
    """An account number as compared: no spaces or dashes, upper case ("100001 01" = "100001-01")."""
    return re.sub(r"[\s\-]", "", number or "").upper()


def service_account_find_by_number(*, number: str) -> ServiceAccount | None:
    """The account a customer or clerk means by the number they typed, with or without its dash
    and spaces. Uses the index on the same expression (accounts_sa_number_key_idx)."""
    key = account_number_key(number)
    if not key:
        return None
    return (
        ServiceAccount.objects.annotate(number_key=Upper(Replace("account_number", Value("-"), Value(""))))
        .filter(number_key=key)
        .order_by("pk")
        .first()
    )
