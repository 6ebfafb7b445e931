"""Adjustments: credits, debits, fee waivers and write-offs that staff post to an account.

Each is a ledger row (source key `adjustment:<id>`) with a reason from the utility's list and a
memo. One above ADJUSTMENT_APPROVAL_LIMIT waits for a supervisor (someone other than who asked),
under TWO_PERSON_RULE. Every step is audited in the same transaction. A posted adjustment is
undone only by a new reversing row.
"""

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import ServiceAccount, User
from billing.calendar import add_months, local_today
from billing.models import Adjustment, AdjustmentReason, LedgerEntry
from billing.selectors import account_balance
from billing.services.ledger import Posting, billing_accounts_lock, ledger_post, ledger_reverse
from kernel.audit import audit_record
from kernel.errors import ApplicationError
from kernel.money import ZERO

FEE_KINDS = (LedgerEntry.Kind.LATE_FEE, LedgerEntry.Kind.DOOR_HANGER_FEE)


def fee_unpaid(fee: LedgerEntry) -> Decimal:
    """What is left of a fee after the reversals that name it (earlier waivers)."""
    reversed_ = sum((r.amount for r in fee.reversals.all()), ZERO)
    return fee.amount + reversed_


def _write_off_check(service_account: ServiceAccount, amount: Decimal) -> None:
    """A write-off forgives what is owed: never more, or it would turn into a credit to pay out."""
    owed = account_balance(service_account=service_account)
    if amount > owed:
        raise ApplicationError(
            f"The account owes ${max(owed, ZERO):,.2f}: a write-off can be that much at most."
        )


def adjustment_request(
    *,
    service_account: ServiceAccount,
    kind: str,
    amount: Decimal,
    reason: AdjustmentReason,
    memo: str,
    by: User,
    fee_entry: LedgerEntry | None = None,
    token=None,
) -> Adjustment:
    """Ask for an adjustment: posted at once up to the approval limit, else queued for a supervisor.
    With the form's one-time `token`, asking twice (a double click) returns the first one."""
    if token is not None:
        earlier = Adjustment.objects.filter(request_token=token).first()
        if earlier is not None:
            return earlier
    memo = (memo or "").strip()
    _adjustment_check(
        service_account=service_account,
        kind=kind,
        amount=amount,
        reason=reason,
        memo=memo,
        by=by,
        fee_entry=fee_entry,
    )
    waits = _waits_for_approval(service_account=service_account, amount=amount, by=by)
    try:
        with transaction.atomic():
            if kind == Adjustment.Kind.WRITE_OFF:
                # Checked with the account's balance row locked: two clerks cannot both write it off.
                billing_accounts_lock(service_account_ids=[service_account.pk])
                _write_off_check(service_account, amount)
            adjustment = Adjustment.objects.create(
                service_account=service_account,
                kind=kind,
                amount=amount,
                reason=reason,
                memo=memo[:500],
                fee_entry=fee_entry,
                request_token=token,
                status=Adjustment.Status.AWAITING_APPROVAL if waits else Adjustment.Status.POSTED,
                requested_by=by,
            )
            if waits:
                _audit(
                    adjustment,
                    by,
                    "adjustment.request",
                    f"asked for a {_words(adjustment)} (over the approval limit)",
                )
            else:
                _post(adjustment)
                _audit(adjustment, by, "adjustment.post", f"posted a {_words(adjustment)}")
    except IntegrityError:
        if token is None:
            raise
        return Adjustment.objects.get(request_token=token)  # the same form, posted twice at once
    return adjustment


def _adjustment_check(*, service_account, kind: str, amount, reason, memo: str, by: User, fee_entry) -> None:
    """ApplicationError for the first thing wrong with an adjustment asked for."""
    if not by.has_perm("billing.add_adjustment"):
        raise ApplicationError("Your role cannot post adjustments.")
    if kind not in Adjustment.Kind.values:
        raise ApplicationError("Choose a credit, a debit, a fee waiver or a write-off.")
    if amount is None or amount <= 0:
        raise ApplicationError("Enter an amount above $0.00.")
    if not reason.active:
        raise ApplicationError(f"The reason {reason.name!r} is retired; choose another.")
    if not memo:
        raise ApplicationError("Write a memo: what happened and who asked.")
    if kind == Adjustment.Kind.FEE_WAIVER:
        if (
            fee_entry is None
            or fee_entry.service_account_id != service_account.pk
            or fee_entry.kind not in FEE_KINDS
        ):
            raise ApplicationError("Choose one of this account's late or door-hanger fees to waive.")
        left = fee_unpaid(fee_entry)
        if amount > left:
            raise ApplicationError(f"That fee has ${left:,.2f} left to waive; enter that or less.")
    elif fee_entry is not None:
        raise ApplicationError("Only a fee waiver names a fee.")


