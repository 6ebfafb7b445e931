import os

# Playwright's sync API leaves an event loop running in the main thread; Django would
# then refuse database access from the test itself.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["portal.tests.browser"]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters live in Redis; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
