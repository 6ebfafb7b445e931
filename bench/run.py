"""`make bench`: the benchmarks of issue 8, at 100,000 accounts, each beside a baseline measured
in the same run on the same machine. Results go to bench/results/ as JSON and Markdown.

    python -m portal.devservices exec -- python -m bench.run [--accounts N] [--only bill,cert,...]
"""

import argparse
import datetime as dt
import io
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results"


def setup_django():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def copy_baseline(rows: int) -> float:
    """A plain COPY of `rows` ledger-like rows into a scratch table: what the disk and database
    can do at best on this machine, to judge the bill run against."""
    from django.db import connection

    data = io.StringIO(
        "".join(f"{i}\tcharge\t59.70\t2026-09-01\t2026-09-20\tbench:copy:{i}\n" for i in range(rows))
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            "CREATE TABLE bench_copy (account_id int, kind text, amount numeric(12,2), posted_on date, due_date date, source_key text UNIQUE)"
        )
        started = time.perf_counter()
        cursor.copy_expert("COPY bench_copy FROM STDIN", data)
        connection.commit() if not connection.get_autocommit() else None
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    return elapsed


def bench_bill_run(accounts: int) -> dict:
    from bench.dataset import NEXT_PERIOD
    from billing.calendar import add_months
    from billing.services.bills import bills_run

    seconds, result = timed(
        lambda: bills_run(period=NEXT_PERIOD, issued_on=add_months(NEXT_PERIOD, 1), notify=False)
    )
    baseline = copy_baseline(result.created)
    fan_out_seconds, workers = bill_run_fanned_out(add_months(NEXT_PERIOD, 1), expected=result.created)
    best = min(seconds, fan_out_seconds)
    return {
        "bills": result.created,
        "seconds": round(seconds, 2),
        "bills_per_second": round(result.created / seconds, 1),
        "fan_out_workers": workers,
        "fan_out_seconds": round(fan_out_seconds, 2),
        "fan_out_bills_per_second": round(result.created / fan_out_seconds, 1),
        "baseline_copy_seconds": round(baseline, 3),
        "ratio_to_baseline": round(best / baseline, 1),
        "target_seconds": 15,
        "fan_out_target_seconds": 10,
        "met": seconds <= 15 and fan_out_seconds <= 10,
    }


def bill_run_fanned_out(period, *, expected: int) -> tuple[float, int]:
    """The next month's run with its chunks spread over Celery worker processes (one per core)."""
    from billing.calendar import add_months
    from billing.models import Bill
    from billing.services.bills import bills_run
    from portal.celery import app

    workers = os.cpu_count() or 1
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=WARNING",
                "-n",
                f"bench{n}@%h",
            ],
            env=env,
            cwd=BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(workers)
    ]
    try:
        time.sleep(5)  # the workers connect
        app.conf.task_always_eager = False
        started = time.perf_counter()
        bills_run(period=period, issued_on=add_months(period, 1), notify=False, fan_out=True)
        while Bill.objects.filter(period=period).count() < expected and time.perf_counter() - started < 900:
            time.sleep(0.5)
        return time.perf_counter() - started, workers
    finally:
        app.conf.task_always_eager = True
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def bench_certification(accounts: int) -> dict:
    from certification.services.exports import certification_csv
    from certification.services.sweep import certification_sweep

    sweep_seconds, result = timed(lambda: certification_sweep(year=2026, today=dt.date(2026, 6, 21)))
    export_seconds, data = timed(lambda: certification_csv(year=2026))
    baseline = copy_baseline(len(result.certified) or 1)
    total = sweep_seconds + export_seconds
    return {
        "accounts": accounts,
        "certified": len(result.certified),
        "sweep_seconds": round(sweep_seconds, 2),
        "export_seconds": round(export_seconds, 2),
        "export_bytes": len(data),
        "seconds": round(total, 2),
        "baseline_copy_seconds": round(baseline, 3),
        "target_seconds": 20,
        "met": total <= 20,
    }


