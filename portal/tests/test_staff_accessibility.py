"""Every admin and staff page a clerk or finance user can open, with axe-core on each: the
lists, an add form where the role may add, and a change (or view) page of a demo record."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from accounts.models import ServiceAccount
from accounts.tests.factories import PASSWORD, STAFF_TOTP_KEY, staff_user
from kernel.testing.browser import assert_accessible, new_page, staff_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pages_for(user) -> list[str]:
    """The admin pages this login may open, one record of each model, and the staff pages."""
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    urls = ["/admin/", reverse("staff_home")]
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        opts = model._meta
        if not model_admin.has_view_or_change_permission(request):
            continue
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model_admin.has_add_permission(request):
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        first = model.objects.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
    first_account = ServiceAccount.objects.order_by("pk").first()
    urls.append(reverse("staff_account", args=[first_account.pk]))
    if user.has_perm("billing.add_adjustment"):
        urls.append(reverse("staff_adjustment", args=[first_account.pk]))
    if user.has_perm("assistance.decide_assistanceapplication"):
        from assistance.models import AssistanceApplication

        application = AssistanceApplication.objects.order_by("pk").first()
        urls.append(reverse("admin:assistance_application_decide", args=[application.pk]))
    if user.has_perm("assistance.decide_paymentplan"):
        urls.append(reverse("staff_payment_plan", args=[first_account.pk]) + "?installments=3")
    urls.append(reverse("staff_service_requests"))
    if user.has_perm("billing.view_usagealert"):
        urls.append(reverse("staff_high_usage") + "?month=2026-11")
    urls.append(reverse("runs"))
    if user.has_perm("portal.start_runs"):
        from kernel.runs import run_kinds_for

        urls.extend(reverse("run_new", args=[kind.key]) for kind in run_kinds_for(user))
    if user.has_perm("billing.view_finance_reports"):
        urls.append(reverse("report_aging"))
        urls.append(reverse("finance_home"))
        urls.append(reverse("report_cash") + "?start=2026-01-01&end=2026-12-31")
        urls.append(reverse("report_journal") + "?start=2026-01-01&end=2026-12-31")
        from billing.reports import TABLE_REPORTS

        for key, kind in TABLE_REPORTS.items():
            query = "?year=2026" if kind.by == "year" else "?start=2026-01-01&end=2026-12-31"
            urls.append(reverse("report_table", args=[key]) + query)
    if user.has_perm("billing.add_payment"):
        urls.append(reverse("staff_lockbox_exceptions"))
    urls.append(reverse("staff_follow_ups"))
    if user.has_perm("accounts.add_accountnote"):
        urls.append(reverse("staff_worklist"))
    return urls


@pytest.mark.parametrize("role", ["Clerks", "Finance"])
def test_every_staff_page_passes_axe(browser, live_server, role):
    call_command("seed_demo", accounts=8)
    email = f"{role.lower()}@utility.example"
    user = staff_user(role, email=email)
    page = new_page(browser, live_server.url)
    staff_sign_in(page, email, PASSWORD, STAFF_TOTP_KEY)
    failures = []
    urls = pages_for(user)
    for url in urls:
        response = page.goto(url)
        if response is None or not response.ok:
            failures.append(f"{url}: HTTP {response.status if response else 'no answer'}")
            continue
        try:
            assert_accessible(page)
        except AssertionError as exc:
            failures.append(str(exc))
    assert len(urls) > 20
    assert not failures, f"{len(failures)} of {len(urls)} pages:\n" + "\n".join(failures)


def test_on_a_phone_an_admin_list_shows_its_filters_before_its_rows(browser, live_server):
    call_command("seed_demo", accounts=8)
    user = staff_user("Clerks", email="phone-clerk@utility.example")
    page = new_page(browser, live_server.url, viewport={"width": 390, "height": 844})
    staff_sign_in(page, user.email, PASSWORD, STAFF_TOTP_KEY)
    page.goto(reverse("admin:billing_ledgerentry_changelist"))
    filters = page.locator("#changelist-filter").bounding_box()
    rows = page.locator("#result_list").bounding_box()
    assert filters["y"] + filters["height"] <= rows["y"]
    assert_accessible(page)
