"""Property-based tests (hypothesis): whatever a file, a form or a webhook holds, the portal
answers with a clear message, never a 500, and never writes half of it."""

import csv
import io
import json
import tempfile
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AccountLink, ServiceAccount
from accounts.services import service_accounts_import
from accounts.tests.factories import PASSWORD, AccountLinkFactory, ServiceAccountFactory, UserFactory
from assistance.models import AssistanceApplication, PaymentPlan
from autopay.models import AutopayEnrollment
from billing.models import LedgerEntry, Payment, PaymentBatch, StripeEvent
from billing.services.batches import lockbox_import
from billing.services.imports import transactions_import
from billing.tests.factories import post
from certification.models import Dispute
from kernel.csvimport import CsvImportError
from kernel.errors import ApplicationError

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI is repeatable
)

# Cells: plausible values, their near misses, and anything at all.
CELL = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "100001-01",
            "300001-01",
            "97045",
            "9704",
            "2026-02-30",
            "2026-07-01",
            "07/01/2026",
            "45.10",
            "45.105",
            "-3.00",
            "1e9",
            "NaN",
            "charge",
            "payment",
            "credit",
            "refund",
            "active",
            "closed",
            '"quoted, comma"',
            "=HYPERLINK()",
            "nul\x00byte",
            "x" * 300,
        ]
    ),
    st.text(max_size=40),
)


def write_csv(header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path = Path(tempfile.mkstemp(suffix=".csv")[1])
    path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")
    return path


def counts(*models) -> tuple[int, ...]:
    return tuple(model.objects.count() for model in models)


def rows_for(columns: int):
    return st.lists(st.lists(CELL, min_size=columns, max_size=columns), min_size=1, max_size=6)


ACCOUNT_COLUMNS = [
    "account_number",
    "customer_name",
    "service_address",
    "service_city",
    "service_zip",
    "tax_lot",
    "email",
    "phone",
    "status",
]


@EXAMPLES
@given(rows=rows_for(len(ACCOUNT_COLUMNS)))
def test_account_import_takes_all_rows_or_none_and_says_why(rows):
    before = sorted(ServiceAccount.objects.values_list("account_number", "customer_name", "status"))
    path = write_csv(ACCOUNT_COLUMNS, rows)
    try:
        service_accounts_import(path=path)
    except CsvImportError as exc:
        assert exc.message.strip()
        assert (
            sorted(ServiceAccount.objects.values_list("account_number", "customer_name", "status")) == before
        )
    finally:
        path.unlink()


TRANSACTION_COLUMNS = ["ref", "account_number", "date", "kind", "amount", "due_date", "description"]


@EXAMPLES
@given(rows=rows_for(len(TRANSACTION_COLUMNS)))
def test_transaction_import_takes_all_rows_or_none_and_says_why(rows):
    ServiceAccountFactory(account_number="300001-01") if not ServiceAccount.objects.filter(
        account_number="300001-01"
    ).exists() else None
    before = counts(LedgerEntry)
    path = write_csv(TRANSACTION_COLUMNS, rows)
    try:
        summary = transactions_import(path=path)
    except CsvImportError as exc:
        assert exc.message.strip()
        assert counts(LedgerEntry) == before
    else:
        assert counts(LedgerEntry)[0] - before[0] == summary.created
    finally:
        path.unlink()


@EXAMPLES
@given(rows=rows_for(4))
def test_lockbox_import_posts_the_whole_batch_or_nothing(rows):
    if not ServiceAccount.objects.filter(account_number="300001-01").exists():
        post(
            ServiceAccountFactory(account_number="300001-01"), "charge", "500.00", "2026-06-01", "2026-06-20"
        )
    before = counts(LedgerEntry, Payment, PaymentBatch)
    path = write_csv(["account_number", "amount", "check_number", "date"], rows)
    try:
        result = lockbox_import(path=path)
    except (CsvImportError, ApplicationError) as exc:
        assert exc.message.strip()
        assert counts(LedgerEntry, Payment, PaymentBatch) == before
    else:
        ledger, payments, batches = counts(LedgerEntry, Payment, PaymentBatch)
        assert payments - before[1] == result.posted == ledger - before[0]
    finally:
        path.unlink()


@EXAMPLES
@given(data=st.binary(max_size=300))
def test_a_file_that_is_not_utf8_csv_is_refused_with_a_message(data):
    path = Path(tempfile.mkstemp(suffix=".csv")[1])
    path.write_bytes(data)
    before = counts(ServiceAccount, LedgerEntry)
    try:
        for run in (service_accounts_import, transactions_import):
            try:
                run(path=path)
            except CsvImportError as exc:
                assert exc.message.strip()
    finally:
        path.unlink()
    assert counts(ServiceAccount, LedgerEntry) == before


# --- forms and JSON steps -------------------------------------------------------------------

TEXT = st.one_of(CELL, st.text(max_size=200))


@pytest.fixture
def customer():
    import datetime as dt

    from certification.models import Certification
    from certification.services.sweep import certification_sweep

    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    post(account, "charge", "30.00", "2026-02-01", "2026-02-20")
    certification_sweep(year=2026, today=dt.date(2026, 6, 21))
    post(account, "charge", "80.00", "2026-05-01", "2026-05-20")
    client = Client()
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})  # the autopay page asks
    certification = Certification.objects.get(service_account=account)
    return {"client": client, "account": account, "user": user, "certification": certification}


