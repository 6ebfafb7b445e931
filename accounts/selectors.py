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


def service_accounts_search(*, query: str, limit: int = 50) -> list[ServiceAccount]:
    """Staff search: an account number with or without its dash, or words of a name, service or
    mailing address, tax lot, email or phone (the account's, or a linked login's email)."""
    from django.db.models import Q

    text = (query or "").strip()
    if not text:
        return []
    key = account_number_key(text)
    by_number = ServiceAccount.objects.annotate(
        number_key=Upper(Replace("account_number", Value("-"), Value("")))
    ).filter(number_key__startswith=key)
    digits = re.sub(r"\D", "", text)
    words = Q()
    for word in text.split():
        words &= (
            Q(customer_name__icontains=word)
            | Q(service_address__icontains=word)
            | Q(mailing_name__icontains=word)
            | Q(mailing_address__icontains=word)
            | Q(tax_lot__icontains=word)
            | Q(email__icontains=word)
            | Q(links__user__email__icontains=word)
        )
    if len(digits) >= 7:  # a phone number, however it was written
        words |= Q(phone__icontains=digits[-7:-4]) & Q(phone__icontains=digits[-4:])
    found = list(by_number.order_by("account_number")[:limit])
    seen = {a.pk for a in found}
    for account in ServiceAccount.objects.filter(words).distinct().order_by("account_number")[: limit * 2]:
        if account.pk not in seen and len(found) < limit:
            found.append(account)
            seen.add(account.pk)
    return found


def follow_ups_due(*, today):
    """Notes whose follow-up date has come, the latest note of each account only: a newer note
    (the follow-up itself, say) takes the account off the list."""
    from django.db.models import Exists, OuterRef

    from accounts.models import AccountNote

    newer = AccountNote.objects.filter(
        service_account=OuterRef("service_account"), created_at__gt=OuterRef("created_at")
    )
    return (
        AccountNote.objects.filter(follow_up_on__lte=today)
        .exclude(Exists(newer))
        .order_by("follow_up_on", "service_account__account_number")
    )
