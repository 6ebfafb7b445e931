from django.apps import AppConfig


class CertificationConfig(AppConfig):
    name = "certification"
    verbose_name = "Delinquency and certification"

    def ready(self):
        from billing.hooks import register_account_page_section
        from certification import notification_kinds  # noqa: F401 (registers the kinds of email it sends)
        from certification.selectors import account_page_section

        register_account_page_section(account_page_section)

        from billing.hooks import register_staff_account_flags, register_staff_queues
        from certification.selectors import staff_account_flags, staff_queues

        register_staff_account_flags(staff_account_flags)
        register_staff_queues(staff_queues)

        from billing.hooks import register_staff_home_links
        from certification.selectors import staff_home_links

        register_staff_home_links(staff_home_links)

        from certification.runs import register as register_runs

        register_runs()

        from certification.reports import register as register_reports

        register_reports()

        from billing.hooks import register_finance_figures
        from certification.selectors import finance_figures

        register_finance_figures(finance_figures)

        from certification.services.disputes import dispute_documents_reencrypt
        from kernel.crypto import register_reencryptor

        register_reencryptor("Dispute documents", dispute_documents_reencrypt)
