"""A real Celery worker in its own process, on the test database, that a test can SIGKILL."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import psycopg2
from django.db import connection


@contextmanager
def tasks_queued():
    """Tasks go to Redis for a worker, as in production, instead of running where they are sent
    (the tests' default)."""
    from celery import current_app

    current_app.conf.task_always_eager = False
    try:
        yield
    finally:
        current_app.conf.task_always_eager = True


def wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def worker_kill_when(worker, condition, *, timeout: float = 60) -> bool:
    """SIGKILL the worker once `condition()` holds (or the timeout passes); True when it held.
    The test's own connection is closed after, to be fresh once the worker is gone."""
    held = wait_for(condition, timeout=timeout)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    connection.close()
    return held


@contextmanager
def worker_process(log_path, **env):
    db = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@/{db['NAME']}?host={db['OPTIONS'].get('host', db['HOST'])}",
        **env,
    }
    log = open(log_path, "wb")  # noqa: SIM115 (closed below, after the process)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        log.close()


@contextmanager
def balance_row_held(service_account_id: int):
    """Hold one account's balance row, as a long posting would: a run that reaches it waits."""
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM billing_billingaccount WHERE service_account_id = %s FOR UPDATE",
                [service_account_id],
            )
        yield
    finally:
        other.rollback()
        other.close()


def someone_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0
