"""Customers' requests to start, stop or move service, and the clerk's steps that carry them out.

A request is received from the portal; a clerk opens the new account (moving in), closes the
old one with its final bill on the stop date (moving out), and for a move within the service
area moves any credit and the autopay to the new account. The customer is emailed at each step,
and the request is done when no step is left.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountLink, ServiceAccount, User
from accounts.notifications import email_send, users_for_account
from billing.calendar import local_today
from billing.hooks import ACCOUNT_TRANSFER_PROVIDERS
from billing.models import AccountService, Bill, LedgerEntry, Refund, ServiceRequest
from billing.selectors import account_balance
from billing.services.ledger import Posting, billing_accounts_lock, ledger_post
from billing.services.service_changes import first_unbilled_day, service_account_close, service_account_open
from kernel.audit import audit_record
from kernel.errors import ApplicationError
from kernel.i18n import local_date
from kernel.money import ZERO, money

REQUEST_DAYS_AHEAD = 90
EMAIL_KIND = "service_request"

STOP_FIELDS = ["forwarding_address", "forwarding_city", "forwarding_state", "forwarding_zip"]
START_FIELDS = ["customer_name", "service_address", "service_city", "service_zip", "phone", "email", "note"]


def _check_date(day: dt.date | None, *, today: dt.date, missing, out_of_range) -> None:
    if day is None:
        raise ApplicationError(missing)
    if not today <= day <= today + dt.timedelta(days=REQUEST_DAYS_AHEAD):
        raise ApplicationError(format_lazy(out_of_range, days=REQUEST_DAYS_AHEAD))


def service_request_submit(*, user: User, kind: str, values: dict) -> ServiceRequest:
    """Record a customer's request and tell them and the clerks it came in."""
    if kind not in ServiceRequest.Kind.values:
        raise ApplicationError(_("Choose what you need: start, stop or move service."))
    today = local_today()
    request = ServiceRequest(kind=kind, requested_by=user, language=translation.get_language() or "")
    if kind in (ServiceRequest.Kind.MOVE_OUT, ServiceRequest.Kind.TRANSFER):
        _stop_part_set(request, user=user, values=values, today=today)
    if kind in (ServiceRequest.Kind.MOVE_IN, ServiceRequest.Kind.TRANSFER):
        _start_part_set(request, user=user, values=values, today=today)
    if kind == ServiceRequest.Kind.TRANSFER:
        # The final bill goes to the new address.
        request.forwarding_address = request.service_address
        request.forwarding_city = request.service_city
        request.forwarding_state = request.from_account.service_state
        request.forwarding_zip = request.service_zip
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as exc:
        raise ApplicationError(_("We are already working on a request for this account.")) from exc
    audit_record(
        actor=user,
        action="service_request.submit",
        target=request,
        summary=f"{user.email} asked: {request.get_kind_display()} (request {request.pk})",
        account_number=request.from_account.account_number if request.from_account else "",
    )
    _tell_customer(request, _request_received_lines(request), subject=_("We received your request"))
    if request.from_account:
        _stop_asked_tell_linked(request, user=user)
    _request_tell_staff(request, user=user)
    return request


def _stop_part_set(request: ServiceRequest, *, user: User, values: dict, today: dt.date) -> None:
    """The stop of a move out or a move: one of the customer's active accounts, the last day and,
    for a move out, the forwarding address of the final bill."""
    account = values.get("from_account")
    if (
        not isinstance(account, ServiceAccount)
        or not AccountLink.objects.filter(user=user, service_account=account).exists()
    ):
        raise ApplicationError(_("Choose one of your accounts."))
    if account.status != ServiceAccount.Status.ACTIVE:
        raise ApplicationError(_("Service on this account has stopped already."))
    _check_date(
        values.get("stop_on"),
        today=today,
        missing=_("Enter the last day of service."),
        out_of_range=_("The last day of service must be between today and {days} days from now."),
    )
    request.from_account = account
    request.stop_on = values["stop_on"]
    if request.kind != ServiceRequest.Kind.MOVE_OUT:
        return
    if not all((values.get(name) or "").strip() for name in STOP_FIELDS):
        raise ApplicationError(
            _("Enter the forwarding address for your final bill: street, city, state and ZIP code.")
        )
    for name in STOP_FIELDS:
        setattr(
            request, name, values[name].strip().upper() if name.endswith("state") else values[name].strip()
        )


