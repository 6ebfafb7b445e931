"""Certification by year, as a finance report (billing.reports): each account certified, its
amounts as they stand, and what became of it (certified, adjusted or withdrawn after a dispute)."""

from billing.reports import TableReport, TableReportKind, table_report_register
from certification.models import Certification


def certification_report(*, year: int) -> TableReport:
    certifications = (
        Certification.objects.filter(year=year)
        .select_related("service_account")
        .order_by("tax_lot", "service_account__account_number")
    )
    return TableReport(
        title=f"Certification {year}",
        columns=[
            "tax_lot",
            "account_number",
            "owner_name",
            "delinquent_amount",
            "processing_fee",
            "total_certified",
            "status",
        ],
        headings=["Tax lot", "Account", "Owner", "Delinquent", "Fee", "Total certified", "Status"],
        rows=[
            [
                c.tax_lot,
                c.service_account.account_number,
                c.owner_name,
                c.delinquent_amount,
                c.processing_fee,
                c.total_certified,
                c.get_status_display(),
            ]
            for c in certifications
        ],
        money_columns={3, 4, 5},
        text_columns={0, 1, 2},
    )


def register() -> None:
    register_supplemental()
    table_report_register(
        TableReportKind(
            key="certification",
            title="Certification by year",
            by="year",
            build=certification_report,
            help="every account certified to the tax roll that year, with its amounts as they stand "
            "and whether a dispute adjusted or withdrew it.",
        )
    )


def certification_changes_report(*, year: int) -> TableReport:
    from certification.services.submissions import certification_changes

    submission, changes = certification_changes(year=year)
    report = TableReport(
        title=f"Certification {year} supplemental",
        columns=[
            "tax_lot",
            "account_number",
            "owner_name",
            "old_total_certified",
            "new_total_certified",
            "change",
            "status",
        ],
        headings=["Tax lot", "Account", "Owner", "Sent", "Now", "Change", "Status"],
        rows=[
            [
                c.tax_lot,
                c.account_number,
                c.owner_name,
                c.old_total,
                c.new_total,
                c.new_total - c.old_total,
                c.status,
            ]
            for c in changes
        ],
        money_columns={3, 4, 5},
        text_columns={0, 1, 2},
    )
    return report


def register_supplemental() -> None:
    table_report_register(
        TableReportKind(
            key="certification-changes",
            title="Certification changes since the list was sent",
            by="year",
            build=certification_changes_report,
            help="the supplemental list for the tax collector: each account whose certified total changed "
            "(a dispute adjusted or withdrew it) since the year's list was recorded as sent; the original "
            "file stays as it was sent.",
        )
    )
