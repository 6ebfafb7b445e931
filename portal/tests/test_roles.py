"""The staff roles hold: every admin action, every admin page and every staff URL, asked for as
each kind of login, is allowed or refused as the matrix below says. The matrix is written here
by hand, apart from `accounts/roles.py`, so a change to a role shows up as a failing line; a new
admin action, model or staff URL fails `test_every_*_is_in_the_matrix` until it is listed."""

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver, reverse

from accounts import roles
from accounts.tests.factories import AccountLinkFactory, UserFactory, staff_user
from assistance.models import AssistanceApplication
from assistance.tests.factories import submit
from billing.models import Payment, PaymentBatch, Refund
from billing.tests.factories import post
from certification.models import Certification, Dispute
from certification.services.sweep import certification_sweep

pytestmark = pytest.mark.django_db
D = dt.date

STAFF = ("clerk", "finance", "supervisor")
ALL_STAFF = set(STAFF)
NOBODY: set[str] = set()
CLERK_SIDE = {"clerk", "supervisor"}
FINANCE_SIDE = {"finance", "supervisor"}

# (model, action) → the roles that may run it. Superusers may run everything.
ACTIONS = {
    ("assistance.assistanceapplication", "approve"): CLERK_SIDE,
    ("assistance.assistanceapplication", "mark_documents_seen"): CLERK_SIDE,
    ("assistance.assistanceapplication", "mark_assessed"): CLERK_SIDE,
    ("assistance.assistanceapplication", "mark_withdrawn"): CLERK_SIDE,
    ("assistance.assistanceapplication", "mark_expired"): CLERK_SIDE,
    ("assistance.paymentplan", "approve_plans"): CLERK_SIDE,
    ("assistance.paymentplan", "decline_plans"): CLERK_SIDE,
    ("billing.paymentbatch", "post_batches"): CLERK_SIDE,
    ("billing.refund", "approve_refunds"): {"supervisor"},
    ("billing.rateschedule", "delete_selected"): FINANCE_SIDE,  # only schedules no bill has used
    ("account.emailaddress", "make_verified"): NOBODY,
    ("account.emailaddress", "delete_selected"): NOBODY,
    ("auth.group", "delete_selected"): NOBODY,
    ("mfa.authenticator", "delete_selected"): NOBODY,
    ("accounts.user", "delete_selected"): NOBODY,
    ("accounts.serviceaccount", "delete_selected"): NOBODY,
    ("accounts.serviceaccount", "issue_new_access_codes"): CLERK_SIDE,
    ("billing.meterread", "delete_selected"): NOBODY,
    ("billing.invoice", "delete_selected"): NOBODY,
    ("billing.paymentbatch", "delete_selected"): NOBODY,
    ("autopay.bankdraftagreement", "delete_selected"): NOBODY,
    ("assistance.incomeguideline", "delete_selected"): NOBODY,
    ("assistance.paymentplan", "delete_selected"): NOBODY,
}