def bench_aging(accounts: int) -> dict:
    from billing.reports import aging_report

    seconds, report = timed(lambda: aging_report(as_of=dt.date(2026, 8, 31)))
    return {"accounts": accounts, "rows": len(report.rows), "seconds": round(seconds, 2)}


def bench_pages(requests: int = 60) -> dict:
    """What the account, bill and dashboard pages cost, in process (Django's test client): the
    median of `requests` requests each for a customer with three accounts, one delinquent."""
    import statistics

    from django.test import Client
    from django.urls import reverse

    from accounts.models import AccountLink, ServiceAccount, User
    from billing.models import Bill

    user = User.objects.create_user(email=f"bench-pages-{time.time_ns()}@example.com", password="x")
    accounts = list(ServiceAccount.objects.filter(pk__in=[10, 11, 12]))  # 10 is delinquent
    for account in accounts:
        AccountLink.objects.create(user=user, service_account=account)
    bill = Bill.objects.filter(service_account=accounts[0]).order_by("-period").first()
    client = Client()
    client.force_login(user)
    urls = {
        "dashboard": reverse("dashboard"),
        "account page": reverse("service_account_detail", args=[accounts[0].pk]),
        "bill page": reverse("bill_detail", args=[accounts[0].pk, bill.pk]),
    }
    figures = {}
    for name, url in urls.items():
        client.get(url)  # warm
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        figures[name] = round(statistics.median(times) * 1000, 2)
    return figures


