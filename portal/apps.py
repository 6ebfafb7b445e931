from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from portal.security import session_mark_signed_in

        user_logged_in.connect(session_mark_signed_in, dispatch_uid="portal-session-limits")
