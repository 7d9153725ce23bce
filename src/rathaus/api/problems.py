"""RFC 9457 problem documents for every API error."""

from __future__ import annotations

import logging
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
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def refusal(exc: SuspiciousOperation) -> exceptions.APIException:
    """Django's refusal of a request (``DATA_UPLOAD_MAX_*``, broken multipart, a foreign Host
    header) as the API error to answer with: Django itself answers with its HTML 400 page."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return PayloadTooLarge(f"The request data is larger than {limit} bytes.")
    if isinstance(exc, TooManyFieldsSent):
        count = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return exceptions.ParseError(f"The request has more than {count} fields.")
    if isinstance(exc, TooManyFilesSent):
        count = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return exceptions.ParseError(f"The request has more than {count} files.")
    if isinstance(exc, DisallowedHost):
        # not Django's message: it names the header's value and advises on ALLOWED_HOSTS
        return exceptions.ParseError("The Host header names no site of this server.")
    return exceptions.ParseError("The request could not be read.")


def _as_api_exception(exc: Exception, request: Any) -> Exception:
    """A refusal raised while DRF parses the body, as an API error (see :func:`refusal`)."""
    if not isinstance(exc, SuspiciousOperation):
        return exc
    # Django logs these to django.security.<name>; keep that for the operators' alerts.
    logging.getLogger(f"django.security.{type(exc).__name__}").error(
        str(exc), extra={"request": getattr(request, "_request", request)}
    )
    return refusal(exc)


def problem_document(exc: exceptions.APIException, *, instance: str) -> dict[str, Any]:
    """The problem document of an API error with a plain message (no field errors)."""
    return {
        "type": "about:blank",
        "title": HTTPStatus(exc.status_code).phrase,
        "status": exc.status_code,
        "detail": str(exc.detail),
        "instance": instance,
    }


def problem_response(request: HttpRequest, exc: exceptions.APIException) -> HttpResponse:
    """A problem document answered outside DRF (Django's error views, ``error_views``)."""
    return JsonResponse(
        problem_document(exc, instance=request.get_full_path()),
        status=exc.status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn DRF's error responses into ``application/problem+json`` documents.

    The title is the status phrase (RFC 9457 § 4.2.1 for ``about:blank``), the detail the
    precise message of this occurrence.
    """
    request = context.get("request")
    exc = _as_api_exception(exc, request)
    response = exception_handler(exc, context)
    if response is None:
        return None
    title = HTTPStatus(response.status_code).phrase
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