def bench_autopay(enrollments: int) -> dict:
    from django.conf import settings

    from accounts.models import ServiceAccount, User
    from autopay.models import AutopayEnrollment
    from autopay.services.drafts import autopay_run
    from autopay.services.enrollment import card_save, card_setup_start
    from billing import stripe_gateway as gateway

    user = User.objects.create_user(email="bench-autopay@example.com", password="Bench-Pass-1!")
    secret = card_setup_start(user=user)
    intent = gateway.setup_intent_confirm_test_card(secret.split("_secret_")[0])
    card = card_save(user=user, setup_intent_id=intent.id)
    accounts = list(ServiceAccount.objects.order_by("pk").values_list("pk", flat=True)[:enrollments])
    AutopayEnrollment.objects.bulk_create(
        [
            AutopayEnrollment(
                service_account_id=pk, user=user, card=card, draft_day=5, starts_on=dt.date(2026, 1, 1)
            )
            for pk in accounts
        ]
    )
    from billing.models import Payment
    from billing.tasks import payment_after_success
    from portal.celery import app

    gateway.STATS.update(calls=0, request_seconds=0.0, pacing_seconds=0.0)
    # As in production, the receipts go to the queue for the workers (none runs here): the run's
    # own work is the claims, the charges and the postings. The receipts are timed apart below.
    app.conf.task_always_eager = False
    try:
        seconds, result = timed(lambda: autopay_run(on=dt.date(2026, 9, 5)))
    finally:
        app.conf.task_always_eager = True
    stripe_seconds = gateway.STATS["request_seconds"] + gateway.STATS["pacing_seconds"]
    paid = list(Payment.objects.filter(channel=Payment.Channel.AUTOPAY).values_list("pk", flat=True))
    receipt_seconds, _ = timed(lambda: [payment_after_success(pk) for pk in paid])
    return {
        "enrollments": enrollments,
        "drafted": result.drafted,
        "succeeded": result.succeeded,
        "skipped": result.skipped,
        "seconds": round(seconds, 1),
        "stripe_calls": gateway.STATS["calls"],
        "stripe_request_seconds": round(gateway.STATS["request_seconds"], 1),
        "stripe_pacing_seconds": round(gateway.STATS["pacing_seconds"], 1),
        "own_work_seconds": round(seconds - stripe_seconds, 1),
        "receipts": len(paid),
        "receipt_seconds": round(receipt_seconds, 1),
        "max_requests_per_second_setting": settings.STRIPE_MAX_REQUESTS_PER_SECOND,
        "observed_requests_per_second": round(gateway.STATS["calls"] / seconds, 1) if seconds else 0,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The web benchmark's three loads: (name, users, think time "low,high" in seconds).
WEB_LOADS = [
    ("one user at a time", 1, "0,0"),
    ("50 users reading pages", 50, "1,3"),
    ("50 users, no pauses", 50, "0,0"),
]


def bench_web(users: int, run_seconds: int) -> dict:
    """gunicorn (sync workers, two per core + 1) under locust from a second process: one user
    alone (what a page costs), 50 people reading pages (1-3 s between clicks: the target), and
    50 users clicking without pause (the most this machine can answer)."""
    from accounts.models import AccountLink, ServiceAccount, User
    from billing.models import Bill

    user = User.objects.create_user(email="bench-web@example.com", password="Bench-Pass-1!")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    accounts = list(
        ServiceAccount.objects.filter(pk__in=Bill.objects.values("service_account_id")).order_by("pk")[:3]
    )
    for account in accounts:
        AccountLink.objects.create(user=user, service_account=account)
    bill = Bill.objects.filter(service_account=accounts[0]).first()
    port = free_port()
    env = {
        **os.environ,
        "QUICK_PAY_LOOKUP_RATE": "1000000/m",
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
    }
    workers = str(2 * (os.cpu_count() or 1) + 1)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            workers,
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=BASE_DIR,
    )
    loads = {}
    try:
        import urllib.request

        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        for name, load_users, think in WEB_LOADS:
            load_users = min(load_users, users)
            loads[name] = {
                "users": load_users,
                "think_seconds": think.replace(",", "-"),
                "endpoints": run_locust(
                    port,
                    env={
                        **env,
                        "BENCH_THINK": think,
                        "BENCH_ACCOUNT": str(accounts[0].pk),
                        "BENCH_BILL": str(bill.pk),
                        "BENCH_ACCOUNT_NUMBER": accounts[0].account_number,
                        "BENCH_ZIP": accounts[0].service_zip,
                    },
                    users=load_users,
                    run_seconds=run_seconds,
                ),
            }
    finally:
        server.terminate()
        server.wait(timeout=20)
    target = loads["50 users reading pages"]["endpoints"]
    return {
        "users": users,
        "seconds": run_seconds,
        "gunicorn_workers": int(workers),
        "loads": loads,
        "target_p95_ms": 50,
        "met": all(target.get(n, {}).get("p95_ms", 1e9) <= 50 for n in ("dashboard", "bill page")),
    }


