"""The cards and bank accounts a login keeps for paying: removing one it no longer uses."""

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from autopay.models import AutopayEnrollment, BankAccount, PayByText, ScheduledPayment
from autopay.services.enrollment import card_remove
from billing.models import Payment, SavedCard
from kernel.errors import ApplicationError
from kernel.i18n import local_date


def payment_method_uses(*, card: SavedCard | None = None, bank_account: BankAccount | None = None) -> list:
    """What still pays with it, in the customer's words: active autopay, scheduled payments, and
    (for a bank account) debits not yet sent to the bank."""
    method = {"card": card} if card is not None else {"bank_account": bank_account}
    uses = [
        format_lazy(_("autopay for account {number}"), number=number)
        for number in AutopayEnrollment.objects.filter(
            **method, status=AutopayEnrollment.Status.ACTIVE
        ).values_list("service_account__account_number", flat=True)
    ]
    uses += [
        format_lazy(_("the payment scheduled for {date}"), date=local_date(day, "DATE_FORMAT"))
        for day in ScheduledPayment.objects.filter(
            **method, status=ScheduledPayment.Status.SCHEDULED
        ).values_list("pay_on", flat=True)
    ]
    uses += [
        format_lazy(_("pay by text for account {number}"), number=number)
        for number in PayByText.objects.filter(**method, ended_at__isnull=True).values_list(
            "service_account__account_number", flat=True
        )
    ]
    if bank_account is not None:
        uses += [
            format_lazy(_("the payment to be debited on {date}"), date=local_date(day, "DATE_FORMAT"))
            for day in Payment.objects.filter(
                bank_debit__bank_account=bank_account, bank_debit__file_date__isnull=True, status="pending"
            ).values_list("received_on", flat=True)
        ]
    return uses


def payment_method_remove(
    *, user: User, card: SavedCard | None = None, bank_account: BankAccount | None = None
):
    """Stop keeping a card or bank account for this login. Refused while something still pays
    with it (the customer changes or cancels that first): nothing is left without a way to pay."""
    chosen = card or bank_account
    if chosen is None or chosen.user_id != user.pk or chosen.removed_at is not None:
        raise ApplicationError(_("That card or bank account is not one of yours."))
    with transaction.atomic():
        # Locked so a payment scheduled at this moment either sees it removed or is counted here.
        type(chosen).objects.select_for_update().get(pk=chosen.pk)
        uses = payment_method_uses(card=card, bank_account=bank_account)
        if uses:
            raise ApplicationError(
                format_lazy(
                    _(
                        "Your {method} is still used for {uses}. Change or cancel that first; nothing was removed."
                    ),
                    method=chosen,
                    uses=", ".join(str(use) for use in uses),
                )
            )
        if bank_account is not None:
            BankAccount.objects.filter(pk=bank_account.pk).update(removed_at=timezone.now())
    if card is not None:
        card_remove(card=card)  # out of Stripe too (after the lock: Stripe is called)