# Every model in admin → who sees its list, adds one, changes one, deletes one.
MODEL_PAGES = {
    "auth.group": (NOBODY, NOBODY, NOBODY, NOBODY),
    "account.emailaddress": (NOBODY, NOBODY, NOBODY, NOBODY),
    "mfa.authenticator": (NOBODY, NOBODY, NOBODY, NOBODY),
    "portal.auditevent": (FINANCE_SIDE, NOBODY, NOBODY, NOBODY),
    "portal.outboxtask": (NOBODY, NOBODY, NOBODY, NOBODY),  # superusers only
    "accounts.accountnote": (ALL_STAFF, NOBODY, NOBODY, NOBODY),  # written on the staff account page
    "billing.adjustment": (ALL_STAFF, NOBODY, NOBODY, NOBODY),  # asked for on the staff account page
    "billing.adjustmentreason": (ALL_STAFF, FINANCE_SIDE, FINANCE_SIDE, NOBODY),
    "billing.glaccount": (FINANCE_SIDE, NOBODY, FINANCE_SIDE, NOBODY),  # one per role: renamed, not added
    "accounts.user": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "accounts.emaillog": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "accounts.textmessage": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "accounts.serviceaccount": (ALL_STAFF, NOBODY, CLERK_SIDE, NOBODY),
    "billing.rateschedule": (ALL_STAFF, FINANCE_SIDE, FINANCE_SIDE, FINANCE_SIDE),
    "billing.meterread": (ALL_STAFF, CLERK_SIDE, CLERK_SIDE, NOBODY),
    "billing.bill": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "billing.ledgerentry": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "billing.payment": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "billing.paymentbatch": (ALL_STAFF, CLERK_SIDE, CLERK_SIDE, NOBODY),
    "billing.invoice": (ALL_STAFF, CLERK_SIDE, CLERK_SIDE, NOBODY),
    "billing.refund": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "billing.stripeevent": (FINANCE_SIDE, NOBODY, NOBODY, NOBODY),
    "autopay.bankdraftagreement": (ALL_STAFF, CLERK_SIDE, CLERK_SIDE, NOBODY),
    "autopay.autopayenrollment": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "autopay.autopaydraft": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "autopay.paymentauthorization": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "autopay.bankaccount": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "autopay.bankpayment": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "autopay.scheduledpayment": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "assistance.incomeguideline": (ALL_STAFF, FINANCE_SIDE, FINANCE_SIDE, NOBODY),
    "assistance.assistanceapplication": (ALL_STAFF, NOBODY, CLERK_SIDE, NOBODY),
    "assistance.paymentplan": (ALL_STAFF, NOBODY, CLERK_SIDE, NOBODY),
    "certification.certification": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "certification.dispute": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
    "certification.notice": (ALL_STAFF, NOBODY, NOBODY, NOBODY),
}

