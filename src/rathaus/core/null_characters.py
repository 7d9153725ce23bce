"""Requests with a NUL character in the address or a form are refused with 400 before any view.

PostgreSQL cannot store or compare text containing NUL (``\\x00``): a parameter that reaches a
query unvalidated (a municipality's slug in a POST, a filter of the catalog API) would fail there
with a 500. Nobody types a NUL, and no field of this portal accepts one, so the request is
refused as a whole: people get the 400 page, API clients a problem document (RFC 9457).
Multipart bodies are not read beforehand (a view may still install its upload limits): a NUL
that arrives that way and reaches PostgreSQL ends as the same 400 (``process_exception``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest, RequestDataTooBig
from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.defaults import bad_request

DETAIL = _("The request contains a NUL character (%00), which no field accepts.")


def has_null_character(request: HttpRequest) -> bool:
    """Whether the query string or a URL-encoded form body carries a NUL character. (Views
    answer a NUL in the path themselves, e.g. /pruefen/ with its "no such code" page.)"""
    if "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        try:
            body = request.body  # bounded by DATA_UPLOAD_MAX_MEMORY_SIZE
        except RequestDataTooBig:
            # Nothing was read: whatever reads the body next is refused the same way, and
            # answers in its own terms (a page: the 400 page; the API: a problem document).
            return False
        return b"%00" in body or b"\x00" in body
    return False


class RejectNullCharactersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not has_null_character(request):
            return self.get_response(request)
        return self.refuse(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # psycopg refuses to send such text: "PostgreSQL text fields cannot contain NUL (0x00)
        # bytes" (the query was never run, so nothing else went wrong)
        if isinstance(exception, DataError) and "NUL (0x00)" in str(exception):
            return self.refuse(request)
        return None

    def refuse(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "type": "about:blank",
                    # in the request's language, as the API's problem documents are
                    "title": pgettext("HTTP status", "Bad Request"),
                    "status": 400,
                    "detail": str(DETAIL),
                    "instance": request.get_full_path(),
                },
                status=400,
                content_type="application/problem+json",
                headers={"Content-Language": get_language()},
            )
        return bad_request(request, BadRequest(str(DETAIL)))
