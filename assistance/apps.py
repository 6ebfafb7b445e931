from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "assistance"
    verbose_name = "Bill assistance"

    def ready(self):
        from assistance import notification_kinds  # noqa: F401 (registers the kinds of email it sends)
        from assistance.selectors import payment_plan_bill_notes
        from billing.hooks import register_bill_notes

        register_bill_notes(payment_plan_bill_notes)

        from assistance.selectors import staff_account_flags, staff_queues
        from billing.hooks import register_staff_account_flags, register_staff_queues

        register_staff_account_flags(staff_account_flags)
        register_staff_queues(staff_queues)

        from assistance.selectors import accounts_with_plan_in_good_standing
        from billing.hooks import register_worklist_exclusions

        register_worklist_exclusions(accounts_with_plan_in_good_standing)

        from assistance.selectors import staff_account_actions
        from billing.hooks import register_staff_account_actions

        register_staff_account_actions(staff_account_actions)

        from assistance.selectors import account_page_section
        from billing.hooks import register_account_page_section

        register_account_page_section(account_page_section)

        from assistance.services.documents import documents_reencrypt
        from kernel.crypto import register_reencryptor

        register_reencryptor("Assistance documents", documents_reencrypt)

        from assistance.selectors import past_due_help
        from billing.hooks import register_past_due_help

        register_past_due_help(past_due_help)

        from assistance.reports import register as register_reports

        register_reports()