def run_locust(port: int, *, env: dict, users: int, run_seconds: int) -> dict:
    import csv

    out = Path(tempfile.mkdtemp(prefix="bench-locust-"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(BASE_DIR / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(max(1, users // 5)),
            # Users start over five seconds and the figures count from when all are running:
            # the steady state, not the first seconds' sign-ins and worker warm-up.
            "--reset-stats",
            "-t",
            f"{run_seconds}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(out / "web"),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        check=False,
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
    )
    results = {}
    for row in csv.DictReader((out / "web_stats.csv").open()):
        if row["Name"] == "Aggregated":
            continue
        results[row["Name"]] = {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "requests_per_second": round(float(row["Requests/s"]), 1),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
        }
    return results


def bench_seed_demo(accounts: int) -> dict:
    """seed_demo in a database of its own, timed from a second process."""
    from django.db import connection

    name = "bench_seed"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    url = os.environ["DATABASE_URL"].replace("/portal?", f"/{name}?")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR, check=True
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--accounts", str(accounts)],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.perf_counter() - started
    return {
        "accounts": accounts,
        "seconds": round(seconds, 1),
        "ok": done.returncode == 0,
        "accounts_per_second": round(accounts / seconds, 1),
    }


IMPORT_TARGETS = {"rows_per_second": 100_000, "again_rows_per_second": 200_000, "peak_mb": 300}


def transactions_file(path: Path, *, accounts: int, rows: int) -> None:
    """transactions.csv of `rows` rows over the benchmark's accounts: bills and payments dated
    after its history, a ref each."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("ref,account_number,date,kind,amount,due_date,description\n")
        start = dt.date(2026, 9, 1)
        for n in range(rows):
            account = f"{n % accounts + 1:07d}-01"
            day = start + dt.timedelta(days=(n // accounts) % 3650)
            if n % 2:
                handle.write(f"bench-{n},{account},{day},payment,{40 + n % 60}.25,,\n")
            else:
                due = day + dt.timedelta(days=20)
                handle.write(f"bench-{n},{account},{day},charge,{40 + n % 60}.25,{due},Converted bill\n")


def run_measured(args: list[str]) -> tuple[float, int, str]:
    """A manage.py command in a process of its own: (seconds, peak memory in MB, its output)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    code = (
        "import resource, sys, runpy; sys.argv = ['manage.py', *sys.argv[1:]]\n"
        "try:\n    runpy.run_path('manage.py', run_name='__main__')\n"
        "finally:\n    print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.perf_counter() - started
    peak = [line for line in done.stderr.splitlines() if line.startswith("peak_kb")]
    if done.returncode != 0 or not peak:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr[-2000:]}")
    return seconds, int(peak[-1].split()[1]) // 1024, done.stdout


def bench_imports(accounts: int, rows: int) -> dict:
    """import_transactions of a generated file of `rows` rows, then the same file again."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "transactions.csv"
        transactions_file(path, accounts=accounts, rows=rows)
        size_mb = path.stat().st_size // 2**20
        seconds, peak, output = run_measured(["import_transactions", str(path)])
        again_seconds, again_peak, again_output = run_measured(["import_transactions", str(path)])
    figures = {
        "rows": rows,
        "file_mb": size_mb,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
        "peak_mb": peak,
        "again_seconds": round(again_seconds, 1),
        "again_rows_per_second": round(rows / again_seconds),
        "again_peak_mb": again_peak,
        "output": output.strip().splitlines()[-1:] + again_output.strip().splitlines()[-1:],
    }
    figures["met"] = (
        figures["rows_per_second"] >= IMPORT_TARGETS["rows_per_second"]
        and figures["again_rows_per_second"] >= IMPORT_TARGETS["again_rows_per_second"]
        and max(peak, again_peak) <= IMPORT_TARGETS["peak_mb"]
    )
    return figures


def bench_make_test() -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        ["make", "test"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        env={
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "STRIPE_SECRET_KEY")
        },
    )
    seconds = time.perf_counter() - started
    summary = [line for line in done.stdout.splitlines() if " passed" in line or " failed" in line][-1:]
    return {
        "seconds": round(seconds, 1),
        "target_seconds": 600,
        "met": seconds <= 600 and done.returncode == 0,
        "summary": summary[0].strip("= ") if summary else "",
    }


def yes(met: bool) -> str:
    return "yes" if met else "no"


HISTORY_FIGURES = [  # (what, benchmark, figure, unit)
    ("bill run, one process", "bill_run", "seconds", "s"),
    ("certification sweep + export", "certification", "seconds", "s"),
    ("aging report", "aging", "seconds", "s"),
    ("dashboard page, median", "pages", "dashboard", "ms"),
    ("account page, median", "pages", "account page", "ms"),
    ("bill page, median", "pages", "bill page", "ms"),
]
HISTORY_RATIO = 1.2  # the longest history's figure within this multiple of the shortest's


def history_rows(results: dict) -> list[str]:
    """Each history-independent cost at the longest history beside the shortest, its baseline."""
    months = results.get("history_months") or []
    if len(months) < 2:
        return []
    short, long = results["by_history"][str(min(months))], results["by_history"][str(max(months))]
    rows = []
    for what, bench, figure, unit in HISTORY_FIGURES:
        if bench not in short or bench not in long:
            continue
        base, value = short[bench][figure], long[bench][figure]
        ratio = value / base if base else 0
        rows.append(
            f"| {what}, {max(months)} months of history | {value} {unit} (×{ratio:.2f}) | {min(months)} months: {base} {unit} | ≤ ×{HISTORY_RATIO} | {yes(ratio <= HISTORY_RATIO)} |"
        )
    return rows


def write(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = RESULTS / "latest.json"
    if previous.exists():
        # A partial run (--only) keeps the other benchmarks' latest figures, per history too.
        old = json.loads(previous.read_text())
        histories = old.get("by_history", {})
        for months, figures in results.get("by_history", {}).items():
            histories[months] = {**histories.get(months, {}), **figures}
        results = {**old, **results, "by_history": histories}
        results["history_months"] = sorted(int(months) for months in histories)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    lines = [
        f"# Benchmarks, {results['date']}",
        "",
        f"Machine: {results['cores']} cores, {results['machine']}; PostgreSQL, Redis and localstripe on the same machine.",
        "",
        "| benchmark | result | baseline / setting | target | met |",
        "|---|---|---|---|---|",
    ]
    b = results.get("bill_run")
    if b:
        lines.append(
            f"| bill run, {b['bills']:,} bills, one process | {b['seconds']} s ({b['bills_per_second']:,} bills/s) | COPY of the same rows: {b['baseline_copy_seconds']} s | ≤ 15 s | {yes(b['seconds'] <= 15)} |"
        )
        lines.append(
            f"| bill run, {b['bills']:,} bills, fanned out to {b['fan_out_workers']} Celery workers | {b['fan_out_seconds']} s ({b['fan_out_bills_per_second']:,} bills/s) | best is ×{b['ratio_to_baseline']} the COPY | ≤ 10 s | {yes(b['fan_out_seconds'] <= 10)} |"
        )
    lines += history_rows(results)
    c = results.get("certification")
    if c:
        lines.append(
            f"| certification sweep + export, {c['accounts']:,} accounts, {c['certified']:,} certified | {c['seconds']} s (sweep {c['sweep_seconds']} s, export {c['export_seconds']} s) | COPY: {c['baseline_copy_seconds']} s | ≤ 20 s | {'yes' if c['met'] else 'no'} |"
        )
    a = results.get("autopay")
    if a:
        lines.append(
            f"| autopay, {a['enrollments']:,} enrollments ({a['succeeded']:,} charged) | {a['seconds']} s: Stripe {a['stripe_request_seconds']} s + pacing {a['stripe_pacing_seconds']} s, own work {a['own_work_seconds']} s | {a['observed_requests_per_second']} req/s observed, limit {a['max_requests_per_second_setting']} | never above the limit | {yes(a['observed_requests_per_second'] <= a['max_requests_per_second_setting'])} |"
        )
        share = a["own_work_seconds"] / a["seconds"] if a["seconds"] else 0
        lines.append(
            f"| autopay, our own work | {share:.0%} of the run ({a['own_work_seconds']} s of {a['seconds']} s) | Stripe and pacing: the rest | ≤ 5% | {yes(share <= 0.05)} |"
        )
        if "receipts" in a:
            lines.append(
                f"| autopay receipts, sent by the workers apart from the run | {a['receipt_seconds']} s for {a['receipts']:,} | | — |  |"
            )
    w = results.get("web")
    if w and "loads" in w:
        for load, measured in w["loads"].items():
            for name, e in measured["endpoints"].items():
                if name.startswith("("):
                    continue  # signing in and its form: each user once, at the start
                target = (
                    "p95 ≤ 50 ms"
                    if load == "50 users reading pages" and name in ("dashboard", "bill page")
                    else "—"
                )
                met = ("yes" if e["p95_ms"] <= 50 else "no") if target != "—" else ""
                lines.append(
                    f"| web: {name}, {load} ({measured['users']} users, {measured['think_seconds']} s between pages, {w['gunicorn_workers']} gunicorn workers) | {e['requests_per_second']} req/s, p50 {e['p50_ms']:.0f} ms, p95 {e['p95_ms']:.0f} ms, p99 {e['p99_ms']:.0f} ms ({e['failures']} failures) | | {target} | {met} |"
                )
    i, t = results.get("imports"), IMPORT_TARGETS
    if i:
        lines.append(
            f"| import_transactions, {i['rows']:,} rows ({i['file_mb']} MB) | {i['seconds']} s ({i['rows_per_second']:,} rows/s), peak {i['peak_mb']} MB | COPY: 125,000–775,000 rows/s | ≥ {t['rows_per_second']:,} rows/s, ≤ {t['peak_mb']} MB | {yes(i['rows_per_second'] >= t['rows_per_second'] and i['peak_mb'] <= t['peak_mb'])} |"
        )
        lines.append(
            f"| import_transactions, the same file again | {i['again_seconds']} s ({i['again_rows_per_second']:,} rows/s), peak {i['again_peak_mb']} MB | | ≥ {t['again_rows_per_second']:,} rows/s, ≤ {t['peak_mb']} MB | {yes(i['again_rows_per_second'] >= t['again_rows_per_second'] and i['again_peak_mb'] <= t['peak_mb'])} |"
        )
    s = results.get("seed_demo")
    if s:
        lines.append(
            f"| seed_demo --accounts {s['accounts']:,} | {s['seconds']} s ({s['accounts_per_second']:,} accounts/s) | | ≤ 120 s | {yes(s['ok'] and s['seconds'] <= 120)} |"
        )
    t = results.get("make_test")
    if t:
        lines.append(
            f"| make test | {t['seconds']} s ({t['summary']}) | | ≤ 600 s | {'yes' if t['met'] else 'no'} |"
        )
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--autopay-enrollments", type=int, default=10_000)
    parser.add_argument("--web-seconds", type=int, default=40)
    parser.add_argument("--import-rows", type=int, default=5_000_000)
    parser.add_argument("--only", default="bill,cert,aging,pages,autopay,web,imports,seed,test")
    parser.add_argument(
        "--history-months",
        default="13,61",
        help="months of ledger history, comma-separated: history-independent costs are compared across them",
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    setup_django()
    from bench.dataset import build, reset

    results = {
        "date": dt.date.today().isoformat(),
        "cores": os.cpu_count(),
        "machine": platform.platform(),
        "accounts": args.accounts,
    }
    histories = [int(m) for m in args.history_months.split(",")]
    by_history = {}
    for months in histories:
        reset()
        build_seconds, _ = timed(lambda: build(args.accounts, months))  # noqa: B023
        print(f"dataset of {args.accounts:,} accounts, {months} months, in {build_seconds:.1f} s", flush=True)
        figures = {"dataset_seconds": round(build_seconds, 1)}
        for key, name, fn in [
            ("cert", "certification", lambda: bench_certification(args.accounts)),
            ("aging", "aging", lambda: bench_aging(args.accounts)),
            ("bill", "bill_run", lambda: bench_bill_run(args.accounts)),
            ("pages", "pages", bench_pages),  # after the bill run: the bill page shows its bill
        ]:
            if key in only:
                figures[name] = fn()
                print(months, name, json.dumps(figures[name], default=str), flush=True)
        by_history[months] = figures
    results["history_months"] = histories
    results["by_history"] = {str(m): f for m, f in by_history.items()}
    results.update(by_history[histories[0]])  # the figures below are the first history's
    for key, name, fn in [
        ("web", "web", lambda: bench_web(50, args.web_seconds)),
        ("autopay", "autopay", lambda: bench_autopay(args.autopay_enrollments)),
        ("imports", "imports", lambda: bench_imports(args.accounts, args.import_rows)),
        ("test", "make_test", bench_make_test),
        ("seed", "seed_demo", lambda: bench_seed_demo(args.accounts)),
    ]:
        if key in only:
            results[name] = fn()
            print(name, json.dumps(results[name], default=str), flush=True)
            write(results)
    write(results)
    print((RESULTS / "latest.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
