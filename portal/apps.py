from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project's wiring (settings, urls, the Celery app, the development services, seed_demo):
    it may import every app, and no app imports it."""

    name = "portal"
    label = "site"  # "portal" is the kernel's label (kernel/apps.py)
    verbose_name = "Portal site"

    def ready(self):
        from portal import checks  # noqa: F401 (registers the deploy checks)
