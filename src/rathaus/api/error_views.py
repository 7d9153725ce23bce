"""Django's error views (``handler400`` … ``handler500`` in ``rathaus.urls``): a problem
document under ``/api/``, the portal's HTML pages everywhere else.

Django answers with them where no API view does: a request refused before any view runs (a Host
header not in ``ALLOWED_HOSTS``, a body a middleware could not read), an address no pattern
matches, an error a view did not handle. The problem document and the page are in the request's
own language: a refusal by a middleware before LocaleMiddleware finds no language activated for
the request (or the one another request left in this thread).
"""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext
from django.views import defaults
from rest_framework import exceptions

from rathaus.api.problems import problem_response, refusal
from rathaus.api.unknown_paths import NO_ENDPOINT

API_PREFIX = "/api/"


def _api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _language_of(request: HttpRequest) -> translation.override:
    """The request's language as LocaleMiddleware chooses it (cookie, Accept-Language, else
    ``LANGUAGE_CODE``), active while the answer is written."""
    return translation.override(translation.get_language_from_request(request))


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    with _language_of(request):
        if not _api(request):
            return defaults.bad_request(request, exception)
        if isinstance(exception, SuspiciousOperation):  # Django has logged it already
            return problem_response(request, refusal(exception))
        detail = gettext("The request could not be read.")
        return problem_response(request, exceptions.ParseError(detail))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    with _language_of(request):
        if not _api(request):
            return defaults.permission_denied(request, exception)
        return problem_response(request, exceptions.PermissionDenied())


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    with _language_of(request):
        if not _api(request):
            return defaults.page_not_found(request, exception)
        return problem_response(request, exceptions.NotFound(NO_ENDPOINT))


def server_error(request: HttpRequest) -> HttpResponse:
    with _language_of(request):
        if not _api(request):
            return defaults.server_error(request)
        return problem_response(request, exceptions.APIException())
