from django.apps import AppConfig


class CertificationConfig(AppConfig):
    name = "certification"
    verbose_name = "Delinquency and certification"

    def ready(self):
        from billing.hooks import register_account_page_section
        from certification.selectors import account_page_section

        register_account_page_section(account_page_section)
