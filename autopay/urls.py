from django.urls import path

from autopay import views, views_methods, views_payments, views_text_pay

urlpatterns = [
    path("service-accounts/<int:pk>/autopay/", views.autopay_manage, name="autopay_manage"),
    path("service-accounts/<int:pk>/autopay/change/", views.autopay_change_view, name="autopay_change"),
    path("service-accounts/<int:pk>/autopay/cancel/", views.autopay_cancel_view, name="autopay_cancel"),
    path("service-accounts/<int:pk>/pay/bank/", views_payments.pay_by_bank, name="pay_by_bank"),
    path("bank-payments/<uuid:token>/", views_payments.bank_payment_done, name="bank_payment_done"),
    path(
        "service-accounts/<int:pk>/scheduled/", views_payments.scheduled_payments, name="scheduled_payments"
    ),
    path(
        "service-accounts/<int:pk>/scheduled/<int:scheduled_pk>/cancel/",
        views_payments.scheduled_payment_cancel_view,
        name="scheduled_payment_cancel",
    ),
    path("service-accounts/<int:pk>/pay-by-text/", views_text_pay.pay_by_text, name="pay_by_text"),
    path("payment-methods/", views_methods.payment_methods, name="payment_methods"),
    path("payment-methods/remove/", views_methods.payment_method_remove_view, name="payment_method_remove"),
    path("autopay/card-setup/", views.autopay_card_setup, name="autopay_card_setup"),
    path("autopay/card-save/", views.autopay_card_save, name="autopay_card_save"),
]
