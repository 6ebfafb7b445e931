"""The database connection lost in the middle of a request: a 503 with a plain message, not a 500.

Whatever the request was writing is rolled back by PostgreSQL with the connection; a payment
Stripe had already taken is settled by the reconciliation that runs every 15 minutes.
"""

import logging

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "Database unavailable during %s %s: %s", request.method, request.path, type(exception).__name__
        )
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        if request.content_type == "application/json" or "application/json" in request.headers.get(
            "Accept", ""
        ):
            response = JsonResponse(
                {
                    "status": "error",
                    "error": _(
                        "We cannot reach our records just now. Nothing was saved; if your card was charged, "
                        "we will settle the payment and email your receipt. Please try again in a few minutes."
                    ),
                },
                status=503,
            )
        else:
            # No request context: the session and user may need the database that just failed.
            response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "120"
        return response