def _start_part_set(request: ServiceRequest, *, user: User, values: dict, today: dt.date) -> None:
    """The start of a move in or a move: the first day, the name and address, a phone."""
    _check_date(
        values.get("start_on"),
        today=today,
        missing=_("Enter the first day of service."),
        out_of_range=_("The first day of service must be between today and {days} days from now."),
    )
    if not all(
        (values.get(name) or "").strip() for name in ("customer_name", "service_address", "service_zip")
    ):
        raise ApplicationError(_("Enter the name for the account and the address where service starts."))
    if not (values.get("phone") or "").strip():
        raise ApplicationError(_("Enter a phone number where we can reach you about this request."))
    request.start_on = values["start_on"]
    for name in START_FIELDS:
        setattr(request, name, (values.get(name) or "").strip())
    request.email = request.email or user.email


def _stop_asked_tell_linked(request: ServiceRequest, *, user: User) -> None:
    """Anyone else linked to the account (an owner, a co-tenant) hears that its service will stop."""
    account = request.from_account
    others = [u for u in users_for_account(service_account=account) if u.pk != user.pk]
    email_send(
        kind=EMAIL_KIND,
        subject=format_lazy(
            _("Service on account {number} was asked to stop"), number=account.account_number
        ),
        template="emails/notice",
        context={
            "lines": [
                format_lazy(
                    _("{email} asked us to stop service at {address} after {date}."),
                    email=user.email,
                    address=account.service_address,
                    date=local_date(request.stop_on),
                ),
                _("If you did not expect this, call us before that day."),
            ]
        },
        users=others,
        addresses=[account.email] if account.email else [],
        required=True,
        reference=f"service_request:{request.pk}:linked",
        account_number=account.account_number,
    )


def _request_tell_staff(request: ServiceRequest, *, user: User) -> None:
    """The staff who work requests hear of it, in the staff's language whatever the customer's."""
    with translation.override(settings.LANGUAGE_CODE):
        what = str(request.get_kind_display())
    workers = User.objects.filter(
        Q(groups__permissions__codename="change_servicerequest")
        | Q(user_permissions__codename="change_servicerequest"),
        is_active=True,
        is_staff=True,
    ).distinct()
    email_send(
        kind="staff",
        subject=f"Service request {request.pk}: {what}",
        template="emails/notice",
        context={"lines": [f"{user.email} asked: {what}. It is in the start, stop and move requests queue."]},
        users=list(workers),
        required=True,
        reference=f"service_request:{request.pk}:staff",
    )


def _request_received_lines(request: ServiceRequest) -> list:
    lines = []
    if request.stops:
        lines.append(
            format_lazy(
                _("Service at {address} (account {number}) stops after {date}."),
                address=request.from_account.service_address,
                number=request.from_account.account_number,
                date=local_date(request.stop_on),
            )
        )
        lines.append(
            format_lazy(
                _("Your final bill will be mailed to {address}, {city} and emailed to you."),
                address=request.forwarding_address,
                city=request.forwarding_city,
            )
        )
    if request.starts:
        lines.append(
            format_lazy(
                _("Service at {address} starts on {date}, in the name of {name}."),
                address=request.service_address,
                date=local_date(request.start_on),
                name=request.customer_name,
            )
        )
    lines.append(
        _("A clerk will email you at each step. You can withdraw the request until a clerk starts on it.")
    )
    return lines


def _tell_customer(request: ServiceRequest, lines: list, *, subject) -> None:
    # The login gets its own language; an email typed on the request gets the request's.
    with translation.override(request.language or settings.LANGUAGE_CODE):
        _email_customer(request, lines, subject=subject)


def _email_customer(request: ServiceRequest, lines: list, *, subject) -> None:
    email_send(
        kind=EMAIL_KIND,
        subject=subject,
        template="emails/notice",
        context={"lines": lines},
        users=[request.requested_by],
        addresses=[request.email] if request.email else [],
        required=True,
        reference=f"service_request:{request.pk}",
        account_number=(request.from_account or request.new_account).account_number
        if (request.from_account or request.new_account)
        else "",
    )


def _locked(request: ServiceRequest) -> ServiceRequest:
    locked = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status not in ServiceRequest.OPEN_STATUSES:
        raise ApplicationError(
            f"Request {locked.pk} is {locked.get_status_display().lower()}: nothing to do."
        )
    return locked