# Every staff URL that is not a model's own list/add/change/delete/history page → who may open
# it, and the objects its parameters name.
STAFF_URLS = {
    "admin:billing_payment_refund": (FINANCE_SIDE, lambda o: {"pk": o["card_payment"].pk}),
    "admin:billing_payment_returned": (CLERK_SIDE, lambda o: {"pk": o["check_payment"].pk}),
    "admin:billing_paymentbatch_post": (CLERK_SIDE, lambda o: {"pk": o["batch"].pk}),
    "admin:billing_paymentbatch_void": ({"supervisor"}, lambda o: {"pk": o["batch"].pk}),
    "admin:billing_refund_approve": ({"supervisor"}, lambda o: {"pk": o["refund"].pk}),
    "admin:billing_refund_decline": ({"supervisor"}, lambda o: {"pk": o["refund"].pk}),
    "admin:assistance_application_deny": (CLERK_SIDE, lambda o: {"pk": o["application"].pk}),
    "admin:assistance_application_decide": (CLERK_SIDE, lambda o: {"pk": o["application"].pk}),
    "admin:assistance_application_documents_request": (CLERK_SIDE, lambda o: {"pk": o["application"].pk}),
    "admin:certification_export": (FINANCE_SIDE, lambda o: {}),
    "admin:certification_submit": (FINANCE_SIDE, lambda o: {}),
    "admin:certification_dispute_resolve": (ALL_STAFF, lambda o: {"pk": o["dispute"].pk}),
    "phone_payment": (CLERK_SIDE, lambda o: {}),
    "phone_payment_start": (CLERK_SIDE, lambda o: {}),
    "tax_lot": (ALL_STAFF, lambda o: {}),
    "staff_high_usage": (ALL_STAFF, lambda o: {}),
    "staff_usage_download": (ALL_STAFF, lambda o: {"kind": "csv"}),
    "assistance_document": (CLERK_SIDE, lambda o: {"pk": o["document"].pk}),
    "staff_home": (ALL_STAFF, lambda o: {}),
    "staff_follow_ups": (ALL_STAFF, lambda o: {}),
    "staff_worklist": (CLERK_SIDE, lambda o: {}),
    "staff_account": (ALL_STAFF, lambda o: {"pk": o["account"].pk}),
    "staff_account_open": (CLERK_SIDE, lambda o: {}),
    "staff_account_close": (CLERK_SIDE, lambda o: {"pk": o["account"].pk}),
    "staff_account_note": (CLERK_SIDE, lambda o: {"pk": o["account"].pk}),
    "staff_adjustment": (CLERK_SIDE, lambda o: {"pk": o["account"].pk}),
    "staff_adjustments": ({"supervisor"}, lambda o: {}),
    "staff_adjustment_reverse": ({"supervisor"}, lambda o: {"pk": o["adjustment"].pk}),
    "staff_payment_plan": (CLERK_SIDE, lambda o: {"pk": o["account"].pk}),
    "staff_service_requests": (ALL_STAFF, lambda o: {}),
    "staff_lockbox_exceptions": (CLERK_SIDE, lambda o: {}),
    "report_aging": (FINANCE_SIDE, lambda o: {}),
    "finance_home": (FINANCE_SIDE, lambda o: {}),
    "report_cash": (FINANCE_SIDE, lambda o: {}),
    "report_journal": (FINANCE_SIDE, lambda o: {}),
    "report_table": (FINANCE_SIDE, lambda o: {"key": "adjustments"}),
    "runs": (ALL_STAFF, lambda o: {}),
    "run_new": (FINANCE_SIDE, lambda o: {"kind": "nacha"}),
    "run_detail": (ALL_STAFF, lambda o: {"pk": o["run"].pk}),
    "run_status": (ALL_STAFF, lambda o: {"pk": o["run"].pk}),
    "file_download": (FINANCE_SIDE, lambda o: {"pk": o["stored_file"].pk}),
    "staff_service_request": (ALL_STAFF, lambda o: {"pk": o["service_request"].pk}),
    "staff_bill_pdf": (ALL_STAFF, lambda o: {"pk": o["bill"].service_account_id, "bill_pk": o["bill"].pk}),
}
QUERY = {
    "admin:certification_export": "?year=2026&format=csv",
    "admin:certification_submit": "?year=2026",
    "tax_lot": "?tax_lot=2S2E",
}

# Every other page: the customers' and the public's (their scoping is portal/tests/test_access.py's
# business), and allauth's own sign-in, sign-up and two-step pages (names account_*, mfa_*).
NOT_STAFF = {
    "home", "healthz", "language_set", "login_settings", "notification_preferences", "dashboard",
    "service_account_link", "service_account_unlink", "service_account_detail", "contact_details", "bill_list",
    "bill_detail", "bill_pdf", "transaction_list", "paperless_update", "pay_account",
    "payment_start_account", "payment_charge", "payment_complete", "payment_receipt", "quick_pay",
    "quick_pay_pay", "payment_start_quick", "invoice_pay_lookup", "invoice_pay", "payment_start_invoice",
    "stripe_webhook", "autopay_manage", "autopay_change", "autopay_cancel", "autopay_card_setup",
    "autopay_card_save", "assistance_home", "assistance_eligibility", "assistance_apply",
    "assistance_detail", "payment_plan", "certification_dispute", "moving_home", "moving_request",
    "moving_withdraw", "pay_by_bank", "bank_payment_done", "scheduled_payments", "scheduled_payment_cancel",
    "payment_methods", "payment_method_remove", "assistance_apply_discard", "assistance_documents_add",
    "payment_plan_withdraw", "certification_dispute_document", "text_settings", "text_incoming", "pay_by_text", "usage_alerts", "usage_download", "phone_line_start", "phone_line_language",
    "phone_line_account", "phone_line_zip", "phone_line_choice", "phone_line_amount", "phone_line_paid",
    "phone_line_retry", "phone_line_status",
}  # fmt: skip
ALLAUTH_PREFIXES = ("account_", "mfa_")