def _waits_for_approval(*, service_account, amount: Decimal, by: User) -> bool:
    """Above the limit (counting what this account was adjusted today, so five small credits are
    one large one) an adjustment waits for a supervisor. Only a one-person office, with the rule
    off, lets a supervisor post a large one at once; a clerk's always waits."""
    today_total = (
        Adjustment.objects.filter(
            service_account=service_account,
            status__in=[Adjustment.Status.POSTED, Adjustment.Status.AWAITING_APPROVAL],
            requested_at__date=timezone.localdate(),
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    large = today_total + amount > settings.ADJUSTMENT_APPROVAL_LIMIT
    return large and (settings.TWO_PERSON_RULE or not by.has_perm("billing.approve_adjustment"))


def adjustment_approve(*, adjustment: Adjustment, by: User) -> Adjustment:
    if not by.has_perm("billing.approve_adjustment"):
        raise ApplicationError("Only a supervisor can approve an adjustment above the limit.")
    with transaction.atomic():
        adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
        if adjustment.status != Adjustment.Status.AWAITING_APPROVAL:
            raise ApplicationError("This adjustment is not waiting for approval.")
        if settings.TWO_PERSON_RULE and adjustment.requested_by_id == by.pk:
            raise ApplicationError("You asked for this adjustment, so someone else must approve it.")
        if adjustment.kind == Adjustment.Kind.FEE_WAIVER and adjustment.amount > fee_unpaid(
            adjustment.fee_entry
        ):
            raise ApplicationError("That fee has been waived or reversed since; decline this and ask again.")
        if adjustment.kind == Adjustment.Kind.WRITE_OFF:
            billing_accounts_lock(service_account_ids=[adjustment.service_account_id])
            _write_off_check(adjustment.service_account, adjustment.amount)
        adjustment.status = Adjustment.Status.POSTED
        adjustment.reviewed_by, adjustment.reviewed_at = by, timezone.now()
        adjustment.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        _post(adjustment)
        _audit(adjustment, by, "adjustment.approve", f"approved and posted a {_words(adjustment)}")
    return adjustment


def adjustment_decline(*, adjustment: Adjustment, by: User, reason: str) -> Adjustment:
    if not by.has_perm("billing.approve_adjustment"):
        raise ApplicationError("Only a supervisor can decline an adjustment.")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why it is declined: the clerk who asked reads it.")
    with transaction.atomic():
        adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
        if adjustment.status != Adjustment.Status.AWAITING_APPROVAL:
            raise ApplicationError("This adjustment is not waiting for approval.")
        adjustment.status = Adjustment.Status.DECLINED
        adjustment.reviewed_by, adjustment.reviewed_at = by, timezone.now()
        adjustment.decision_reason = reason[:300]
        adjustment.save(update_fields=["status", "reviewed_by", "reviewed_at", "decision_reason"])
        _audit(adjustment, by, "adjustment.decline", f"declined a {_words(adjustment)}: {reason[:120]}")
    return adjustment


def adjustment_reverse(*, adjustment: Adjustment, by: User, memo: str) -> Adjustment:
    """Undo a posted adjustment with a reversing ledger row; the original row stays."""
    if not by.has_perm("billing.reverse_adjustment"):
        raise ApplicationError("Your role cannot reverse adjustments.")
    memo = (memo or "").strip()
    if not memo:
        raise ApplicationError("Write why it is reversed.")
    with transaction.atomic():
        adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
        if adjustment.status != Adjustment.Status.POSTED:
            raise ApplicationError("Only a posted adjustment can be reversed.")
        adjustment.reversal_entry = ledger_reverse(
            entry=adjustment.ledger_entry,
            posted_on=local_today(),
            source_key=f"adjustment-reversal:{adjustment.pk}",
            description=f"Reversed: {adjustment.reason.name}"[:200],
        )
        adjustment.status = Adjustment.Status.REVERSED
        adjustment.save(update_fields=["status", "reversal_entry"])
        _audit(adjustment, by, "adjustment.reverse", f"reversed a {_words(adjustment)}: {memo[:120]}")
    return adjustment


def _post(adjustment: Adjustment) -> None:
    today = local_today()
    key = f"adjustment:{adjustment.pk}"
    label = adjustment.reason.name[:200]  # customers read ledger text; the memo is staff's
    if adjustment.kind == Adjustment.Kind.FEE_WAIVER:
        entry = ledger_reverse(
            entry=adjustment.fee_entry,
            posted_on=today,
            source_key=key,
            description=f"Fee waived. {label}"[:200],
            amount=adjustment.amount,
        )
    else:
        signed = adjustment.amount if adjustment.kind == Adjustment.Kind.DEBIT else -adjustment.amount
        (entry,) = ledger_post(
            postings=[
                Posting(
                    service_account_id=adjustment.service_account_id,
                    kind=LedgerEntry.Kind.ADJUSTMENT,
                    amount=signed,
                    posted_on=today,
                    source_key=key,
                    # A debit is due like a bill posted today: on the 20th of next month.
                    due_date=add_months(today.replace(day=1), 1).replace(day=20) if signed > 0 else None,
                    description=(
                        f"Written off. {label}" if adjustment.kind == Adjustment.Kind.WRITE_OFF else label
                    )[:200],
                )
            ]
        )
    adjustment.ledger_entry = entry
    adjustment.save(update_fields=["ledger_entry"])


def _words(adjustment: Adjustment) -> str:
    return (
        f"{adjustment.get_kind_display().split(' (')[0].lower()} of ${adjustment.amount:,.2f} on account "
        f"{adjustment.service_account.account_number} ({adjustment.reason.name})"
    )


def _audit(adjustment: Adjustment, by: User, action: str, what: str) -> None:
    audit_record(
        actor=by,
        action=action,
        target=adjustment,
        summary=f"{by.email} {what}"[:300],
        changes={"kind": adjustment.kind, "amount": str(adjustment.amount), "memo": adjustment.memo},
        account_number=adjustment.service_account.account_number,
    )


def adjustments_awaiting() -> int:
    return Adjustment.objects.filter(status=Adjustment.Status.AWAITING_APPROVAL).count()