def service_request_withdraw(*, request: ServiceRequest, user: User) -> ServiceRequest:
    """The customer changes their mind, before a clerk has done anything."""
    with transaction.atomic():
        locked = ServiceRequest.objects.select_for_update().get(pk=request.pk)
        if locked.requested_by_id != user.pk:
            raise ApplicationError(_("This request is not yours."))
        if locked.status != ServiceRequest.Status.RECEIVED:
            raise ApplicationError(
                _("A clerk has started on this request: call us to change it.")
                if locked.status == ServiceRequest.Status.IN_PROGRESS
                else _("This request is closed.")
            )
        locked.status = ServiceRequest.Status.WITHDRAWN
        locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=user,
        action="service_request.withdraw",
        target=locked,
        summary=f"{user.email} withdrew request {locked.pk}",
    )
    return locked


def service_request_decline(*, request: ServiceRequest, by: User, reason: str) -> ServiceRequest:
    """A clerk turns a request down (a duplicate, an address we do not serve), or ends one that
    cannot be finished; steps done already (an account opened or closed) stay done."""
    if not by.has_perm("billing.change_servicerequest"):
        raise ApplicationError("Your role cannot work service requests.")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Write the reason the customer will read.")
    with transaction.atomic():
        locked = _locked(request)
        locked.status = ServiceRequest.Status.DECLINED
        locked.decline_reason = reason
        locked.handled_by = by
        locked.save(update_fields=["status", "decline_reason", "handled_by", "updated_at"])
        audit_record(
            actor=by,
            action="service_request.decline",
            target=locked,
            summary=f"{by.email} declined request {locked.pk}: {reason}",
        )
    _tell_customer(
        locked,
        [_("We cannot carry out your request as asked:"), reason, _("Call us if you have questions.")],
        subject=_("About your request to start, stop or move service"),
    )
    return locked


def _step_done(locked: ServiceRequest, by: User, fields: list[str]) -> None:
    locked.handled_by = by
    locked.status = ServiceRequest.Status.IN_PROGRESS if locked.steps_left else ServiceRequest.Status.DONE
    locked.save(update_fields=[*fields, "handled_by", "status", "updated_at"])


def service_request_open_account(
    *,
    request: ServiceRequest,
    by: User,
    tax_lot: str,
    sewer_units: Decimal | None = None,
    surface_water_units: Decimal | None = None,
    water: bool = False,
) -> ServiceAccount:
    """Open the account at the new address, in the requester's login, served from the start date."""
    if not by.has_perm("billing.change_servicerequest"):
        raise ApplicationError("Your role cannot work service requests.")
    with transaction.atomic():
        locked = _locked(request)
        if "open" not in locked.steps_left:
            raise ApplicationError("The new account is open already.")
        old = locked.from_account
        # Asked for a day in a month billed since (the request waited over a month's end): the
        # account starts on the first day not billed, and the clerk bills the days before.
        starts_on = max(locked.start_on, first_unbilled_day())
        account = service_account_open(
            by=by,
            customer_name=locked.customer_name,
            service_address=locked.service_address,
            service_city=locked.service_city,
            service_state=old.service_state if old else "",
            service_zip=locked.service_zip,
            tax_lot=tax_lot,
            email=locked.email,
            phone=locked.phone,
            sewer_units=sewer_units,
            surface_water_units=surface_water_units,
            water=water,
            service_starts_on=starts_on,
        )
        AccountLink.objects.get_or_create(user=locked.requested_by, service_account=account)
        locked.new_account = account
        _step_done(locked, by, ["new_account"])
    lines = [
        format_lazy(
            _("Your new account {number} is open for service at {address} from {date}."),
            number=account.account_number,
            address=account.service_address,
            date=local_date(account.service_starts_on),
        ),
        _(
            "It is linked to your login: sign in to see it. Your first bill counts the days from the start date."
        ),
    ]
    _tell_customer(locked, lines + _done_lines(locked), subject=_("Your new account is open"))
    return account


