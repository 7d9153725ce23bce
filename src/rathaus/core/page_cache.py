"""Whole-page cache for anonymous visitors of public pages (catalog, start page, information).

A page is kept only when the visitor has no session or CSRF cookie, the request is a GET of an
address in ``settings.ANONYMOUS_PAGE_CACHE_PATHS``, and the response is a plain 200 that sets no
cookie and is not private. The key holds path, query and language, so each language has its own
copy. Entries live ``ANONYMOUS_PAGE_CACHE_SECONDS`` (default 60); an admin's change to the catalog
is visible everywhere within that time. Security headers (CSP, HSTS) are added by the middleware
above this one on every response, cached or not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_max_age

KEY_PREFIX = "rathaus:anonymous-page:"


def _cacheable_path(path: str) -> bool:
    exact = getattr(settings, "ANONYMOUS_PAGE_CACHE_EXACT", ("/",))
    prefixes = getattr(settings, "ANONYMOUS_PAGE_CACHE_PATHS", ())
    return path in exact or any(path.startswith(prefix) for prefix in prefixes)


class AnonymousPageCacheMiddleware:
    """Serve repeated anonymous GETs of public pages from the cache (place after Locale)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.seconds = int(getattr(settings, "ANONYMOUS_PAGE_CACHE_SECONDS", 60))

    def _key(self, request: HttpRequest) -> str | None:
        if (
            self.seconds <= 0
            or request.method != "GET"
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or settings.CSRF_COOKIE_NAME in request.COOKIES
            or "messages" in request.COOKIES
            or not _cacheable_path(request.path)
        ):
            return None
        language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
        raw = f"{request.get_host()}|{request.get_full_path()}|{language}"
        return KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = self._key(request)
        if key is None:
            return self.get_response(request)
        cached = cache.get(key)
        if cached is not None:
            status, headers, content = cached
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            return response
        response = self.get_response(request)
        if (
            response.status_code == 200
            and not response.cookies
            and not response.streaming
            and "private" not in response.get("Cache-Control", "")
            and "no-store" not in response.get("Cache-Control", "")
            and get_max_age(response) != 0
        ):
            headers = [(k, v) for k, v in response.items() if k.lower() != "set-cookie"]
            cache.set(key, (response.status_code, headers, response.content), self.seconds)
        return response
