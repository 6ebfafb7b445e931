from django.apps import AppConfig


class AutopayConfig(AppConfig):
    name = "autopay"
    verbose_name = "Autopay"

    def ready(self):
        from autopay import notification_kinds  # noqa: F401 (registers the kinds of email it sends)
        from autopay.selectors import staff_account_flags, staff_queues
        from autopay.services.enrollment import autopay_transfer
        from billing.hooks import (
            register_account_transfer,
            register_staff_account_flags,
            register_staff_queues,
        )

        register_staff_account_flags(staff_account_flags)
        register_staff_queues(staff_queues)
        register_account_transfer(autopay_transfer)

        from autopay.runs import register as register_runs

        register_runs()

        from autopay.selectors import finance_figures
        from billing.hooks import register_finance_figures

        register_finance_figures(finance_figures)

        from autopay.selectors import account_page_section
        from billing.hooks import register_account_page_section

        register_account_page_section(account_page_section)

        from autopay.selectors import pay_page_links
        from billing.hooks import register_pay_page_links

        register_pay_page_links(pay_page_links)

        from accounts.hooks import register_login_settings_links
        from autopay.selectors import login_settings_links

        register_login_settings_links(login_settings_links)

        from autopay.services.bank import bank_numbers_reencrypt
        from kernel.crypto import register_reencryptor

        register_reencryptor("Bank account numbers", bank_numbers_reencrypt)

        from accounts.texts import register_reply_handler, register_stop_listener, register_text_writer
        from autopay.services.text_pay import bill_text, pay_by_text_stop_all, pay_reply

        register_text_writer(bill_text)
        register_reply_handler(pay_reply)
        register_stop_listener(pay_by_text_stop_all)
