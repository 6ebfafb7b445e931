from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import service_account_get_for_user, service_account_list_for_user
from billing.calendar import add_months, local_today
from billing.charts import usage_chart
from billing.hooks import ACCOUNT_PAGE_SECTIONS, past_due_help
from billing.models import AccountService, Service, UsageAlert
from billing.pdf import bill_pdf_cached
from billing.selectors import (
    account_summaries,
    account_summary,
    bill_get_for_user,
    bill_list_for_account,
    bill_statement,
    ledger_entries_for_account,
    water_usage_for_account,
)
from billing.services.accounts import billing_account_set_paperless


@login_required
def dashboard(request):
    """Every linked account with what is owed, in a fixed number of queries."""
    today = local_today()
    accounts = list(service_account_list_for_user(user=request.user).select_related("billing"))
    return render(
        request,
        "billing/dashboard.html",
        {
            "cards": account_summaries(accounts=accounts, as_of=today),
            "today": today,
            "past_due_help": past_due_help(),
        },
    )


@login_required
def account_detail(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    today = local_today()
    summary = account_summary(service_account=account, as_of=today)
    services = list(AccountService.objects.filter(service_account=account))
    takes_water = any(s.service == Service.WATER for s in services)
    # The 13 service months up to the last one that has ended (and so may have a read).
    last_month = add_months(today.replace(day=1), -1)
    usage = water_usage_for_account(service_account=account, through=last_month) if takes_water else []
    billing = getattr(account, "billing", None)
    high = frozenset(
        UsageAlert.objects.filter(
            service_account=account, kind=UsageAlert.Kind.HIGH_USE, period__in=[m.period for m in usage]
        ).values_list("period", flat=True)
    )
    return render(
        request,
        "billing/account_detail.html",
        {
            "account": account,
            "summary": summary,
            "services": services,
            "usage": usage,
            "chart": usage_chart(usage, high=high) if usage else None,
            "high_months": high,
            "recent_bills": bill_list_for_account(service_account=account)[:3],
            "paperless": bool(billing and billing.paperless),
            "today": today,
            "sections": [
                provider(service_account=account, today=today, user=request.user)
                for provider in ACCOUNT_PAGE_SECTIONS
            ],
        },
    )


@login_required
def bill_list(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    bills = bill_list_for_account(service_account=account)
    return render(request, "billing/bill_list.html", {"account": account, "bills": bills})


@login_required
def bill_detail(request, pk: int, bill_pk: int):
    bill = bill_get_for_user(user=request.user, account_pk=pk, bill_pk=bill_pk)
    return render(
        request,
        "billing/bill_detail.html",
        {
            "account": bill.service_account,
            "bill": bill,
            "lines": bill.lines.all(),
            "statement": bill_statement(bill=bill),
            "past_due_help": past_due_help(),
            "high_use": UsageAlert.objects.filter(
                service_account_id=bill.service_account_id, kind=UsageAlert.Kind.HIGH_USE, period=bill.period
            ).first(),
        },
    )


@login_required
def bill_pdf_view(request, pk: int, bill_pk: int):
    bill = bill_get_for_user(user=request.user, account_pk=pk, bill_pk=bill_pk)
    response = HttpResponse(bill_pdf_cached(bill=bill), content_type="application/pdf")
    filename = f"bill-{bill.service_account.account_number}-{bill.period:%Y-%m}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
def transaction_list(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    page = Paginator(ledger_entries_for_account(service_account=account), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "billing/transaction_list.html", {"account": account, "page": page})


@login_required
@require_POST
def paperless_update(request, pk: int):
    account = service_account_get_for_user(user=request.user, pk=pk)
    paperless = request.POST.get("paperless") == "on"
    billing_account_set_paperless(service_account=account, paperless=paperless)
    if paperless:
        messages.success(request, _("Paperless billing is on: your bills will come by email only."))
    else:
        messages.success(request, _("Paperless billing is off: we will mail you a paper bill as well."))
    return redirect("service_account_detail", pk=account.pk)
