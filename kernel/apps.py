from django.apps import AppConfig


class KernelConfig(AppConfig):
    """The shared kernel every app builds on: money, errors, imports, the audit log, runs and
    files, the outbox. It imports no app.

    Its label stays "portal", the name it had inside the portal package: its tables
    (portal_auditevent, portal_run, ...), migrations and permissions ("portal.view_run") kept
    their names when it moved."""

    name = "kernel"
    label = "portal"
    verbose_name = "Portal"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from kernel.i18n import login_language_adopt
        from kernel.security import session_mark_signed_in

        user_logged_in.connect(session_mark_signed_in, dispatch_uid="portal-session-limits")
        user_logged_in.connect(login_language_adopt, dispatch_uid="portal-login-language")
