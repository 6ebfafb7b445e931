import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")

application = get_wsgi_application()

# gunicorn runs no system checks: refuse to serve without the production secrets.
from portal.checks import refuse_weak_settings  # noqa: E402

refuse_weak_settings()
