"""Finance reports as staff pages, each with the CSV and XLSX download of the same numbers."""

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

from billing.calendar import local_today, parse_date, parse_year
from billing.journal import journal, journal_csv, journal_xlsx
from billing.reports import (
    RECEIPT_CHANNELS,
    TABLE_REPORTS,
    aging_csv,
    aging_month_ends,
    aging_report,
    aging_xlsx,
    cash_csv,
    cash_receipts,
    cash_xlsx,
)
from kernel.audit import audit_record

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@staff_member_required
@permission_required("billing.view_finance_reports", raise_exception=True)
def aging(request):
    """Receivables by age as of any date: totals, then each account (the CSV's rows)."""
    today = local_today()
    typed = request.GET.get("as_of", "").strip()
    as_of = parse_date(typed) if typed else today
    error = ""
    if as_of is None:
        error, as_of = f"{typed!r} is not a date like {today:%Y-%m-%d}: showing today.", today
    elif as_of > today:
        error, as_of = "A report cannot be as of a day still to come: showing today.", today
    report = aging_report(as_of=as_of)
    fmt = request.GET.get("format", "")
    if fmt in CONTENT_TYPES and not error:
        data = aging_xlsx(report) if fmt == "xlsx" else aging_csv(report)
        return _download(
            request,
            data=data,
            fmt=fmt,
            name=f"aging-{as_of.isoformat()}",
            what=f"the aging report as of {as_of}",
        )
    page = Paginator(report.rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/report_aging.html",
        {"report": report, "page": page, "as_of": as_of, "error": error, "today": today},
    )


def _download(request, *, data: bytes, fmt: str, name: str, what: str) -> HttpResponse:
    audit_record(
        actor=request.user,
        action="report.download",
        target=None,
        summary=f"{request.user.email} downloaded {what} ({fmt.upper()})",
    )
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _date_range(request, today):
    """The from and to dates asked for (this month to date when not given), and what was wrong."""
    start_text = request.GET.get("start", "").strip()
    end_text = request.GET.get("end", "").strip()
    start = parse_date(start_text) if start_text else today.replace(day=1)
    end = parse_date(end_text) if end_text else today
    if start is None or end is None:
        return today.replace(day=1), today, "Enter the dates like 2026-06-01: showing this month to date."
    if start > end:
        return today.replace(day=1), today, "The first day is after the last: showing this month to date."
    if (end - start).days > 366:
        return today.replace(day=1), today, "Choose at most a year: showing this month to date."
    return start, end, ""


@staff_member_required
@permission_required("billing.view_finance_reports", raise_exception=True)
def cash(request):
    """Money in per day and channel, returned items and refunds apart, and the batches deposited."""
    today = local_today()
    start, end, error = _date_range(request, today)
    report = cash_receipts(start=start, end=end)
    fmt = request.GET.get("format", "")
    if fmt in CONTENT_TYPES and not error:
        data = cash_xlsx(report) if fmt == "xlsx" else cash_csv(report)
        return _download(
            request, data=data, fmt=fmt, name=f"cash-{start}-{end}", what=f"cash receipts {start} to {end}"
        )
    return render(
        request,
        "billing/report_cash.html",
        {
            "report": report,
            "rows": report.day_rows(),
            "totals": report.totals(),
            "channels": [label for _, label in RECEIPT_CHANNELS],
            "start": start,
            "end": end,
            "error": error,
        },
    )


@staff_member_required
@permission_required("billing.view_finance_reports", raise_exception=True)
def journal_view(request):
    """A day's or a month's ledger rows summarised by general-ledger account: debits equal credits."""
    today = local_today()
    start, end, error = _date_range(request, today)
    entries = journal(start=start, end=end)
    fmt = request.GET.get("format", "")
    if fmt in CONTENT_TYPES and not error:
        data = journal_xlsx(entries) if fmt == "xlsx" else journal_csv(entries)
        return _download(
            request, data=data, fmt=fmt, name=f"journal-{start}-{end}", what=f"the journal {start} to {end}"
        )
    return render(
        request,
        "billing/report_journal.html",
        {"journal": entries, "lines": entries.lines(), "start": start, "end": end, "error": error},
    )


@staff_member_required
@permission_required("billing.view_finance_reports", raise_exception=True)
def table(request, key: str):
    """A report that is one list with totals: adjustments, refunds and returns, assistance
    credits by program year, certification by year (each app registers its own)."""
    kind = TABLE_REPORTS.get(key)
    if kind is None:
        raise Http404
    today = local_today()
    error = ""
    if kind.by == "year":
        typed = request.GET.get("year", "").strip()
        year = parse_year(typed)
        if year is None:
            error = f"Enter a year like {today.year}: showing {today.year}." if typed else ""
            year = today.year
        report, period = kind.build(year=year), {"year": year}
        name = f"{key}-{year}"
    else:
        start, end, error = _date_range(request, today)
        report, period = kind.build(start=start, end=end), {"start": start, "end": end}
        name = f"{key}-{start}-{end}"
    fmt = request.GET.get("format", "")
    if fmt in CONTENT_TYPES and not error:
        data = report.xlsx() if fmt == "xlsx" else report.csv()
        return _download(request, data=data, fmt=fmt, name=name, what=f"{kind.title} ({name})")
    return render(
        request,
        "billing/report_table.html",
        {
            "kind": kind,
            "report": report,
            "rows": [
                [(value, index in report.money_columns) for index, value in enumerate(row)]
                for row in report.rows
            ],
            "totals": [(value, index in report.money_columns) for index, value in enumerate(report.totals())],
            "error": error,
            "query": "&".join(f"{k}={v}" for k, v in period.items()),
            **period,
        },
    )


def _dollars(value) -> str:  # a chart's tick label
    return f"${value:,.0f}"


@staff_member_required
@permission_required("billing.view_finance_reports", raise_exception=True)
def finance_home(request):
    """The key figures: receivables by age today and at each of the last twelve month-ends,
    receipts per day this month, and what apps add (autopay enrollment, certified totals)."""
    from billing.charts import bar_chart
    from billing.hooks import FINANCE_FIGURES

    today = local_today()
    history = aging_month_ends(today=today)
    receipts = cash_receipts(start=today.replace(day=1), end=today)
    days = receipts.every_day()
    return render(
        request,
        "billing/finance_home.html",
        {
            "today": today,
            "now": aging_report(as_of=today),
            "history": history,
            "history_chart": bar_chart(
                [(f"{day:%b %y}", total, f"${total:,.2f}") for day, _, total in history], tick_format=_dollars
            ),
            "days": days,
            "receipts_total": receipts.totals()["received"],
            "receipts_chart": bar_chart(  # every day of the month so far, a day with none at 0
                [(f"{row['day']:%d}", row["received"], f"${row['received']:,.2f}") for row in days],
                tick_format=_dollars,
            ),
            "figures": [provider() for provider in FINANCE_FIGURES],
        },
    )
