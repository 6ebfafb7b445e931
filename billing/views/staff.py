"""Pages for staff outside admin: the staff home and search, one page per account with its notes,
adjustments and their approval, and taking a caller's card by phone in Stripe's own field."""

import uuid
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import ServiceAccount
from accounts.selectors import follow_ups_due, service_account_find_by_number, service_accounts_search
from accounts.services import account_note_add
from billing.calendar import local_today
from billing.hooks import STAFF_ACCOUNT_ACTIONS, STAFF_ACCOUNT_FLAGS, STAFF_HOME_LINKS, STAFF_QUEUES
from billing.models import (
    Adjustment,
    AdjustmentReason,
    Bill,
    BillingAccount,
    LedgerEntry,
    Payment,
    ServiceRequest,
)
from billing.pdf import bill_pdf_cached
from billing.selectors import account_summary, delinquent_worklist, ledger_with_running_balance, staff_queues
from billing.services.adjustments import (
    adjustment_approve,
    adjustment_decline,
    adjustment_request,
    adjustment_reverse,
)
from billing.services.notices import delinquent_offer_letter, delinquent_offer_send
from billing.services.payments import MINIMUM_PAYMENT
from billing.services.service_changes import service_account_close, service_account_open
from billing.views.payments import _start
from kernel.db import record_id
from kernel.errors import ApplicationError
from kernel.money import parse_money_typed
from kernel.once import PENDING, once_claim, once_done, once_release


@staff_member_required
@permission_required("billing.take_phone_payment", raise_exception=True)
def phone_payment(request):
    # From an account's staff page the account is already chosen: its name, balance and past due
    # are on the page before the card is.
    account = service_account_find_by_number(number=request.GET.get("account", ""))
    return render(
        request,
        "billing/staff_phone_payment.html",
        {
            "account": account,
            "summary": account_summary(service_account=account, as_of=local_today()) if account else None,
            "token": uuid.uuid4(),
            "minimum": MINIMUM_PAYMENT,
            "start_url": reverse("phone_payment_start"),
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": settings.STRIPE_JS_URL,
        },
    )


@staff_member_required
@permission_required("billing.take_phone_payment", raise_exception=True)
@require_POST
def phone_payment_start(request):
    import json

    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    number = "".join(str(body.get("account_number") or "").split())
    account = service_account_find_by_number(number=number)
    if account is None:
        return JsonResponse({"error": f"No account numbered {number or '(blank)'}."}, status=400)
    return _start(request, account=account, channel=Payment.Channel.PHONE, clerk=request.user)


def _posted_id(request, name: str) -> int:
    """A record id from a posted form; anything but digits is "not found", never an error page."""
    value = record_id(request.POST.get(name, ""))
    if value is None:
        raise Http404
    return value


# --- the staff home, search and the account page ------------------------------------


@staff_member_required
@permission_required("accounts.view_serviceaccount", raise_exception=True)
def staff_home(request):
    """What is waiting, with counts and links, and the account search."""
    query = request.GET.get("q", "").strip()
    results = service_accounts_search(query=query) if query else []
    if query and len(results) == 1:
        return redirect("staff_account", pk=results[0].pk)
    queues = [queue for provider in [staff_queues, *STAFF_QUEUES] for queue in provider(user=request.user)]
    from billing.reports import TABLE_REPORTS

    return render(
        request,
        "billing/staff_home.html",
        {
            "query": query,
            "results": results,
            "queues": queues,
            "searched": bool(query),
            "table_reports": TABLE_REPORTS.values(),
            "app_links": [link for provider in STAFF_HOME_LINKS for link in provider(user=request.user)],
        },
    )


@staff_member_required
@permission_required("accounts.view_accountnote", raise_exception=True)
def staff_follow_ups(request):

    notes = follow_ups_due(today=local_today()).select_related("service_account", "author")
    return render(request, "billing/staff_follow_ups.html", {"notes": notes})


