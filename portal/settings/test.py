"""Test settings: the same as production but for speed and captured email.

`make test` starts private PostgreSQL, Redis and localstripe and sets their addresses.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")
# The test runner runs with DEBUG off, where the portal refuses to start without these (portal/checks.py).
# Two keys, newest first, as during a rotation; `make test` sets the Stripe ones for localstripe.
os.environ.setdefault(
    "PORTAL_ENCRYPTION_KEY",
    "dGVzdC1vbmx5LWtleS1uZXdlc3QtLS0tLS0tLS0tLS0=,dGVzdC1vbmx5LWtleS1vbGRlci0tLS0tLS0tLS0tLS0=",
)
for _name, _value in [
    ("STRIPE_SECRET_KEY", "sk_test_unused"),
    ("STRIPE_PUBLISHABLE_KEY", "pk_test_unused"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_unused"),
]:
    os.environ.setdefault(_name, _value)

from portal.settings.base import *  # noqa: E402,F403

DEMO_MODE = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The test runner runs with DEBUG off; served pages must not need collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The live server for browser tests speaks plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
ALLOWED_HOSTS = ["*"]
CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"  # noqa: F405
# Tasks queued by the code under test run at once; tests about Celery itself start a real
# worker on the test Redis and switch this off (see the celery_worker fixture).
CELERY_TASK_ALWAYS_EAGER = True

import tempfile  # noqa: E402

PRIVATE_MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="portal-private-media-"))  # noqa: F405
NOTICES_ROOT = PRIVATE_MEDIA_ROOT / "notices"  # noqa: F405
