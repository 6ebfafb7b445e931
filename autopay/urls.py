from django.urls import path

from autopay import views

urlpatterns = [
    path("service-accounts/<int:pk>/autopay/", views.autopay_manage, name="autopay_manage"),
    path("service-accounts/<int:pk>/autopay/change/", views.autopay_change_view, name="autopay_change"),
    path("service-accounts/<int:pk>/autopay/cancel/", views.autopay_cancel_view, name="autopay_cancel"),
    path("autopay/card-setup/", views.autopay_card_setup, name="autopay_card_setup"),
    path("autopay/card-save/", views.autopay_card_save, name="autopay_card_save"),
]
