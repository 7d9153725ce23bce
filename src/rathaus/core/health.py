"""``/healthz``: whether this web process can serve, for the load balancer's or orchestrator's
probe (docs/operations.md).

Answered by a middleware right after ``SecurityMiddleware`` (the path is exempt from its SSL
redirect, ``SECURE_REDIRECT_EXEMPT``): before ``CommonMiddleware`` checks the Host against
``ALLOWED_HOSTS``, so a probe may address the process by its internal address, and before the
session, CSRF and page-cache middleware, so the answer sets no cookie and is never cached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, pgettext

PATH = "/healthz"

logger = logging.getLogger(__name__)


def database_is_reachable() -> bool:
    """One cheap query on the default database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("health check: database not reachable", extra={"error": str(exc)})
        return False
    return True


def health(request: HttpRequest) -> HttpResponse:
    """200 "ok", or 503 with a problem document (RFC 9457) while the database is down."""
    if database_is_reachable():
        response: HttpResponse = HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
    else:
        # in the language the probe asks for, as the API's problem documents are (German
        # by default); no LocaleMiddleware has run yet
        language = translation.get_language_from_request(request)
        with translation.override(language):
            response = JsonResponse(
                {
                    "type": "about:blank",
                    "title": pgettext("HTTP status", "Service Unavailable"),
                    "status": 503,
                    "detail": gettext("The database is not reachable."),
                    "instance": PATH,
                },
                status=503,
                content_type="application/problem+json",
                headers={"Content-Language": language},
            )
    add_never_cache_headers(response)
    return response


class HealthCheckMiddleware:
    """Answers ``GET``/``HEAD /healthz`` itself; everything else goes on down the stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == PATH and request.method in ("GET", "HEAD"):
            return health(request)
        return self.get_response(request)
