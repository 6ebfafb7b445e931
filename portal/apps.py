from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from portal import checks  # noqa: F401 (registers the deploy checks)
        from portal.i18n import login_language_adopt
        from portal.security import session_mark_signed_in

        user_logged_in.connect(session_mark_signed_in, dispatch_uid="portal-session-limits")
        user_logged_in.connect(login_language_adopt, dispatch_uid="portal-login-language")
