from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing and payments"

    def ready(self):
        from billing import notification_kinds  # noqa: F401 (registers the kinds of email it sends)
        from billing.runs import register as register_runs

        register_runs()
