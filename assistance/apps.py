from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "assistance"
    verbose_name = "Bill assistance"

    def ready(self):
        from assistance.selectors import payment_plan_bill_notes
        from billing.hooks import register_bill_notes

        register_bill_notes(payment_plan_bill_notes)

        from assistance.selectors import staff_account_flags, staff_queues
        from billing.hooks import register_staff_account_flags, register_staff_queues

        register_staff_account_flags(staff_account_flags)
        register_staff_queues(staff_queues)
