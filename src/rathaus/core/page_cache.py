"""Whole-page cache for anonymous visitors of public pages (catalog, start page, information).

A page is kept only when the visitor has no session or CSRF cookie, the request is a GET of an
address in ``settings.ANONYMOUS_PAGE_CACHE_PATHS``, and the response is a plain 200 that sets no
cookie and is not private. The key holds path, language and the query parameters the page reads
(``settings.ANONYMOUS_PAGE_CACHE_QUERY``), sorted, so each language and filter has its own copy and
``?a=1&b=2`` shares it with ``?b=2&a=1``. A request with any other parameter, a repeated one or a
value longer than allowed is served but never cached: made-up query strings cannot fill the cache.
Entries live ``ANONYMOUS_PAGE_CACHE_SECONDS`` (default 60); an admin's change to the catalog is
visible everywhere within that time. Security headers (CSP, HSTS) are added by the middleware
above this one on every response, cached or not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.cache import get_max_age

KEY_PREFIX = "rathaus:anonymous-page:"


def _cacheable_path(path: str) -> bool:
    exact = getattr(settings, "ANONYMOUS_PAGE_CACHE_EXACT", ("/",))
    prefixes = getattr(settings, "ANONYMOUS_PAGE_CACHE_PATHS", ())
    return path in exact or any(path.startswith(prefix) for prefix in prefixes)


def _query_parameters(path: str) -> Mapping[str, int]:
    """The parameters the page at ``path`` reads, each with the longest value still cached."""
    for prefix, parameters in getattr(settings, "ANONYMOUS_PAGE_CACHE_QUERY", {}).items():
        if path.startswith(prefix):
            return parameters
    return {}


def _normalised_query(path: str, query: QueryDict) -> str | None:
    """The query in a fixed order, or None when the page must not be cached for it."""
    allowed = _query_parameters(path)
    pairs = []
    for name, values in query.lists():
        longest = allowed.get(name)
        if longest is None or len(values) != 1 or len(values[0]) > longest:
            return None
        pairs.append((name, values[0]))
    return urlencode(sorted(pairs))


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
        query = _normalised_query(request.path, request.GET)
        if query is None:
            return None
        language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
        raw = f"{request.get_host()}|{request.path}|{query}|{language}"
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