def service_request_close_account(*, request: ServiceRequest, by: User, final_read: Decimal | None = None):
    """Close the old account on the stop date with its final bill, mailed to the forwarding address.
    An account a clerk closed another way already has its final bill: the request takes that one."""
    if not by.has_perm("billing.change_servicerequest"):
        raise ApplicationError("Your role cannot work service requests.")
    with transaction.atomic():
        locked = _locked(request)
        if "close" not in locked.steps_left:
            raise ApplicationError("The old account is closed already.")
        old = locked.from_account
    old.refresh_from_db()
    if old.status == ServiceAccount.Status.CLOSED:
        bill = Bill.objects.filter(service_account=old, stopped_on__isnull=False).order_by("-period").first()
        if bill is None:
            raise ApplicationError(
                f"Account {old.account_number} is closed without a final bill: decline the request."
            )
    else:
        # Its own transaction, and its email after it: no lock on the request is held meanwhile.
        bill = service_account_close(
            service_account=old,
            stop_on=locked.stop_on,
            final_read=final_read,
            by=by,
            forwarding={
                "mailing_name": old.customer_name,
                "mailing_address": locked.forwarding_address,
                "mailing_city": locked.forwarding_city,
                "mailing_state": locked.forwarding_state,
                "mailing_zip": locked.forwarding_zip,
            },
        )
    with transaction.atomic():
        locked = _locked(request)
        if "close" not in locked.steps_left:
            return bill
        locked.final_bill = bill
        _step_done(locked, by, ["final_bill"])
    # The final bill's own email has the amount; this one says where the request stands.
    if locked.status == ServiceRequest.Status.DONE:
        _tell_customer(locked, _done_lines(locked), subject=_("Your request is done"))
    return bill


def service_request_transfer(*, request: ServiceRequest, by: User) -> list:
    """For a move within the service area, once both accounts are settled: any credit left on
    the old account and the autopay move to the new one. Returns what moved, in words."""
    if not by.has_perm("billing.change_servicerequest"):
        raise ApplicationError("Your role cannot work service requests.")
    with transaction.atomic():
        locked = _locked(request)
        if locked.kind != ServiceRequest.Kind.TRANSFER or "transfer" not in locked.steps_left:
            raise ApplicationError("There is nothing to move for this request.")
        if locked.steps_left != ["transfer"]:
            raise ApplicationError("Open the new account and close the old one first.")
        old, new = locked.from_account, locked.new_account
        moved = [*_credit_move(old=old, new=new, request_pk=locked.pk)]
        for provider in ACCOUNT_TRANSFER_PROVIDERS:
            moved.extend(provider(old=old, new=new, by=by))
        locked.transferred_at = timezone.now()
        locked.transfer_summary = "\n".join(str(line) for line in moved) or "Nothing to move."
        _step_done(locked, by, ["transferred_at", "transfer_summary"])
        audit_record(
            actor=by,
            action="service_request.transfer",
            target=locked,
            summary=f"{by.email} moved to {new.account_number} from {old.account_number}: {locked.transfer_summary}",
            account_number=new.account_number,
        )
    _tell_customer(
        locked,
        (moved or [_("There was no credit or autopay to move.")]) + _done_lines(locked),
        subject=_("Your move is done"),
    )
    return moved


def _credit_move(*, old: ServiceAccount, new: ServiceAccount, request_pk: int) -> list:
    billing_accounts_lock(service_account_ids=sorted([old.pk, new.pk]))
    waiting = Refund.objects.filter(
        payment__service_account=old,
        status__in=[Refund.Status.AWAITING_APPROVAL, Refund.Status.PENDING],
    ).first()
    if waiting is not None:
        # The credit may be on its way back to the card: moving it too would pay it twice.
        raise ApplicationError(
            f"A refund of ${waiting.amount:,.2f} on account {old.account_number} is not settled: "
            "approve or decline it first."
        )
    credit = -account_balance(service_account=old)
    if credit <= ZERO:
        return []
    today = local_today()
    ledger_post(
        postings=[
            Posting(
                service_account_id=old.pk,
                kind=LedgerEntry.Kind.ADJUSTMENT,
                amount=credit,
                posted_on=today,
                due_date=today,
                description=f"Credit moved to account {new.account_number}",
                source_key=f"move:{request_pk}:out",
            ),
            Posting(
                service_account_id=new.pk,
                kind=LedgerEntry.Kind.CREDIT,
                amount=-credit,
                posted_on=today,
                description=f"Credit moved from account {old.account_number}",
                source_key=f"move:{request_pk}:in",
            ),
        ]
    )
    return [
        format_lazy(
            _("Your credit of {amount} moved from account {old} to account {new}."),
            amount=money(credit),
            old=old.account_number,
            new=new.account_number,
        )
    ]


def _done_lines(request: ServiceRequest) -> list:
    if request.steps_left:
        return []
    return [_("Everything you asked for is done. Thank you for letting us know.")]


def service_request_services(request: ServiceRequest) -> dict:
    """What the new account should take, from the old account on a move (the clerk checks it)."""
    if not request.from_account_id:
        return {}
    taken = dict(
        AccountService.objects.filter(service_account=request.from_account).values_list("service", "units")
    )
    return {
        "sewer_units": taken.get("sewer"),
        "surface_water_units": taken.get("surface_water"),
        "water": "water" in taken,
    }
