"""Fixtures for browser journeys: Chromium driven by Playwright, axe-core on every page."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = "Chromium is not installed (make test installs it when run as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the browser tests.")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser, base_url: str, **context_options):
    """A page that records every Content-Security-Policy violation Chromium reports."""
    context = browser.new_context(base_url=base_url, **context_options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_violations.append(message.text)
        ),
    )
    return page


@pytest.fixture
def page(browser, live_server):
    page = new_page(browser, live_server.url)
    yield page
    violations = page.csp_violations
    page.context.close()
    # Every journey doubles as a check that the policy lets the portal (and Stripe.js) work.
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


# An iPhone 12-14's screen: the width the assistance, plan and dispute journeys are tried at.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone_page(browser, live_server):
    page = new_page(browser, live_server.url, **PHONE)
    yield page
    violations = page.csp_violations
    page.context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def sign_in(page, email: str, password: str) -> None:
    page.goto("/auth/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()


def current_totp_code(secret: str) -> str:
    """What an authenticator app would show now (RFC 6238)."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def staff_sign_in(page, email: str, password: str, totp_key: str, *, next_url: str = "/admin/") -> None:
    """Sign in as staff: the admin sends staff to the portal's sign-in, then the code step."""
    page.goto(next_url)
    page.wait_for_url("**/auth/login/**")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/auth/2fa/authenticate/**")
    import time

    # A code is good for its 30-second window only (no tolerance): near the end of one, wait for
    # the next so the code is still current when the form arrives.
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.5)
    page.get_by_label("Code").fill(current_totp_code(totp_key))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**{next_url}")


def confirm_password(page, password: str) -> None:
    """allauth's "confirm your password" step before a sensitive change."""
    page.wait_for_url("**/auth/reauthenticate/**")
    assert_accessible(page)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Confirm").click()


def assert_accessible(page) -> None:
    """Fail on any WCAG 2.1 A or AA violation axe-core finds on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    # The card field is Stripe's own (an accessible iframe on real Stripe). Under test it is
    # localstripe's stand-in, plain unlabelled inputs that are not ours to fix: left out.
    context = {"exclude": [["#card-element"]]} if page.locator("#card-element").count() else None
    results = Axe().run(page, context=context, options=AXE_OPTIONS)
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in results.response["violations"]
    ]
    assert not problems, f"accessibility violations on {page.url}:\n" + "\n".join(problems)


def tick(page, label: str) -> None:
    """Check a USWDS box or radio as a person does: by its label (the input itself is drawn off
    screen). Idempotent, so a form shown again with the box ticked stays ticked."""
    from playwright.sync_api import expect

    box = page.get_by_label(label, exact=True)
    if not box.is_checked():
        page.locator(f"label[for='{box.get_attribute('id')}']").click()
    expect(box).to_be_checked()
