"""The NACHA file of a day's bank drafts, started from the staff pages (kernel.runs)."""

from django import forms

from autopay.services.bank import NoDrafts, nacha_export
from billing.calendar import parse_date
from kernel.runs import RunFile, RunKind, RunOutcome, run_folder, run_kind_register


class NachaForm(forms.Form):
    on = forms.DateField(label="Draft date", widget=forms.DateInput(attrs={"type": "date"}))


def nacha_execute(*, parameters: dict, progress) -> RunOutcome:
    on = parse_date(parameters["on"])
    path = run_folder(f"nacha-{on}") / f"nacha-{on}.txt"
    try:
        built = nacha_export(on=on, path=path)
    except NoDrafts as exc:  # a quiet day: nothing to send, and no empty batch
        progress(100)
        return RunOutcome(summary=exc.message, files=[])
    progress(100)
    return RunOutcome(
        summary=(f"NACHA file for {on:%m/%d/%Y}: {built.summary}; they post as payments on that date."),
        # Bank account numbers are in it: only those who start runs (finance, supervisors).
        files=[RunFile(path=path, permission="portal.start_runs")],
    )


def register() -> None:
    run_kind_register(
        RunKind(
            key="nacha",
            title="NACHA file of bank drafts",
            permission="portal.start_runs",
            form=NachaForm,
            describe=lambda data: f"NACHA file for {data['on']:%m/%d/%Y}",
            execute=nacha_execute,
            help=(
                "the bank's debit file for that date: paper agreements' drafts (PPD), online bank payments "
                "and prenotes (WEB); they post as payments on that date."
            ),
        )
    )
