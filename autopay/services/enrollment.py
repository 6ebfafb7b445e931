"""Enrolling in card autopay, changing the card, cancelling; and bank-draft agreements."""

import contextlib
import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountLink, ServiceAccount, User
from accounts.notifications import email_send
from autopay.models import AutopayDraft, AutopayEnrollment, BankAccount, BankDraftAgreement
from autopay.notification_kinds import AUTOPAY_CHANGED
from billing import stripe_gateway as gateway
from billing.calendar import DUE_DAY, local_today
from billing.models import SavedCard
from billing.services.payments import stripe_customer_for_user
from kernel.crypto import encrypt
from kernel.errors import ApplicationError
from kernel.money import money


def card_setup_start(*, user: User) -> str:
    """A SetupIntent on the login's Stripe customer, for a card kept for later (off-session)."""
    customer_id = stripe_customer_for_user(user=user)
    intent = gateway.setup_intent_create(
        customer_id=customer_id, idempotency_key=f"portal-user-{user.pk}-setup-{uuid.uuid4()}"
    )
    return intent.client_secret or ""


def card_save(*, user: User, setup_intent_id: str) -> SavedCard:
    """Keep the card the customer confirmed on a SetupIntent of their own Stripe customer."""
    intent = gateway.setup_intent_retrieve(setup_intent_id)
    if intent.customer_id != stripe_customer_for_user(user=user):
        raise ApplicationError(_("That card confirmation does not belong to your login."))
    if intent.status != "succeeded" or not intent.payment_method_id:
        raise ApplicationError(_("The card was not confirmed. Please enter it again."))
    card = gateway.card_retrieve(intent.payment_method_id)
    saved, _created = SavedCard.objects.get_or_create(
        stripe_payment_method_id=card.payment_method_id,
        defaults={
            "user": user,
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        },
    )
    return saved


def card_remove(*, card: SavedCard) -> None:
    """Take the card out of Stripe and out of use; the row stays for the drafts that used it."""
    with contextlib.suppress(gateway.GatewayError):  # Stripe keeps a card nobody will use
        gateway.card_detach(card.stripe_payment_method_id)
    SavedCard.objects.filter(pk=card.pk).update(removed_at=timezone.now())


def card_expires_before(card: SavedCard, day: dt.date) -> bool:
    """A card is good through the last day of its expiry month."""
    return (card.exp_year, card.exp_month) < (day.year, day.month)


def _notify_changed(enrollment: AutopayEnrollment, *, subject, lines: list) -> None:
    email_send(
        kind=AUTOPAY_CHANGED,
        subject=subject,
        template="emails/notice",
        context={
            "lines": lines,
            "link": settings.PORTAL_BASE_URL
            + reverse("autopay_manage", args=[enrollment.service_account_id]),
            "link_text": _("Manage autopay"),
        },
        users=[enrollment.user],
        account_number=enrollment.service_account.account_number,
        reference=f"autopay:{enrollment.pk}",
    )


def _check_choices(
    *,
    user: User,
    card: SavedCard | None,
    bank_account: BankAccount | None,
    draft_day: int,
    max_amount: Decimal | None,
) -> None:
    if (card is None) == (bank_account is None):
        raise ApplicationError(_("Choose a card or a bank account."))
    if card is not None and (card.user_id != user.pk or card.removed_at is not None):
        raise ApplicationError(_("Choose one of your own saved cards."))
    if bank_account is not None and (bank_account.user_id != user.pk or not bank_account.usable):
        raise ApplicationError(_("Choose one of your own bank accounts."))
    if not 1 <= draft_day <= 28:
        raise ApplicationError(_("Choose a day from 1 to 28."))
    if max_amount is not None and max_amount < Decimal("1.00"):
        raise ApplicationError(_("The maximum must be at least $1.00, or left empty for no maximum."))


def _schedule_line(*, card: SavedCard | None, bank_account: BankAccount | None, draft_day: int):
    if card is not None:
        return format_lazy(
            _(
                "We will charge your {card} on day {day} of each month for the amount due on your "
                "latest bill, starting with your next bill. Please pay your current bill yourself if it is due."
            ),
            card=card,
            day=draft_day,
        )
    return format_lazy(
        _(
            "We will debit your {bank} on day {day} of each month (the next banking day when it is a weekend "
            "or holiday, and never sooner than {notice} days after the bill, which tells you the amount) for "
            "the amount due on your latest bill, starting with your next bill. Please pay your current bill "
            "yourself if it is due."
        ),
        bank=bank_account,
        day=draft_day,
        notice=settings.BANK_DRAFT_NOTICE_DAYS,
    )