@staff_member_required
@permission_required("accounts.view_serviceaccount", raise_exception=True)
@permission_required("billing.view_ledgerentry", raise_exception=True)
def staff_account(request, pk: int):
    """One page per service account: who, where, the money, the history and the notes."""
    from accounts.models import EmailLog
    from kernel.models import AuditEvent

    account = get_object_or_404(ServiceAccount, pk=pk)
    today = local_today()
    summary = account_summary(service_account=account, as_of=today)
    billing = BillingAccount.objects.filter(pk=account.pk).first()
    flags = [flag for provider in STAFF_ACCOUNT_FLAGS for flag in provider(service_account=account)]
    actions = [
        action
        for provider in STAFF_ACCOUNT_ACTIONS
        for action in provider(service_account=account, user=request.user)
    ]
    requests = ServiceRequest.objects.filter(Q(from_account=account) | Q(new_account=account)).order_by(
        "-created_at"
    )[:10]
    note_form = AccountNoteForm()
    return render(
        request,
        "billing/staff_account.html",
        {
            "account": account,
            "summary": summary,
            "paperless": billing.paperless if billing else False,
            "flags": flags,
            "actions": actions,
            "service_requests": requests,
            "logins": account.users.order_by("email"),
            "ledger": ledger_with_running_balance(service_account=account)[:200],
            "bills": Bill.objects.filter(service_account=account).order_by("-period")[:24],
            "payments": Payment.objects.filter(service_account=account).order_by("-created_at")[:50],
            "adjustments": account.adjustments.select_related("reason", "requested_by").order_by(
                "-requested_at"
            )[:50],
            "emails": EmailLog.objects.filter(account_number=account.account_number)[:50],
            "audit": AuditEvent.objects.filter(account_number=account.account_number)[:50]
            if request.user.has_perm("portal.view_auditevent")
            else None,
            "notes": account.notes.select_related("author")[:100],
            "note_form": note_form,
        },
    )


