"""RFC 9457 problem documents for every API error, in the request's language.

``title``, ``detail`` and the field messages under ``errors`` are in the language Django chose
for the request (Accept-Language, the language cookie; German by default); ``type``, ``status``
and field names are the same in every language.
"""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"

#: The status phrases as titles: RFC 9457 § 4.2.1 lets ``about:blank`` problems localise them.
#: Every status an API error can have (DRF's exceptions and ours); English: Python's phrase.
_TITLES = {
    400: pgettext_lazy("HTTP status", "Bad Request"),
    401: pgettext_lazy("HTTP status", "Unauthorized"),
    403: pgettext_lazy("HTTP status", "Forbidden"),
    404: pgettext_lazy("HTTP status", "Not Found"),
    405: pgettext_lazy("HTTP status", "Method Not Allowed"),
    406: pgettext_lazy("HTTP status", "Not Acceptable"),
    413: pgettext_lazy("HTTP status", "Request Entity Too Large"),
    415: pgettext_lazy("HTTP status", "Unsupported Media Type"),
    429: pgettext_lazy("HTTP status", "Too Many Requests"),
    500: pgettext_lazy("HTTP status", "Internal Server Error"),
}


def problem_title(status_code: int) -> str:
    """The title of a problem with this status, in the active language."""
    return str(_TITLES.get(status_code, HTTPStatus(status_code).phrase))


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class Throttled(exceptions.Throttled):
    """429 in the portal's words (DRF's German: "Erwarte Verfügbarkeit in 5 Sekunden.")."""

    def __init__(self, wait: float | None = None) -> None:
        if wait is None:
            detail = gettext("Too many requests. Please try again later.")
        else:
            wait = math.ceil(wait)
            detail = ngettext(
                "Too many requests. Please try again in %(wait)d second.",
                "Too many requests. Please try again in %(wait)d seconds.",
                wait,
            ) % {"wait": wait}
        super().__init__(detail=detail)
        self.wait = wait  # Retry-After


def refusal(exc: SuspiciousOperation) -> exceptions.APIException:
    """Django's refusal of a request (``DATA_UPLOAD_MAX_*``, broken multipart, a foreign Host
    header) as the API error to answer with: Django itself answers with its HTML 400 page."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return PayloadTooLarge(
            gettext("The request data is larger than %(limit)d bytes.") % {"limit": limit}
        )
    if isinstance(exc, TooManyFieldsSent):
        count = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return exceptions.ParseError(
            gettext("The request has more than %(count)d fields.") % {"count": count}
        )
    if isinstance(exc, TooManyFilesSent):
        count = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return exceptions.ParseError(
            gettext("The request has more than %(count)d files.") % {"count": count}
        )
    if isinstance(exc, DisallowedHost):
        # not Django's message: it names the header's value and advises on ALLOWED_HOSTS
        return exceptions.ParseError(gettext("The Host header names no site of this server."))
    return exceptions.ParseError(gettext("The request could not be read."))


def _as_api_exception(exc: Exception, request: Any) -> Exception:
    """A refusal raised while DRF parses the body, as an API error (see :func:`refusal`)."""
    if not isinstance(exc, SuspiciousOperation):
        return exc
    # Django logs these to django.security.<name>; keep that for the operators' alerts.
    logging.getLogger(f"django.security.{type(exc).__name__}").error(
        str(exc), extra={"request": getattr(request, "_request", request)}
    )
    return refusal(exc)


def _no_data(detail: Any) -> Any:
    """``detail`` with DRF's "No data provided" (a JSON ``null`` body; DRF never translates it)
    in the portal's words, everything else as it is."""
    if isinstance(detail, dict):
        return {key: _no_data(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_no_data(item) for item in detail]
    if (
        isinstance(detail, exceptions.ErrorDetail)
        and detail.code == "null"
        and str(detail) == "No data provided"
    ):
        return exceptions.ErrorDetail(
            gettext("The request sent no data (null): send an object with the fields."),
            code="null",
        )
    return detail


def _reworded(exc: Exception) -> Exception:
    """DRF's errors whose German is clumsy or missing, in the portal's words."""
    if isinstance(exc, exceptions.Throttled) and not isinstance(exc, Throttled):
        return Throttled(getattr(exc, "wait", None))
    if isinstance(exc, exceptions.ValidationError):
        exc.detail = _no_data(exc.detail)
        return exc
    if isinstance(exc, exceptions.NotAcceptable) and exc.available_renderers:
        formats = ", ".join(renderer.media_type for renderer in exc.available_renderers)
        message = gettext(
            "The Accept header of the request allows none of the formats this address "
            "answers in: %(formats)s."
        )
        return exceptions.NotAcceptable(
            message % {"formats": formats}, available_renderers=exc.available_renderers
        )
    return exc


def problem_document(exc: exceptions.APIException, *, instance: str) -> dict[str, Any]:
    """The problem document of an API error with a plain message (no field errors)."""
    return {
        "type": "about:blank",
        "title": problem_title(exc.status_code),
        "status": exc.status_code,
        "detail": str(exc.detail),
        "instance": instance,
    }


def problem_response(request: HttpRequest, exc: exceptions.APIException) -> HttpResponse:
    """A problem document answered outside DRF (Django's error views, ``error_views``), in the
    active language; it may answer before LocaleMiddleware, so it names the language itself."""
    response = JsonResponse(
        problem_document(exc, instance=request.get_full_path()),
        status=exc.status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    response["Content-Language"] = translation.get_language()
    patch_vary_headers(response, ("Accept-Language",))
    return response


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn DRF's error responses into ``application/problem+json`` documents.

    The title is the status phrase (RFC 9457 § 4.2.1 for ``about:blank``), the detail the
    precise message of this occurrence.
    """
    request = context.get("request")
    exc = _reworded(_as_api_exception(exc, request))
    response = exception_handler(exc, context)
    if response is None:
        return None
    title = problem_title(response.status_code)
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": response.status_code,
    }
    detail = response.data
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        body["detail"] = str(detail["detail"])
    elif detail is not None:
        body["detail"] = str(getattr(exc, "default_detail", title))
        body["errors"] = detail
    if request is not None:
        body["instance"] = request.get_full_path()
        # DRF renders the body with the renderer it negotiated for the view (the Browsable API's
        # HTML, the schema's YAML) and takes it from the request: a problem document is JSON.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response
