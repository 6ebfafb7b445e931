from django.urls import path

from accounts import views, views_texts

urlpatterns = [
    path("login-settings/", views.login_settings, name="login_settings"),
    path("notifications/", views.notification_preferences, name="notification_preferences"),
    path("texts/", views_texts.text_settings, name="text_settings"),
    path("texts/incoming/", views_texts.text_incoming, name="text_incoming"),
    path("service-accounts/link/", views.service_account_link_view, name="service_account_link"),
    path("service-accounts/<int:pk>/contact/", views.contact_details, name="contact_details"),
    path(
        "service-accounts/<int:pk>/unlink/",
        views.service_account_unlink_view,
        name="service_account_unlink",
    ),
]
