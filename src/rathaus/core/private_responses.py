"""No copy of a signed-in person's pages in any cache.

Every response to a signed-in person (citizen or staff) that does not say itself how it may be
cached gets ``Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private``: their
profile, declarations, notices, the E-Akte's files, the second factor's secret and recovery
codes must not stay in a shared proxy's cache or in the browser's disk cache of a shared
computer after logging out. A view that sets its own ``Cache-Control`` keeps it. Anonymous
visitors' public pages stay cacheable (``core.page_cache``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class PrivateResponsesMiddleware:
    """Placed after ``AuthenticationMiddleware`` (it reads ``request.user``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if "Cache-Control" not in response and user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
