from django.urls import path

from certification import views

urlpatterns = [
    path(
        "service-accounts/<int:pk>/certifications/<int:certification_pk>/dispute/",
        views.dispute,
        name="certification_dispute",
    ),
    path("disputes/documents/<int:pk>/", views.dispute_document, name="certification_dispute_document"),
    path("staff/tax-lots/", views.tax_lot, name="tax_lot"),
]