class AccountNoteForm(forms.Form):
    channel = forms.ChoiceField(label="How", choices=[])
    contact = forms.CharField(label="Who we spoke with", max_length=200, required=False)
    text = forms.CharField(label="What was said or promised", widget=forms.Textarea(attrs={"rows": 3}))
    promised_amount = forms.CharField(label="Promised amount, in dollars", required=False)
    promised_on = forms.DateField(
        label="Promised by (date)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    follow_up_on = forms.DateField(
        label="Follow up on (date)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        from accounts.models import AccountNote

        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = AccountNote.Channel.choices

    def clean_promised_amount(self):
        text = self.cleaned_data.get("promised_amount", "").strip()
        if not text:
            return None
        amount = parse_money_typed(text)
        if amount is None or amount <= 0:
            raise forms.ValidationError("Enter the promised amount like 45.00.")
        return amount


@staff_member_required
@permission_required("accounts.add_accountnote", raise_exception=True)
@require_POST
def staff_account_note(request, pk: int):
    account = get_object_or_404(ServiceAccount, pk=pk)
    form = AccountNoteForm(request.POST)
    if form.is_valid():
        try:
            account_note_add(service_account=account, by=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The note is saved.")
    else:
        messages.error(
            request,
            "The note was not saved: " + " ".join(e for errors in form.errors.values() for e in errors),
        )
    return redirect(reverse("staff_account", args=[account.pk]) + "#notes")


@staff_member_required
@permission_required("billing.view_bill", raise_exception=True)
def staff_bill_pdf(request, pk: int, bill_pk: int):
    bill = get_object_or_404(
        Bill.objects.select_related("service_account"), service_account_id=pk, pk=bill_pk
    )
    response = HttpResponse(bill_pdf_cached(bill=bill), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="bill-{bill.service_account.account_number}-{bill.period:%Y-%m}.pdf"'
    )
    return response


# --- adjustments --------------------------------------------------------------------------


class AdjustmentForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=Adjustment.Kind.choices)
    amount = forms.CharField(label="Amount, in dollars")
    reason = forms.ModelChoiceField(label="Reason", queryset=AdjustmentReason.objects.none())
    fee_entry = forms.ModelChoiceField(
        label="The fee to waive (for a fee waiver)", queryset=LedgerEntry.objects.none(), required=False
    )
    memo = forms.CharField(
        label="Memo: what happened and who asked", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = AdjustmentReason.objects.filter(active=True)
        self.fields["fee_entry"].queryset = LedgerEntry.objects.filter(
            service_account=account, kind__in=[LedgerEntry.Kind.LATE_FEE, LedgerEntry.Kind.DOOR_HANGER_FEE]
        ).order_by("-posted_on")
        self.fields["fee_entry"].label_from_instance = lambda e: (
            f"{e.get_kind_display()} of ${e.amount:,.2f}, {e.posted_on:%m/%d/%Y}"
        )

    def clean_amount(self):
        amount = parse_money_typed(self.cleaned_data.get("amount", ""))
        if amount is None or amount <= 0:
            raise forms.ValidationError("Enter an amount above $0.00, like 25.00.")
        return amount


@staff_member_required
@permission_required("billing.add_adjustment", raise_exception=True)
def staff_adjustment(request, pk: int):
    account = get_object_or_404(ServiceAccount, pk=pk)
    # A link may fill the form in (the high-use list's "Leak credit"); nothing is posted until sent.
    prefill = {
        name: request.GET[name] for name in ("kind", "reason", "memo", "amount") if name in request.GET
    }
    form = AdjustmentForm(request.POST or None, account=account, initial={"token": uuid.uuid4(), **prefill})
    if request.method == "POST" and form.is_valid():
        try:
            adjustment = adjustment_request(service_account=account, by=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if adjustment.status == Adjustment.Status.POSTED:
                messages.success(request, f"Posted: {adjustment}.")
            else:
                messages.info(
                    request,
                    f"{adjustment} is above the ${settings.ADJUSTMENT_APPROVAL_LIMIT:,.2f} limit: it waits for a "
                    "supervisor's approval and changes nothing until then.",
                )
            return redirect("staff_account", pk=account.pk)
    summary = account_summary(service_account=account, as_of=local_today())
    return render(
        request,
        "billing/staff_adjustment.html",
        {"account": account, "form": form, "summary": summary, "limit": settings.ADJUSTMENT_APPROVAL_LIMIT},
    )


@staff_member_required
@permission_required("billing.approve_adjustment", raise_exception=True)
def staff_adjustments(request):
    """The supervisor's queue: adjustments above the limit, to approve or decline."""
    if request.method == "POST":
        adjustment = get_object_or_404(Adjustment, pk=_posted_id(request, "adjustment"))
        try:
            if request.POST.get("decision") == "approve":
                adjustment_approve(adjustment=adjustment, by=request.user)
                messages.success(request, f"Approved and posted: {adjustment}.")
            elif request.POST.get("decision") == "decline":
                adjustment_decline(
                    adjustment=adjustment, by=request.user, reason=request.POST.get("reason", "")
                )
                messages.success(request, f"Declined: {adjustment}.")
            else:
                messages.error(request, "Choose approve or decline.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("staff_adjustments")
    waiting = (
        Adjustment.objects.filter(status=Adjustment.Status.AWAITING_APPROVAL)
        .select_related("service_account", "reason", "requested_by")
        .order_by("requested_at")
    )
    return render(request, "billing/staff_adjustments.html", {"waiting": waiting})


@staff_member_required
@permission_required("billing.reverse_adjustment", raise_exception=True)
@require_POST
def staff_adjustment_reverse(request, pk: int):
    adjustment = get_object_or_404(Adjustment, pk=pk)
    try:
        adjustment_reverse(adjustment=adjustment, by=request.user, memo=request.POST.get("memo", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Reversed: {adjustment}.")
    return redirect(reverse("staff_account", args=[adjustment.service_account_id]) + "#adjustments")


# --- the delinquent accounts to follow up ----------------------------------------------------


@staff_member_required
@permission_required("accounts.add_accountnote", raise_exception=True)
def staff_worklist(request):
    """Past-due accounts to call, oldest and largest first, with the last contact and any promise."""
    if request.method == "POST":
        account = get_object_or_404(ServiceAccount, pk=_posted_id(request, "account"))
        if request.POST.get("send") == "letter":
            try:
                pdf = delinquent_offer_letter(service_account=account, by=request.user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
                return redirect("staff_worklist")
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="offer-{account.account_number}.pdf"'
            return response
        scope = f"offer:{account.pk}"
        token = request.POST.get("token", "")
        if once_claim(scope, token) is not None:  # a double click: the first one is sending it
            messages.info(request, f"The offer for account {account.account_number} was sent already.")
            return redirect("staff_worklist")
        try:
            delinquent_offer_send(service_account=account, by=request.user)
        except ApplicationError as exc:
            once_release(scope, token)
            messages.error(request, exc.message)
        else:
            once_done(scope, token, "sent")
            messages.success(
                request,
                f"The payment plan and assistance offer was emailed for account {account.account_number}.",
            )
        return redirect("staff_worklist")
    rows = delinquent_worklist(today=local_today())
    for row in rows:  # from each row: open a payment plan (assistance adds it), and the like
        row.actions = [
            action
            for provider in STAFF_ACCOUNT_ACTIONS
            for action in provider(service_account=row.account, user=request.user)
        ]
    return render(request, "billing/staff_worklist.html", {"rows": rows, "token": uuid.uuid4()})


# --- opening and closing accounts -------------------------------------------------------------


class OpenAccountForm(forms.Form):
    customer_name = forms.CharField(label="Customer name", max_length=200)
    service_address = forms.CharField(label="Service address (street)", max_length=200)
    service_city = forms.CharField(label="City", max_length=100)
    service_state = forms.CharField(label="State", max_length=2, initial="OR")
    service_zip = forms.RegexField(
        label="Service ZIP code",
        regex=r"^[0-9]{5}$",
        error_messages={"invalid": "Enter 5 digits, like 97045."},
    )
    tax_lot = forms.CharField(label="Tax lot", max_length=64)
    email = forms.EmailField(label="Email", required=False)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
    sewer_units = forms.DecimalField(
        label="Sewer units (blank: none)",
        required=False,
        min_value=Decimal("0.001"),
        max_digits=10,
        decimal_places=3,
    )
    surface_water_units = forms.DecimalField(
        label="Surface water units (blank: none)",
        required=False,
        min_value=Decimal("0.001"),
        max_digits=10,
        decimal_places=3,
    )
    water = forms.BooleanField(label="Metered water", required=False)
    service_starts_on = forms.DateField(
        label="Service starts on (the first day served)", widget=forms.DateInput(attrs={"type": "date"})
    )
    token = forms.UUIDField(widget=forms.HiddenInput, required=False)


@staff_member_required
@permission_required("accounts.open_close_account", raise_exception=True)
def staff_account_open(request):
    form = OpenAccountForm(
        request.POST or None, initial={"service_starts_on": local_today(), "token": uuid.uuid4()}
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        token = data.pop("token")
        earlier = once_claim("open-account", token)
        if earlier is not None:  # the same form posted twice: one account, shown once it exists
            if earlier != PENDING:
                return redirect("staff_account", pk=int(earlier))
            messages.info(request, "This account is being opened: find it on the staff home in a moment.")
            return redirect("staff_home")
        try:
            account = service_account_open(by=request.user, **data)
        except ApplicationError as exc:
            once_release("open-account", token)
            form.add_error(None, exc.message)
        else:
            once_done("open-account", token, str(account.pk))
            messages.success(request, f"Account {account.account_number} is open.")
            return redirect("staff_account", pk=account.pk)
    return render(request, "billing/staff_account_open.html", {"form": form})


class CloseAccountForm(forms.Form):
    stop_on = forms.DateField(
        label="Stop date (the last day served)", widget=forms.DateInput(attrs={"type": "date"})
    )
    final_read = forms.DecimalField(
        label="Final meter read: CCF used since the last bill (water accounts)",
        required=False,
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
    )
    forwarding_address = forms.CharField(
        label="Forwarding address (street), for the final bill", max_length=200, required=False
    )
    forwarding_city = forms.CharField(label="Forwarding city", max_length=100, required=False)
    forwarding_state = forms.CharField(label="Forwarding state", max_length=2, required=False)
    forwarding_zip = forms.RegexField(
        label="Forwarding ZIP code", regex=r"^[0-9]{5}(-[0-9]{4})?$", required=False
    )

    def forwarding(self, account) -> dict:
        data = self.cleaned_data
        parts = [data.get(f"forwarding_{name}") for name in ("address", "city", "state", "zip")]
        if not any(parts):
            return {}
        if not all(parts):
            raise ApplicationError("A forwarding address needs the street, city, state and ZIP code.")
        return {
            "mailing_name": account.customer_name,
            "mailing_address": parts[0],
            "mailing_city": parts[1],
            "mailing_state": parts[2].upper(),
            "mailing_zip": parts[3],
        }


@staff_member_required
@permission_required("accounts.open_close_account", raise_exception=True)
def staff_account_close(request, pk: int):
    account = get_object_or_404(ServiceAccount, pk=pk)
    form = CloseAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            bill = service_account_close(
                service_account=account,
                stop_on=form.cleaned_data["stop_on"],
                final_read=form.cleaned_data["final_read"],
                forwarding=form.forwarding(account),
                by=request.user,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Account {account.account_number} is closed; the final bill is ${bill.total_due:,.2f}.",
            )
            return redirect("staff_account", pk=account.pk)
    return render(request, "billing/staff_account_close.html", {"account": account, "form": form})