WATCHED = (LedgerEntry, Payment, AccountLink, AssistanceApplication, PaymentPlan, Dispute, AutopayEnrollment)


def form_posts(account, certification) -> dict[str, tuple[str, str, list[str]]]:
    """Each customer form: its method, its address and the fields it takes."""
    return {
        "link": ("post", reverse("service_account_link"), ["account_number", "service_zip", "access_code"]),
        "quick pay": ("post", reverse("quick_pay"), ["account_number", "service_zip"]),
        "eligibility": ("get", reverse("assistance_eligibility"), ["household_size", "monthly_income"]),
        "application": (
            "post",
            reverse("assistance_apply"),
            ["service_account", "members-TOTAL_FORMS", "members-0-name", "incomes-0-monthly_amount"],
        ),
        "payment plan": ("post", reverse("payment_plan", args=[account.pk]), ["installments"]),
        "notifications": (
            "post",
            reverse("notification_preferences"),
            ["bill_ready", "payment_receipt", "autopay"],
        ),
        "paperless": ("post", reverse("paperless_update", args=[account.pk]), ["paperless"]),
        "invoice look-up": ("post", reverse("invoice_pay_lookup"), ["number", "payer_zip"]),
        "sign-up": ("post", reverse("account_signup"), ["email", "password1", "password2"]),
        "autopay": ("post", reverse("autopay_manage", args=[account.pk]), ["card_id", "draft_day"]),
        "dispute": (
            "post",
            reverse("certification_dispute", args=[account.pk, certification.pk]),
            ["reason"],
        ),
    }


@settings(EXAMPLES, max_examples=150)
@given(
    form=st.sampled_from(
        [
            "link",
            "quick pay",
            "eligibility",
            "application",
            "payment plan",
            "notifications",
            "paperless",
            "invoice look-up",
            "sign-up",
            "autopay",
            "dispute",
        ]
    ),
    values=st.lists(TEXT, min_size=4, max_size=4),
)
def test_no_form_answers_with_a_500_whatever_it_is_sent(customer, form, values):
    cache.clear()  # rate limits would otherwise answer every later example
    method, url, fields = form_posts(customer["account"], customer["certification"])[form]
    before = counts(*WATCHED)
    response = getattr(customer["client"], method)(url, dict(zip(fields, values, strict=False)))
    assert response.status_code < 500, (form, values)
    if response.status_code in (200, 400, 429):  # the form shown again with its messages
        assert counts(*WATCHED) == before, (form, values)


@EXAMPLES
@given(amount=TEXT, token=st.one_of(st.just(str(uuid.uuid4())), TEXT), email=TEXT)
def test_the_payment_start_step_refuses_bad_amounts_without_recording_a_payment(
    customer, amount, token, email
):
    before = counts(Payment)
    response = customer["client"].post(
        reverse("payment_start_account", args=[customer["account"].pk]),
        json.dumps({"amount": amount, "token": token, "email": email}),
        content_type="application/json",
    )
    assert response.status_code < 500
    if response.status_code != 200:
        assert counts(Payment) == before
        assert response.json()["error"].strip()


@EXAMPLES
@given(body=st.one_of(st.binary(max_size=500), st.text(max_size=500).map(str.encode)), signature=TEXT)
def test_the_webhook_refuses_any_unsigned_body_and_records_nothing(body, signature):
    before = counts(StripeEvent, Payment, LedgerEntry)
    response = Client().post(
        reverse("stripe_webhook"), body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 400
    assert counts(StripeEvent, Payment, LedgerEntry) == before


def test_record_ids_sent_by_a_browser_are_plain_digits_that_fit_the_database():
    from kernel.db import BIGINT_MAX, record_id

    assert record_id("42") == 42 and record_id(" 7 ") == 7 and record_id(9) == 9
    assert record_id(str(BIGINT_MAX)) == BIGINT_MAX
    for bad in ["", None, "-1", "4.2", "²", "١٢", "9" * 30, "12abc"]:
        assert record_id(bad) is None, bad
