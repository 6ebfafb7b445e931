"""Pages for clerks outside admin: taking a caller's card by phone in Stripe's own field."""

import uuid

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.selectors import service_account_find_by_number
from billing.models import Payment
from billing.services.payments import MINIMUM_PAYMENT
from billing.views.payments import _start


@staff_member_required
@permission_required("billing.take_phone_payment", raise_exception=True)
def phone_payment(request):
    return render(
        request,
        "billing/staff_phone_payment.html",
        {
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
