"""Lockbox checks that matched no account, for a clerk to post to the right one or send back."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render

from accounts.selectors import service_account_find_by_number
from billing.models import LockboxException
from billing.services.batches import lockbox_exception_post, lockbox_exception_return
from billing.views.staff import _posted_id
from kernel.errors import ApplicationError


@staff_member_required
@permission_required("billing.add_payment", raise_exception=True)
def staff_lockbox_exceptions(request):
    if request.method == "POST":
        exception = get_object_or_404(LockboxException, pk=_posted_id(request, "exception"))
        try:
            if request.POST.get("resolve") == "post":
                number = request.POST.get("account_number", "").strip()
                account = service_account_find_by_number(number=number)
                if account is None:
                    raise ApplicationError(f"No account numbered {number or '(blank)'}: check the number.")
                payment = lockbox_exception_post(exception=exception, account=account, by=request.user)
                payment.refresh_from_db()
                done = (
                    "is posted to"
                    if payment.ledger_entry_id
                    else "waits in Payment batches to post, for someone else to post to"
                )
                messages.success(
                    request,
                    f"Check {exception.check_number} for ${exception.amount:,.2f} {done} account "
                    f"{account.account_number}.",
                )
            else:
                lockbox_exception_return(
                    exception=exception, by=request.user, note=request.POST.get("note", "")
                )
                messages.success(request, f"Check {exception.check_number} is recorded as returned.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("staff_lockbox_exceptions")
    return render(
        request,
        "billing/staff_lockbox_exceptions.html",
        {
            "waiting": LockboxException.objects.filter(status=LockboxException.Status.OPEN),
            "resolved": LockboxException.objects.exclude(status=LockboxException.Status.OPEN)
            .select_related("payment__service_account", "resolved_by")
            .order_by("-resolved_at")[:20],
        },
    )
