"""The Celery app. Its configuration, the beat schedule included, lives in settings."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _refuse_weak_settings(**kwargs):
    # A worker charges cards and reads bank numbers, beat schedules them: neither starts without
    # the production secrets. SystemExit, because Celery logs and ignores a receiver's errors.
    from django.core.exceptions import ImproperlyConfigured

    from portal.checks import refuse_weak_settings

    try:
        refuse_weak_settings()
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from exc


worker_init.connect(_refuse_weak_settings, weak=False)
beat_init.connect(_refuse_weak_settings, weak=False)
