from django.urls import path

from billing.views import (
    moving,
    payments,
    reports,
    staff,
    staff_lockbox,
    staff_requests,
    statements,
    usage,
    voice,
)

urlpatterns = [
    path("dashboard/", statements.dashboard, name="dashboard"),
    path("service-accounts/<int:pk>/", statements.account_detail, name="service_account_detail"),
    path("service-accounts/<int:pk>/bills/", statements.bill_list, name="bill_list"),
    path("service-accounts/<int:pk>/bills/<int:bill_pk>/", statements.bill_detail, name="bill_detail"),
    path("service-accounts/<int:pk>/bills/<int:bill_pk>/pdf/", statements.bill_pdf_view, name="bill_pdf"),
    path("service-accounts/<int:pk>/transactions/", statements.transaction_list, name="transaction_list"),
    path("service-accounts/<int:pk>/paperless/", statements.paperless_update, name="paperless_update"),
    path("service-accounts/<int:pk>/usage/", usage.usage_alerts, name="usage_alerts"),
    path("staff/high-usage/", usage.staff_high_usage, name="staff_high_usage"),
    path(
        "service-accounts/<int:pk>/usage/download.<str:kind>",
        usage.usage_download,
        name="usage_download",
    ),
    path("staff/usage/download.<str:kind>", usage.staff_usage_download, name="staff_usage_download"),
    path("moving/", moving.moving_home, name="moving_home"),
    path("moving/<int:pk>/withdraw/", moving.moving_withdraw, name="moving_withdraw"),
    path("moving/<slug:kind>/", moving.moving_request, name="moving_request"),
]

urlpatterns += [
    path("service-accounts/<int:pk>/pay/", payments.pay_account, name="pay_account"),
    path(
        "service-accounts/<int:pk>/pay/start/", payments.payment_start_account, name="payment_start_account"
    ),
    path("payments/<uuid:token>/charge/", payments.payment_charge_view, name="payment_charge"),
    path("payments/<uuid:token>/complete/", payments.payment_complete_view, name="payment_complete"),
    path("payments/<uuid:token>/receipt/", payments.payment_receipt, name="payment_receipt"),
    path("quick-pay/", payments.quick_pay, name="quick_pay"),
    path("quick-pay/pay/", payments.quick_pay_pay, name="quick_pay_pay"),
    path("quick-pay/pay/start/", payments.payment_start_quick, name="payment_start_quick"),
    path("invoices/pay/", payments.invoice_pay_lookup, name="invoice_pay_lookup"),
    path("invoices/pay/card/", payments.invoice_pay, name="invoice_pay"),
    path("invoices/pay/start/", payments.payment_start_invoice, name="payment_start_invoice"),
    path("stripe/webhook/", payments.stripe_webhook, name="stripe_webhook"),
    path("voice/", voice.start, name="phone_line_start"),
    path("voice/language/", voice.language, name="phone_line_language"),
    path("voice/account/", voice.account, name="phone_line_account"),
    path("voice/zip/", voice.zip_code, name="phone_line_zip"),
    path("voice/choice/", voice.choice, name="phone_line_choice"),
    path("voice/amount/", voice.amount, name="phone_line_amount"),
    path("voice/paid/", voice.paid, name="phone_line_paid"),
    path("voice/retry/", voice.retry, name="phone_line_retry"),
    path("voice/status/", voice.status, name="phone_line_status"),
]

urlpatterns += [
    path("staff/", staff.staff_home, name="staff_home"),
    path("staff/follow-ups/", staff.staff_follow_ups, name="staff_follow_ups"),
    path("staff/delinquent/", staff.staff_worklist, name="staff_worklist"),
    path("staff/adjustments/", staff.staff_adjustments, name="staff_adjustments"),
    path(
        "staff/adjustments/<int:pk>/reverse/", staff.staff_adjustment_reverse, name="staff_adjustment_reverse"
    ),
    path("staff/accounts/open/", staff.staff_account_open, name="staff_account_open"),
    path("staff/accounts/<int:pk>/", staff.staff_account, name="staff_account"),
    path("staff/accounts/<int:pk>/close/", staff.staff_account_close, name="staff_account_close"),
    path("staff/accounts/<int:pk>/notes/", staff.staff_account_note, name="staff_account_note"),
    path("staff/accounts/<int:pk>/adjustment/", staff.staff_adjustment, name="staff_adjustment"),
    path("staff/accounts/<int:pk>/bills/<int:bill_pk>/pdf/", staff.staff_bill_pdf, name="staff_bill_pdf"),
    path("staff/service-requests/", staff_requests.staff_service_requests, name="staff_service_requests"),
    path(
        "staff/service-requests/<int:pk>/", staff_requests.staff_service_request, name="staff_service_request"
    ),
    path("staff/finance/", reports.finance_home, name="finance_home"),
    path("staff/reports/aging/", reports.aging, name="report_aging"),
    path("staff/reports/cash/", reports.cash, name="report_cash"),
    path("staff/reports/journal/", reports.journal_view, name="report_journal"),
    path("staff/reports/<slug:key>/", reports.table, name="report_table"),
    path("staff/lockbox/", staff_lockbox.staff_lockbox_exceptions, name="staff_lockbox_exceptions"),
    path("staff/phone-payment/", staff.phone_payment, name="phone_payment"),
    path("staff/phone-payment/start/", staff.phone_payment_start, name="phone_payment_start"),
]
