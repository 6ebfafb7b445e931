from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login-settings/", views.login_settings, name="login_settings"),
    path("notifications/", views.notification_preferences, name="notification_preferences"),
    path("service-accounts/link/", views.service_account_link_view, name="service_account_link"),
    path("service-accounts/<int:pk>/contact/", views.contact_details, name="contact_details"),
    path(
        "service-accounts/<int:pk>/unlink/",
        views.service_account_unlink_view,
        name="service_account_unlink",
    ),
]
