"""Deploy checks: with DEBUG off the portal will not start without its secrets.

Registered as Django system checks (so `migrate`, `runserver` and `check --deploy` stop with the
list), and run again by the WSGI application and the Celery worker as they start, so gunicorn
and Celery refuse too. PORTAL_DEMO_MODE changes nothing here: a demo on a public address needs
real keys like any other deployment.
"""

import datetime as dt

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

REQUIRED_IN_PRODUCTION = {
    "PORTAL_ENCRYPTION_KEY": "the Fernet key(s) that encrypt bank account numbers",
    "STRIPE_SECRET_KEY": "the utility's Stripe secret key",
    "STRIPE_PUBLISHABLE_KEY": "the utility's Stripe publishable key",
    "STRIPE_WEBHOOK_SECRET": "the signing secret of the Stripe webhook endpoint",
}


@register("security", deploy=False)
def production_settings_check(app_configs=None, **kwargs) -> list[Error]:
    if settings.DEBUG:
        return []
    errors = [
        Error(
            f"{name} is not set: {meaning}.", hint=f"Set the {name} environment variable.", id="portal.E001"
        )
        for name, meaning in REQUIRED_IN_PRODUCTION.items()
        if not str(getattr(settings, name, "") or "").strip()
    ]
    for key in [k.strip() for k in (settings.PORTAL_ENCRYPTION_KEY or "").split(",") if k.strip()]:
        try:
            Fernet(key.encode())
        except ValueError:
            errors.append(
                Error(
                    "PORTAL_ENCRYPTION_KEY holds something that is not a Fernet key.",
                    hint="Each comma-separated key is 32 url-safe base64-encoded bytes (Fernet.generate_key()).",
                    id="portal.E002",
                )
            )
            break
    if settings.COLLECTION_PATH == "shutoff":
        try:
            dt.date.fromisoformat(str(settings.COLLECTIONS_START_DATE).strip())
        except ValueError:
            errors.append(
                Error(
                    "COLLECTIONS_START_DATE is not a date: the shut-off path fines only bills due on or after it.",
                    hint="Set COLLECTIONS_START_DATE=YYYY-MM-DD, the day collections started in the portal.",
                    id="portal.E003",
                )
            )
    return errors


def refuse_weak_settings() -> None:
    """For entry points that run no system checks (gunicorn, Celery): stop with the list."""
    errors = production_settings_check()
    if errors:
        raise ImproperlyConfigured(
            "The portal will not start with DEBUG off: " + " ".join(error.msg for error in errors)
        )