def autopay_enroll(
    *,
    user: User,
    service_account: ServiceAccount,
    card: SavedCard | None = None,
    bank_account: BankAccount | None = None,
    draft_day: int,
    max_amount: Decimal | None = None,
) -> AutopayEnrollment:
    """Draft this account on `draft_day` (1 to 28) each month, from bills issued from today on,
    with a saved card or a bank account added online. The page links the terms the customer
    accepted once this succeeds."""
    _check_choices(
        user=user, card=card, bank_account=bank_account, draft_day=draft_day, max_amount=max_amount
    )
    if BankDraftAgreement.objects.filter(
        service_account=service_account, status=BankDraftAgreement.Status.ACTIVE
    ).exists():
        raise ApplicationError(
            _(
                "This account is drafted from a bank account on the 20th under a signed agreement. To choose "
                "another day, ask customer service to end that agreement first, then enroll here."
            )
        )
    try:
        with transaction.atomic():
            enrollment = AutopayEnrollment.objects.create(
                service_account=service_account,
                user=user,
                card=card,
                bank_account=bank_account,
                draft_day=draft_day,
                starts_on=local_today(),
                max_amount=max_amount,
            )
    except IntegrityError as exc:
        raise ApplicationError(
            _("This account already has autopay. Change its card or cancel it instead.")
        ) from exc
    lines = [
        format_lazy(_("Autopay is set up for account {number}."), number=service_account.account_number),
        _schedule_line(card=card, bank_account=bank_account, draft_day=draft_day),
    ]
    if draft_day > DUE_DAY:
        lines.append(
            format_lazy(
                _("Bills are due on the {due}th, so a draft on day {day} comes after the due date."),
                due=DUE_DAY,
                day=draft_day,
            )
        )
    _notify_changed(enrollment, subject=_("Autopay is set up"), lines=lines)
    return enrollment


def autopay_change(
    *,
    enrollment: AutopayEnrollment,
    user: User,
    card: SavedCard | None = None,
    bank_account: BankAccount | None = None,
    draft_day: int,
    max_amount: Decimal | None,
) -> AutopayEnrollment:
    """Change the card or bank account, the day or the maximum without cancelling. The old card
    stays saved for one-time payments unless it has expired. Nothing changed sends nothing."""
    if enrollment.user_id != user.pk:
        raise ApplicationError(_("Choose one of your own saved cards."))
    _check_choices(
        user=user, card=card, bank_account=bank_account, draft_day=draft_day, max_amount=max_amount
    )
    old_card = enrollment.card
    method_changed = (enrollment.card_id, enrollment.bank_account_id) != (
        card.pk if card else None,
        bank_account.pk if bank_account else None,
    )
    day_changed = draft_day != enrollment.draft_day
    max_lowered = max_amount is not None and (
        enrollment.max_amount is None or max_amount < enrollment.max_amount
    )
    number = enrollment.service_account.account_number
    lines = []
    if method_changed:
        lines.append(
            format_lazy(
                _("Autopay for account {number} now uses your {card}."),
                number=number,
                card=card or bank_account,
            )
        )
    if draft_day != enrollment.draft_day:
        lines.append(
            format_lazy(
                _("Autopay for account {number} now charges on day {day} of each month."),
                number=number,
                day=draft_day,
            )
        )
    if max_amount != enrollment.max_amount:
        lines.append(
            format_lazy(_("The most autopay will charge is now {maximum}."), maximum=money(max_amount))
            if max_amount
            else _("Autopay no longer has a maximum.")
        )
    if not lines:
        return enrollment
    enrollment.card, enrollment.bank_account = card, bank_account
    enrollment.draft_day, enrollment.max_amount = draft_day, max_amount
    with transaction.atomic():
        list(AutopayEnrollment.objects.select_for_update().filter(pk=enrollment.pk))  # first, as claims do
        enrollment.save(update_fields=["card", "bank_account", "draft_day", "max_amount"])
        # A debit made but not yet sent, and the notice that named it, no longer hold when the
        # method or the day changed, or the maximum came down: withdrawn, it is made again.
        if method_changed or day_changed or max_lowered:
            unsent_debits_withdraw(enrollment=enrollment, cancelled=False)
        if method_changed or day_changed:
            enrollment.drafts.filter(
                status__in=[AutopayDraft.Status.SCHEDULED, AutopayDraft.Status.RETRY]
            ).update(reminder_sent_at=None)
    if old_card is not None and old_card != card and card_expires_before(old_card, local_today()):
        card_remove(card=old_card)  # an expired card can pay nothing: out of Stripe and the lists
    subject = (
        _("Your autopay card was changed")
        if len(lines) == 1 and method_changed and card is not None and old_card is not None
        else _("Your autopay was changed")
    )
    _notify_changed(enrollment, subject=subject, lines=lines)
    return enrollment


