"""`make run` prints every email in its own terminal, whichever process sent it: each process
writes to Django's file backend and the launcher's EmailTail reads what is new."""

import os
import subprocess
import sys
import time

from django.core.mail import EmailMessage, get_connection

from portal.devservices import EmailTail, run_defaults


def send(folder, subject):
    # Files are ordered by their time of writing, which some file systems keep only to the few
    # milliseconds: sends from different processes are never that close.
    time.sleep(0.05)
    connection = get_connection("django.core.mail.backends.filebased.EmailBackend", file_path=str(folder))
    EmailMessage(
        subject, f"Body of {subject}", "portal@example.com", ["customer@example.com"], connection=connection
    ).send()


def test_emails_from_every_process_reach_the_one_terminal_once(tmp_path):
    send(tmp_path, "From an earlier run")
    tail = EmailTail(tmp_path)  # started now: the earlier run's email was printed then

    send(tmp_path, "Receipt, from the web server")
    send(tmp_path, "Bill ready, from the worker")
    first = tail.new_text()
    send(tmp_path, "Autopay reminder, from make manage")
    second = tail.new_text()

    assert "From an earlier run" not in first + second
    assert first.index("Receipt, from the web server") < first.index("Bill ready, from the worker")
    assert "Autopay reminder" in second and "Receipt" not in second
    assert tail.new_text() == ""


def test_make_run_sends_every_process_to_the_file_backend():
    defaults = run_defaults(8000)
    assert defaults["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert defaults["EMAIL_FILE_PATH"].endswith("emails")


def test_the_settings_write_emails_where_make_run_reads_them(tmp_path):
    # A process started as `make run` starts each one: the settings read the folder it is given.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.base",
        "DJANGO_DEBUG": "true",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path),
    }
    script = (
        "import django; django.setup(); from django.core.mail import send_mail; "
        "send_mail('Your bill is ready', 'Body', 'portal@example.com', ['customer@example.com'])"
    )
    subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", script], env=env, check=True, capture_output=True, timeout=60
    )
    assert "Your bill is ready" in EmailTail(tmp_path, from_now=False).new_text()
