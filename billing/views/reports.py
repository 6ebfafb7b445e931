"""Finance reports as staff pages, each with the CSV and XLSX download of the same numbers."""

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from billing.calendar import local_today, parse_date
from billing.reports import aging_csv, aging_report, aging_xlsx
from portal.audit import audit_record

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
        audit_record(
            actor=request.user,
            action="report.download",
            target=None,
            summary=f"{request.user.email} downloaded the aging report as of {as_of} ({fmt.upper()})",
        )
        response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="aging-{as_of.isoformat()}.{fmt}"'
        return response
    page = Paginator(report.rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/report_aging.html",
        {"report": report, "page": page, "as_of": as_of, "error": error, "today": today},
    )
