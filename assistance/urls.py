from django.urls import path

from assistance import views

urlpatterns = [
    path("assistance/", views.assistance_home, name="assistance_home"),
    path("assistance/eligibility/", views.eligibility, name="assistance_eligibility"),
    path("assistance/apply/", views.apply, name="assistance_apply"),
    path("assistance/apply/discard/", views.apply_discard, name="assistance_apply_discard"),
    path("assistance/applications/<int:pk>/", views.application_detail, name="assistance_detail"),
    path(
        "assistance/applications/<int:pk>/documents/",
        views.documents_add_view,
        name="assistance_documents_add",
    ),
    path("assistance/documents/<int:pk>/", views.document, name="assistance_document"),
    path("service-accounts/<int:pk>/payment-plan/", views.payment_plan, name="payment_plan"),
    path(
        "service-accounts/<int:pk>/payment-plan/withdraw/",
        views.payment_plan_withdraw,
        name="payment_plan_withdraw",
    ),
    path("staff/accounts/<int:pk>/payment-plan/", views.staff_payment_plan, name="staff_payment_plan"),
]
