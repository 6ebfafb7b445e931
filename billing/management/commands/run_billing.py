from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from billing.calendar import parse_date, parse_period
from billing.services.bills import BILL_CHUNK, bill_candidates, bills_run
from kernel.errors import ApplicationError
from kernel.outbox import outbox_waiting


class Command(BaseCommand):
    help = "Issue the bills for a service month. A second run for the same month adds nothing."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="the service month, YYYY-MM")
        parser.add_argument("--issue-date", help="the bills' issue date, YYYY-MM-DD (default: today)")
        parser.add_argument("--no-email", action="store_true", help="do not send bill-ready emails")
        parser.add_argument(
            "--chunk-size", type=int, default=BILL_CHUNK, help=f"accounts per transaction ({BILL_CHUNK})"
        )
        parser.add_argument(
            "--fan-out",
            action="store_true",
            help="queue the chunks for Celery workers instead of billing here",
        )

    def handle(self, *args, period, issue_date, no_email, chunk_size, fan_out, **options):
        month = parse_period(period)
        if month is None:
            raise CommandError(f"--period {period!r} is not a month like 2026-10.")
        issued_on = None
        if issue_date:
            issued_on = parse_date(issue_date)
            if issued_on is None:
                raise CommandError(f"--issue-date {issue_date!r} is not a date like 2026-11-01.")
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        bar = tqdm(
            total=len(bill_candidates(period=month)),
            unit="account",
            desc=f"Billing {month:%Y-%m}",
            disable=options["verbosity"] < 1,
        )
        started = timezone.now()
        try:
            result = bills_run(
                period=month,
                issued_on=issued_on,
                notify=not no_email,
                chunk_size=chunk_size,
                progress=bar.update,
                fan_out=fan_out,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        finally:
            bar.close()
        if fan_out:
            self._fanned_out_report(result, month=month, started=started)
        else:
            self._report(result, month=month, started=started)

    def _fanned_out_report(self, result, *, month, started) -> None:
        self.stdout.write(
            self.style.SUCCESS(f"Bills for {month:%Y-%m}: {result.queued} accounts queued for the workers.")
        )
        waiting = outbox_waiting(task="billing.tasks.bills_run_chunk", since=started)
        if waiting:
            self.stdout.write(
                self.style.WARNING(
                    f"{waiting} of them wait for the queue (Redis is not answering); they are handed "
                    "to the workers within a minute of its return."
                )
            )

    def _report(self, result, *, month, started) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Bills for {month:%Y-%m} issued {result.issued_on}: {result.created} created, "
                f"{result.already_billed} already billed."
            )
        )
        emails = outbox_waiting(task="billing.tasks.bills_notify_ready", since=started)
        if emails:
            self.stdout.write(
                self.style.WARNING(
                    f"The bill-ready emails of {emails} bill(s) wait for the queue (Redis is not answering); "
                    "they are sent within a minute of its return."
                )
            )
        if result.missing_reads:
            shown = ", ".join(result.missing_reads[:20])
            more = f" and {len(result.missing_reads) - 20} more" if len(result.missing_reads) > 20 else ""
            self.stdout.write(
                self.style.WARNING(
                    f"{len(result.missing_reads)} water account(s) have no meter read for {month:%Y-%m} "
                    f"and were not billed: {shown}{more}. Import their reads and run again."
                )
            )
