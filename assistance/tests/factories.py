"""Assistance applications for tests, made through the same service a customer's form calls."""

import datetime as dt
from decimal import Decimal

from assistance.services.applications import Income, Member, application_submit
from assistance.services.plans import plan_decide, plan_request
from billing.tests.factories import post
from kernel.testing.files import pdf_bytes, png_bytes, upload


def submit(user, account, *, income="1500.00", members=1, **overrides):
    """An application from `user` for `account`, with the documents it needs; `overrides` replace
    any of application_submit's arguments."""
    args = {
        "applicant": user,
        "service_account": account,
        "members": [Member(f"Person {n}", "self" if n == 0 else "child") for n in range(members)],
        "incomes": [Income("wages", Decimal(income))],
        "phone": "503-555-0199",
        "preferred_contact_time": "morning",
        "attestation_name": "Rosa Martinez",
        "documents": {
            "photo_id": [upload("id.png", png_bytes())],
            "income_proof": [upload("pay.pdf", pdf_bytes())],
        },
    }
    return application_submit(**{**args, **overrides})


def approved_plan(account, user, *, installments: int = 3):
    """A payment plan `user` asked for on `account` (what it owes today, in `installments`), approved."""
    plan = plan_request(service_account=account, user=user, installments=installments)
    plan_decide(plan=plan, approve=True, by=user)
    return plan


def owing_fees(account):
    """A bill unpaid since September with its late fee and door-hanger fee."""
    post(account, "charge", "100.00", dt.date(2026, 9, 1), dt.date(2026, 9, 20))
    post(account, "late_fee", "10.00", dt.date(2026, 9, 25), dt.date(2026, 9, 25))
    post(account, "door_hanger_fee", "30.00", dt.date(2026, 10, 5), dt.date(2026, 10, 5))
