import os

# Playwright's sync API leaves an event loop running in the main thread; Django would
# then refuse database access from the test itself.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["kernel.testing.browser"]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters live in Redis; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _language_reset():
    """A request as a Spanish login leaves Spanish active in the thread; the next test starts
    from the default language, as a worker or a command does."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _queue_believed_up():
    """A test that took the broker down leaves this process waiting a minute before trying it
    again (kernel.outbox); the next test starts with it believed up."""
    import kernel.outbox

    kernel.outbox._broker_down_until = 0.0
    yield


@pytest.fixture
def celery_worker():
    """A real Celery worker, in this process, on the test Redis (tasks not run eagerly)."""
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = True
