from django.urls import path

from autopay import views

urlpatterns = [
    path("service-accounts/<int:pk>/autopay/", views.autopay_manage, name="autopay_manage"),
    path("service-accounts/<int:pk>/autopay/card/", views.autopay_replace_card, name="autopay_replace_card"),
    path("service-accounts/<int:pk>/autopay/cancel/", views.autopay_cancel_view, name="autopay_cancel"),
    path("autopay/card-setup/", views.autopay_card_setup, name="autopay_card_setup"),
    path("autopay/card-save/", views.autopay_card_save, name="autopay_card_save"),
]
