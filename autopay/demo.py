"""Demo data for autopay: a card enrollment, a paper agreement, and what staff may do."""

import datetime as dt

from accounts.models import ServiceAccount
from autopay.models import AutopayEnrollment, BankDraftAgreement
from autopay.services.enrollment import bank_agreement_record, card_save, card_setup_start
from billing import stripe_gateway as gateway
from billing.calendar import add_months
from kernel.errors import ApplicationError


def seed(*, users: dict, today: dt.date, stdout=None, **context) -> dict:
    """The demo customer's second account (the one behind) on card autopay on the 25th, and a
    paper bank-draft agreement on account 100013-01, both from before the latest bill, so that
    `run_autopay --date` for the 20th or 25th of this month drafts them."""
    customer = users["customer"]
    behind = ServiceAccount.objects.get(account_number="100001-01")
    try:
        secret_intent = card_setup_start(user=customer)
        intent = gateway.setup_intent_confirm_test_card(secret_intent.split("_secret_")[0])
        card = card_save(user=customer, setup_intent_id=intent.id)
    except (gateway.GatewayError, gateway.CardDeclined, ApplicationError) as exc:
        if stdout:
            stdout.write(f"No demo card autopay (Stripe not reachable: {exc}).")
    else:
        AutopayEnrollment.objects.create(
            service_account=behind, user=customer, card=card, draft_day=25, starts_on=add_months(today, -2)
        )
    agreement_account = ServiceAccount.objects.filter(account_number="100013-01").first()
    if agreement_account:
        bank_agreement_record(
            service_account=agreement_account,
            holder_name=agreement_account.customer_name,
            routing_number="091000019",
            account_number="000123456789",
            account_type=BankDraftAgreement.AccountType.CHECKING,
            signed_on=add_months(today, -14),
            recorded_by=users["clerk"],
        )
    return {}
