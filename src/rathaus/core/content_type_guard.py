"""Content-Type parameters that Django cannot decode with are dropped before Django sees them.

Django builds the request object — and decodes the query string with a declared ``charset`` —
before any middleware runs, so a ``charset`` naming a codec that is no text encoding
(``rot13``, ``base64``), or one that refuses ``errors="replace"`` (``idna``, ``undefined``),
or an RFC 2231 parameter (``name*=bogus''x``) naming an unknown one, ended in a bare 500 that
no error handler of ours sees. Such a parameter is removed: Django then reads the request as
UTF-8, as it already does for a ``charset`` it does not know.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable
from email.message import Message
from email.utils import collapse_rfc2231_value
from functools import lru_cache
from typing import Any

from django.utils.http import parse_header_parameters

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_PROBE = bytes(range(256))


@lru_cache(maxsize=256)
def decodes_text(charset: str) -> bool:
    """Whether ``charset`` names a text encoding that decodes any bytes with replacements."""
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):  # ValueError: a name with a NUL character
        return False
    if not info._is_text_encoding:  # the flag bytes.decode() itself checks
        return False
    try:
        _PROBE.decode(info.name, "replace")
    except (UnicodeError, LookupError):
        return False
    return True


def _readable_as_is(content_type: str) -> bool:
    try:
        _, params = parse_header_parameters(content_type)
    except ValueError:  # an RFC 2231 parameter naming an unknown charset
        return False
    return "charset" not in params or decodes_text(params["charset"])


def readable_content_type(content_type: str) -> str:
    """``content_type`` without the parameters Django cannot decode with; unchanged if none."""
    if _readable_as_is(content_type):
        return content_type
    # The header is taken apart the way Django's parse_header_parameters() does it.
    message = Message()
    message["content-type"] = content_type
    for name, value in (message.get_params(header="content-type") or [])[1:]:
        if isinstance(value, tuple):  # RFC 2231: (charset, language, text)
            if value[0] and not decodes_text(value[0]):
                message.del_param(name, header="content-type")
                continue
            value = collapse_rfc2231_value(value)
        if name.lower() == "charset" and not decodes_text(value):
            message.del_param(name, header="content-type")
    cleaned = str(message.get("content-type", ""))
    if _readable_as_is(cleaned):
        return cleaned
    return content_type.split(";", 1)[0].strip()


def guard_content_type(application: WSGIApplication) -> WSGIApplication:
    """Wrap a WSGI application so that it only sees a Content-Type it can decode with."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        content_type = environ.get("CONTENT_TYPE")
        if content_type:
            environ["CONTENT_TYPE"] = readable_content_type(content_type)
        return application(environ, start_response)

    return guarded
