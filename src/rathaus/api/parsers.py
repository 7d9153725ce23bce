"""Request parsers of the API (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

DRF's parse errors are English only; these say them in the request's language. The parser's
own diagnosis (Python's JSON decoder, Django's multipart parser) is quoted as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _json_error(cause: BaseException | None) -> str:
    if isinstance(cause, json.JSONDecodeError):
        return gettext("JSON parse error - %(reason)s (line %(line)d, column %(column)d).") % {
            "reason": cause.msg,
            "line": cause.lineno,
            "column": cause.colno,
        }
    return gettext("JSON parse error - %(reason)s") % {"reason": cause}


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a document nested deeper than Python's recursion limit is a 400 parse
    error, not a ``RecursionError`` (a 500)."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(
                gettext("JSON parse error - the document is nested too deeply.")
            ) from exc
        except ParseError as exc:
            # DRF raises it while handling the decoder's ValueError
            raise ParseError(_json_error(exc.__context__)) from exc.__context__


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser; a body Django's parser refuses is a 400 in the request's
    language."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as exc:
            # DRF raises it while handling Django's MultiPartParserError
            message = gettext("Multipart form parse error - %(reason)s")
            raise ParseError(message % {"reason": exc.__context__}) from exc.__context__
