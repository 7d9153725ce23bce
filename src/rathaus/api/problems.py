"""RFC 9457 problem documents for every API error."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn DRF's error responses into ``application/problem+json`` documents."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    title = getattr(exc, "default_detail", None) or status.HTTP_400_BAD_REQUEST
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": str(title),
        "status": response.status_code,
    }
    detail = response.data
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        body["detail"] = str(detail["detail"])
    elif detail is not None:
        body["detail"] = str(title)
        body["errors"] = detail
    request = context.get("request")
    if request is not None:
        body["instance"] = request.get_full_path()
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response