def unsent_debits_withdraw(*, enrollment: AutopayEnrollment, cancelled: bool) -> int:
    """A bank debit autopay made but not yet put in a NACHA file is withdrawn when autopay is
    cancelled (the draft is cancelled) or changed (the draft starts again, and the next run makes
    it as autopay now stands). Within the caller's transaction. Returns how many."""
    from autopay.models import AutopayDraft, BankPayment
    from billing.models import Payment

    # The debits' rows are locked as the file build locks them: a debit is in a file or withdrawn.
    debits = list(
        BankPayment.objects.select_for_update()
        .filter(
            file_date__isnull=True,
            payment__status=Payment.Status.PENDING,
            payment__in=AutopayDraft.objects.filter(enrollment=enrollment).values("payment"),
        )
        .values_list("payment_id", flat=True)
    )
    if not debits:
        return 0
    reason = "Autopay was cancelled" if cancelled else "Autopay was changed"
    Payment.objects.filter(pk__in=debits, status=Payment.Status.PENDING).update(
        status=Payment.Status.CANCELED, failure_message=f"{reason} before the debit was sent."
    )
    drafts = AutopayDraft.objects.filter(payment__in=debits)
    if cancelled:
        drafts.update(
            status=AutopayDraft.Status.CANCELLED, failure_message=f"{reason} before the debit was sent."
        )
    else:
        drafts.update(status=AutopayDraft.Status.SCHEDULED, payment=None, reminder_sent_at=None)
    return len(debits)


def autopay_cancel(*, enrollment: AutopayEnrollment, user: User) -> AutopayEnrollment:
    with transaction.atomic():
        enrollment = AutopayEnrollment.objects.select_for_update().get(pk=enrollment.pk)
        if enrollment.status == AutopayEnrollment.Status.CANCELLED:
            return enrollment
        enrollment.status = AutopayEnrollment.Status.CANCELLED
        enrollment.cancelled_at = timezone.now()
        enrollment.save(update_fields=["status", "cancelled_at"])
        unsent_debits_withdraw(enrollment=enrollment, cancelled=True)
    _notify_changed(
        enrollment,
        subject=_("Autopay is cancelled"),
        lines=[
            format_lazy(
                _(
                    "Autopay for account {number} is cancelled. "
                    "No more drafts will be made; please pay your bills another way."
                ),
                number=enrollment.service_account.account_number,
            )
        ],
    )
    return enrollment


def aba_routing_number_valid(number: str) -> bool:
    """The ABA check digit: 3·d1 + 7·d2 + d3 + 3·d4 + 7·d5 + d6 + 3·d7 + 7·d8 + d9 ≡ 0 (mod 10)."""
    if len(number) != 9 or not number.isdigit() or number == "000000000":
        return False
    digits = [int(c) for c in number]
    weights = [3, 7, 1] * 3
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def bank_agreement_validate(
    *, service_account: ServiceAccount, routing_number: str, account_number: str, account_type: str
) -> None:
    """Raise ApplicationError with the first thing wrong with a paper agreement's details."""
    if not aba_routing_number_valid(routing_number):
        raise ApplicationError("That routing number is not valid (its check digit does not match).")
    if not account_number.isdigit() or not 4 <= len(account_number) <= 17:
        raise ApplicationError("The bank account number must be 4 to 17 digits.")
    if account_type not in BankDraftAgreement.AccountType.values:
        raise ApplicationError("Choose checking or savings.")
    if AutopayEnrollment.objects.filter(
        service_account=service_account, status=AutopayEnrollment.Status.ACTIVE
    ).exists():
        raise ApplicationError("This account has card autopay; the customer must cancel it first.")
    if BankDraftAgreement.objects.filter(
        service_account=service_account, status=BankDraftAgreement.Status.ACTIVE
    ).exists():
        raise ApplicationError("This account already has an active bank draft agreement.")


