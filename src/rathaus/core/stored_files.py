"""Reading a stored file back, checked against the SHA-256 recorded when it was stored.

What the authority hands out as proof (a file in the Postfach, the receipt of an application)
must be the very file it stored: one gone from the storage, unreadable there or changed there
is refused and logged for the operator, never served as if it were the original. Callers turn
:class:`StoredFileUnavailable` into their own message for the person asking.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.db.models.fields.files import FieldFile

logger = logging.getLogger(__name__)


class StoredFileUnavailable(Exception):
    """The stored file cannot be handed out; ``reason`` is "missing" (gone or unreadable) or
    "changed" (its bytes differ from the recorded SHA-256, or none was recorded)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def read_verified(file: FieldFile, *, sha256: str, what: str, **context: Any) -> bytes:
    """The bytes of ``file`` if their SHA-256 is ``sha256``; otherwise logs an error naming
    ``what`` (with ``context``, e.g. a public id) and raises :class:`StoredFileUnavailable`."""
    extra = {"stored_file": what, "storage_name": file.name, **context}
    try:
        with file.open("rb") as stored:
            content = stored.read()
    except (OSError, ValueError) as exc:  # ValueError: the field names no file at all
        logger.error("stored file missing: %s", what, extra={**extra, "error": str(exc)[:300]})
        raise StoredFileUnavailable("missing") from exc
    if not sha256 or hashlib.sha256(content).hexdigest() != sha256:
        logger.error("stored file does not match its SHA-256: %s", what, extra=extra)
        raise StoredFileUnavailable("changed")
    return content
