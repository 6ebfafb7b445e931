"""The bill run, started from the staff pages (kernel.runs): the bills of a service month, then
the print-and-mail vendor's bill file, kept with the run."""

from django import forms

from billing.calendar import add_months, local_today, parse_period
from billing.services.bills import bill_candidates, bills_run
from billing.services.exports import bills_export_csv
from kernel.runs import RunFile, RunKind, RunOutcome, run_folder, run_kind_register


class BillRunForm(forms.Form):
    period = forms.CharField(label="Service month (YYYY-MM)", max_length=7, help_text="For example 2026-11.")

    def clean_period(self):
        month = parse_period(self.cleaned_data["period"])
        if month is None:
            raise forms.ValidationError("Enter the month like 2026-11.")
        if local_today() < add_months(month, 1):
            raise forms.ValidationError(
                f"{month:%B %Y} has not ended: its bills can be issued from {add_months(month, 1):%m/%d/%Y}."
            )
        return month


def bill_run_execute(*, parameters: dict, progress) -> RunOutcome:
    month = parse_period(parameters["period"][:7])
    total = max(len(bill_candidates(period=month)), 1)
    done = 0

    def counted(n: int) -> None:
        nonlocal done
        done += n
        progress(done * 95 / total)

    result = bills_run(period=month, progress=counted)
    path = run_folder(f"bills-{month:%Y-%m}") / f"bills-{month:%Y-%m}.csv"
    rows = bills_export_csv(period=month, path=path, mailing=True)
    summary = (
        f"{result.created} bill(s) issued for {month:%B %Y}, dated {result.issued_on:%m/%d/%Y}; "
        f"{result.already_billed} already billed."
    )
    if result.missing_reads:
        summary += f"\n{len(result.missing_reads)} water account(s) not billed, no meter read: " + ", ".join(
            result.missing_reads[:50]
        )
    summary += f"\nThe bill file for the print-and-mail vendor has {rows} bill(s)."
    return RunOutcome(summary=summary, files=[RunFile(path=path, permission="billing.view_bill")])


def register() -> None:
    run_kind_register(
        RunKind(
            key="bill_run",
            title="Bill run",
            permission="portal.start_runs",
            form=BillRunForm,
            describe=lambda data: f"Bill run for {data['period']:%B %Y}",
            execute=bill_run_execute,
            help="issue the bills of a service month once it has ended (a second run adds nothing), "
            "with the bill file for the print-and-mail vendor.",
        )
    )
