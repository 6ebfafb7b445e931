from django.urls import path

from billing import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("service-accounts/<int:pk>/", views.account_detail, name="service_account_detail"),
    path("service-accounts/<int:pk>/bills/", views.bill_list, name="bill_list"),
    path("service-accounts/<int:pk>/bills/<int:bill_pk>/", views.bill_detail, name="bill_detail"),
    path("service-accounts/<int:pk>/bills/<int:bill_pk>/pdf/", views.bill_pdf_view, name="bill_pdf"),
    path("service-accounts/<int:pk>/transactions/", views.transaction_list, name="transaction_list"),
    path("service-accounts/<int:pk>/paperless/", views.paperless_update, name="paperless_update"),
]
