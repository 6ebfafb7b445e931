"""The Content-Security-Policy as Chromium applies it."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_chromium_refuses_an_injected_inline_script_and_the_journeys_would_see_it(page, live_server):
    page.goto("/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)

    assert page.evaluate("() => window.injected") is None
    assert any("script-src" in v for v in page.csp_violations)
    page.csp_violations.clear()  # expected here; any other journey fails on one