def bank_agreement_record(
    *,
    service_account: ServiceAccount,
    holder_name: str,
    routing_number: str,
    account_number: str,
    account_type: str,
    signed_on: dt.date,
    recorded_by: User | None,
) -> BankDraftAgreement:
    """Record a signed Preauthorized Payments Agreement. The account number is kept encrypted."""
    routing_number = routing_number.strip()
    account_number = "".join(account_number.split())
    bank_agreement_validate(
        service_account=service_account,
        routing_number=routing_number,
        account_number=account_number,
        account_type=account_type,
    )
    try:
        with transaction.atomic():
            return BankDraftAgreement.objects.create(
                service_account=service_account,
                holder_name=holder_name.strip()[:100],
                routing_number=routing_number,
                account_number_encrypted=encrypt(account_number),
                account_last4=account_number[-4:],
                account_type=account_type,
                signed_on=signed_on,
                recorded_by=recorded_by,
            )
    except IntegrityError as exc:
        raise ApplicationError("This account already has an active bank draft agreement.") from exc


def autopay_transfer(*, old: ServiceAccount, new: ServiceAccount, by: User) -> list:
    """A customer moving within the service area keeps autopay: the card enrollment or the bank
    agreement is copied to the new account. The old one ends, unless the final bill is still
    owed: then it stays to draft that bill, as the customer expects."""
    from billing.selectors import account_balance

    final_owed = account_balance(service_account=old) > 0
    moved = _enrollment_transfer(old, new, final_owed=final_owed)
    moved += _agreement_transfer(old, new, by=by, final_owed=final_owed)
    if moved and final_owed:
        moved.append(
            format_lazy(
                _("Your final bill on account {number} is still drafted as usual."), number=old.account_number
            )
        )
    return moved


def _enrollment_transfer(old: ServiceAccount, new: ServiceAccount, *, final_owed: bool) -> list:
    """The active enrollment copied to the new account (if its login is linked there and the new
    account has none); the old one ends unless the final bill is still owed. Returns the lines
    for the customer's email."""
    moved = []
    enrollment = AutopayEnrollment.objects.filter(
        service_account=old, status=AutopayEnrollment.Status.ACTIVE
    ).first()
    if enrollment and not AccountLink.objects.filter(user=enrollment.user, service_account=new).exists():
        # The card is another login's (a co-tenant's): it is theirs to set up on the new account.
        moved.append(
            format_lazy(
                _("Card autopay did not move: the card belongs to a login not linked to account {number}.")
                if enrollment.card_id
                else _(
                    "Bank account autopay did not move: the bank account belongs to a login not linked to "
                    "account {number}."
                ),
                number=new.account_number,
            )
        )
        enrollment = None
    if (
        enrollment
        and not AutopayEnrollment.objects.filter(
            service_account=new, status=AutopayEnrollment.Status.ACTIVE
        ).exists()
    ):
        AutopayEnrollment.objects.create(
            service_account=new,
            user=enrollment.user,
            card=enrollment.card,
            bank_account=enrollment.bank_account,
            draft_day=enrollment.draft_day,
            starts_on=local_today(),
            max_amount=enrollment.max_amount,
            authorization=enrollment.authorization,
        )
        if not final_owed:
            enrollment.status = AutopayEnrollment.Status.CANCELLED
            enrollment.cancelled_at = timezone.now()
            enrollment.save(update_fields=["status", "cancelled_at"])
        moved.append(
            format_lazy(
                _("Autopay moved to account {number}: your {card} on day {day} of each month."),
                number=new.account_number,
                card=enrollment.method,
                day=enrollment.draft_day,
            )
        )
    return moved


def _agreement_transfer(old: ServiceAccount, new: ServiceAccount, *, by: User, final_owed: bool) -> list:
    """The active paper agreement copied to the new account (if it has none); the old one ends
    unless the final bill is still owed. Returns the line for the customer's email."""
    moved = []
    agreement = BankDraftAgreement.objects.filter(
        service_account=old, status=BankDraftAgreement.Status.ACTIVE
    ).first()
    if (
        agreement
        and not BankDraftAgreement.objects.filter(
            service_account=new, status=BankDraftAgreement.Status.ACTIVE
        ).exists()
    ):
        BankDraftAgreement.objects.create(
            service_account=new,
            holder_name=agreement.holder_name,
            routing_number=agreement.routing_number,
            account_number_encrypted=agreement.account_number_encrypted,
            account_last4=agreement.account_last4,
            account_type=agreement.account_type,
            signed_on=agreement.signed_on,
            recorded_by=by,
        )
        if not final_owed:
            agreement.status = BankDraftAgreement.Status.INACTIVE
            agreement.inactive_reason = f"Moved to account {new.account_number}"
            agreement.save(update_fields=["status", "inactive_reason"])
        moved.append(
            format_lazy(
                _("Bank drafts on the 20th moved to account {number}, from the account ending {last4}."),
                number=new.account_number,
                last4=agreement.account_last4,
            )
        )
    return moved
