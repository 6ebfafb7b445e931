from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from kernel import staff_runs
from kernel.i18n import language_set
from portal import views

admin.site.site_header = "Utility portal administration"
admin.site.site_title = "Utility portal admin"
# Staff sign in on the portal's own sign-in page: its rate limits and two-step verification.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("accounts.urls")),
    path("", include("billing.urls")),
    path("", include("autopay.urls")),
    path("", include("assistance.urls")),
    path("", include("certification.urls")),
    path("auth/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("language/", language_set, name="language_set"),
    path("healthz", views.healthz, name="healthz"),
    path("staff/runs/", staff_runs.runs, name="runs"),
    path("staff/runs/start/<slug:kind>/", staff_runs.run_new, name="run_new"),
    path("staff/runs/<int:pk>/", staff_runs.run_detail, name="run_detail"),
    path("staff/runs/<int:pk>/status/", staff_runs.run_status, name="run_status"),
    path("staff/files/<int:pk>/", staff_runs.file_download, name="file_download"),
]

handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