# Django's own admin pages, open to any staff login: the index, signing in and out, changing
# one's own password, the admin's scripts and its "view on site" and app-list helpers.
ADMIN_OWN = {"index", "login", "logout", "password_change", "password_change_done", "jsi18n", "view_on_site"}
ADMIN_OWN_SUFFIXES = ("_changelist", "_add", "_change", "_delete", "_history", "autocomplete", "app_list")


def walk_urls(patterns=None, prefix="", namespace=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk_urls(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}" if pattern.name else None


def staff_url_names() -> set[str]:
    """Admin views beyond Django's own, pages under /staff/ and the applicants' documents."""
    names = set()
    for route, name in walk_urls():
        if route.startswith("admin/"):
            if name is None or name.split(":")[-1] in ADMIN_OWN or name.endswith(ADMIN_OWN_SUFFIXES):
                continue
            names.add(name)
        elif route.startswith("staff/") or route.startswith("assistance/documents/"):
            names.add(name)
    return names


@pytest.fixture
def logins():
    """A client for each kind of login the matrix speaks of."""
    users = {
        "clerk": staff_user("Clerks"),
        "finance": staff_user("Finance"),
        "supervisor": staff_user("Supervisors"),
        "no role": staff_user(None),
        "no two-step": staff_user("Supervisors"),
        "customer": UserFactory(),
    }
    Authenticator.objects.filter(user=users["no two-step"]).delete()
    clients = {"guest": Client()}
    for kind, user in users.items():
        clients[kind] = Client()
        clients[kind].force_login(user)
    return {"users": users, "clients": clients}


@pytest.fixture
def objects(logins):
    """One of each object the staff URLs name."""
    applicant = UserFactory()
    account = AccountLinkFactory(user=applicant).service_account
    post(account, "charge", "300.00", D(2026, 2, 1), D(2026, 2, 20))
    certification_sweep(year=2026, today=D(2026, 6, 21))
    certification = Certification.objects.get(service_account=account)
    dispute = Dispute.objects.create(certification=certification, opened_by=applicant, reason="Not mine")
    application = submit(applicant, account)
    card_payment = Payment.objects.create(
        service_account=account,
        amount=Decimal("400.00"),
        channel=Payment.Channel.ONLINE,
        method=Payment.Method.CARD,
        status=Payment.Status.SUCCEEDED,
        stripe_payment_intent_id=f"pi_{uuid.uuid4().hex[:12]}",
        received_on=D(2026, 7, 1),
    )
    check_payment = Payment.objects.create(
        service_account=account,
        amount=Decimal("20.00"),
        channel=Payment.Channel.MAIL,
        method=Payment.Method.CHECK,
        status=Payment.Status.SUCCEEDED,
        received_on=D(2026, 7, 1),
    )
    batch = PaymentBatch.objects.create(
        kind="mail", deposit_date=D(2026, 7, 2), control_total=Decimal("10.00"), control_count=1
    )
    refund = Refund.objects.create(
        payment=card_payment,
        amount=Decimal("300.00"),
        reason="Paid twice",
        status=Refund.Status.AWAITING_APPROVAL,
        created_by=logins["users"]["finance"],
    )
    from billing.models import Adjustment
    from billing.tests.factories import BillFactory, adjustment_reason

    adjustment = Adjustment.objects.create(
        service_account=account,
        kind="credit",
        amount=Decimal("5.00"),
        reason=adjustment_reason(),
        memo="Courtesy",
        status="posted",
        requested_by=logins["users"]["clerk"],
    )
    from billing.models import ServiceRequest

    service_request = ServiceRequest.objects.create(
        kind="move_out", requested_by=applicant, from_account=account, stop_on=D(2026, 8, 1)
    )
    from django.conf import settings as django_settings

    from kernel.models import Run
    from kernel.runs import file_keep

    run = Run.objects.create(kind="nacha", label="NACHA file", status="succeeded")
    kept = django_settings.PRIVATE_MEDIA_ROOT / "roles-test.txt"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text("6 entry")
    return {
        "run": run,
        "stored_file": file_keep(run=run, path=kept, permission="portal.start_runs"),
        "account": account,
        "service_request": service_request,
        "adjustment": adjustment,
        "bill": BillFactory(service_account=account),
        "application": application,
        "document": application.documents.first(),
        "dispute": dispute,
        "card_payment": card_payment,
        "check_payment": check_payment,
        "batch": batch,
        "refund": refund,
    }


def outcome(response) -> str:
    """What the login got: the page ("allowed"), or how it was turned away."""
    location = response.get("Location", "")
    if response.status_code in (200, 405):  # 405: a POST-only step reached, asked with GET
        return "allowed"
    if response.status_code == 302 and location == reverse("mfa_activate_totp"):
        return "set up two-step"
    if response.status_code == 302 and re.match(r"^/(auth|admin)/login/", location):
        return "sign in"
    if response.status_code in (403, 404):
        return "refused"
    raise AssertionError(f"unexpected {response.status_code} {location}")


def expected(kind: str, allowed: set[str], *, refused_customer: str = "sign in") -> str:
    if kind in STAFF:
        return "allowed" if kind in allowed else "refused"
    return {
        "no role": "refused",
        "no two-step": "set up two-step",
        "customer": refused_customer,
        "guest": "sign in",
    }[kind]


def test_every_admin_action_and_model_is_in_the_matrix():
    superuser = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    actions, models = set(), set()
    for model, model_admin in admin.site._registry.items():
        models.add(model._meta.label_lower)
        actions |= {(model._meta.label_lower, name) for name in model_admin.get_actions(request)}
    assert actions == set(ACTIONS), "list the new admin action in ACTIONS with the roles that may run it"
    assert models == set(MODEL_PAGES), "list the new admin model in MODEL_PAGES with who sees and adds"


def test_every_staff_url_is_in_the_matrix():
    assert staff_url_names() == set(STAFF_URLS), "list the new staff URL in STAFF_URLS with who may open it"
    # A page anywhere else must be named as the customers' or the public's, or it is taken for
    # a staff page that the matrix does not cover yet.
    others = {name for route, name in walk_urls() if not route.startswith("admin/")} - set(STAFF_URLS)
    unknown = {
        name for name in others if name not in NOT_STAFF and not str(name).startswith(ALLAUTH_PREFIXES)
    }
    assert not unknown, f"say whether these are staff pages (STAFF_URLS) or not (NOT_STAFF): {unknown}"


def test_each_role_runs_only_its_own_admin_actions(logins):
    for kind in (*STAFF, "no role"):
        request = RequestFactory().get("/admin/")
        request.user = logins["users"][kind]
        for model, model_admin in admin.site._registry.items():
            offered = set(model_admin.get_actions(request))
            for (label, action), allowed in ACTIONS.items():
                if label == model._meta.label_lower:
                    assert (action in offered) == (kind in allowed), f"{kind}: {label} {action}"


def test_each_role_changes_and_deletes_only_what_its_role_gives(logins):
    for kind in (*STAFF, "no role"):
        request = RequestFactory().get("/admin/")
        request.user = logins["users"][kind]
        for model, model_admin in admin.site._registry.items():
            _, _, changers, deleters = MODEL_PAGES[model._meta.label_lower]
            label = model._meta.label_lower
            assert model_admin.has_change_permission(request) == (kind in changers), f"{kind} changes {label}"
            assert model_admin.has_delete_permission(request) == (kind in deleters), f"{kind} deletes {label}"


def test_each_login_sees_and_adds_only_what_its_role_gives(logins):
    for label, (viewers, adders, _, _) in MODEL_PAGES.items():
        app_label, model = label.split(".")
        for page, allowed in (("changelist", viewers), ("add", adders)):
            url = reverse(f"admin:{app_label}_{model}_{page}")
            for kind, client in logins["clients"].items():
                got = outcome(client.get(url))
                assert got == expected(kind, allowed), f"{kind} on {url}: {got}"


def test_each_login_opens_only_the_staff_urls_its_role_gives(logins, objects):
    for name, (allowed, kwargs) in STAFF_URLS.items():
        url = reverse(name, kwargs=kwargs(objects)) + QUERY.get(name, "")
        # A customer who is not the applicant gets "Page not found" for a document; a staff page
        # sends them to sign in as staff.
        refused_customer = "refused" if name == "assistance_document" else "sign in"
        for kind, client in logins["clients"].items():
            got = outcome(client.get(url))
            assert got == expected(kind, allowed, refused_customer=refused_customer), (
                f"{kind} on {name}: {got}"
            )


def test_staff_without_two_step_reach_nothing_but_its_set_up_whatever_the_path(logins, objects):
    client = logins["clients"]["no two-step"]
    checked = 0
    for route, _ in walk_urls():
        if "(?P" in route or route.startswith(("auth/", "language/", "static/")):
            continue
        path = "/" + re.sub(r"<[^>]+>", str(objects["document"].pk), route)
        got = client.get(path)
        assert got.status_code == 302 and got["Location"] == reverse("mfa_activate_totp"), (
            f"{path}: {got.status_code}"
        )
        assert client.post(path, {}).status_code == 403, path
        checked += 1
    assert checked > 100
    # The way out stays open: the authenticator's set-up page and signing out.
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200 or response["Location"].startswith(reverse("account_reauthenticate"))


def test_finance_cannot_approve_an_application_by_posting_the_action(logins, objects):
    application = objects["application"]

    response = logins["clients"]["finance"].post(
        reverse("admin:assistance_assistanceapplication_changelist"),
        {"action": "approve", "_selected_action": [application.pk]},
    )

    assert response.status_code in (200, 302)
    application.refresh_from_db()
    assert application.status == AssistanceApplication.Status.SUBMITTED
    assert not application.service_account.ledger_entries.filter(
        source_key=f"assist:{application.pk}"
    ).exists()


def test_setup_roles_creates_the_groups_and_puts_back_what_was_changed_by_hand():
    from django.contrib.auth.models import Permission

    call_command("setup_roles", verbosity=0)
    clerks = Group.objects.get(name="Clerks")
    stray = Permission.objects.get(codename="approve_refund")
    clerks.permissions.add(stray)
    clerks.permissions.remove(Permission.objects.get(codename="take_phone_payment"))

    call_command("setup_roles", verbosity=0)

    held = {f"{p.content_type.app_label}.{p.codename}" for p in clerks.permissions.all()}
    assert held == set(roles.role_permissions("Clerks"))
    assert "billing.approve_refund" not in held and "billing.take_phone_payment" in held
    assert set(Group.objects.values_list("name", flat=True)) >= {"Clerks", "Finance", "Supervisors"}
    finance = set(roles.role_permissions("Finance"))
    assert not finance & {
        "assistance.decide_assistanceapplication",
        "assistance.decide_paymentplan",
        "billing.post_paymentbatch",
    }


def test_setup_roles_names_a_permission_the_database_lacks_and_changes_nothing(monkeypatch):
    call_command("setup_roles", verbosity=0)
    before = Group.objects.get(name="Finance").permissions.count()
    monkeypatch.setitem(roles.CAPABILITIES, "refund card payments", ["billing.refund_by_carrier_pigeon"])

    with pytest.raises(CommandError, match="billing.refund_by_carrier_pigeon"):
        call_command("setup_roles", verbosity=0)

    assert Group.objects.get(name="Finance").permissions.count() == before


def test_the_readme_shows_the_roles_as_the_code_defines_them():
    from pathlib import Path

    from django.conf import settings

    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert roles.roles_matrix_markdown() in readme, "paste roles.roles_matrix_markdown() into the README"
