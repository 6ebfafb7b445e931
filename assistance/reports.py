"""Assistance credits by program year, as a finance report (billing.reports)."""

from collections import defaultdict

from django.utils import timezone

from assistance.models import AssistanceApplication
from billing.models import LedgerEntry
from billing.reports import TableReport, TableReportKind, table_report_register
from kernel.money import ZERO


def assistance_credits_report(*, year: int) -> TableReport:
    approved = (
        AssistanceApplication.objects.filter(program_year=year, status=AssistanceApplication.Status.APPROVED)
        .select_related("service_account", "reviewed_by")
        .order_by("reviewed_at", "pk")
    )
    waived: dict[int, object] = defaultdict(lambda: ZERO)
    for key, amount in LedgerEntry.objects.filter(source_key__startswith="assist-waive:").values_list(
        "source_key", "amount"
    ):
        waived[int(key.split(":")[1])] += -amount
    return TableReport(
        title=f"Assistance credits {year}",
        columns=[
            "approved_on",
            "account_number",
            "household_size",
            "monthly_income",
            "credit",
            "fees_waived",
            "approved_by",
        ],
        headings=[
            "Approved",
            "Account",
            "Household",
            "Monthly income",
            "Credit",
            "Fees waived",
            "Approved by",
        ],
        rows=[
            [
                timezone.localdate(a.reviewed_at),
                a.service_account.account_number,
                a.household_size,
                f"{a.monthly_income:.2f}",  # shown, not added up
                a.credit_amount or ZERO,
                waived[a.pk],
                a.reviewed_by.email if a.reviewed_by else "",
            ]
            for a in approved
        ],
        money_columns={4, 5},
        text_columns={1},
    )


def register() -> None:
    table_report_register(
        TableReportKind(
            key="assistance-credits",
            title="Assistance credits by program year",
            by="year",
            build=assistance_credits_report,
            help="every application approved in the program year: the credit posted and the fees waived.",
        )
    )
