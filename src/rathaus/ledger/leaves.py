"""The bytes of one GovChain log entry, and the short codes printed on documents.

An entry is UTF-8 text, one ``key: value`` per line in a fixed order, so that anyone can read a
downloaded entry bundle. It holds no personal data: the document's SHA-256, its type, the issuing
authority and the time it was logged (and, for a revocation, the reason category)::

    rathaus-govchain/1
    kind: issue
    code: 7KQ4M-2XH9P
    document-sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    document-type: residence-certificate
    authority: 05124000/buergeramt
    authority-name: Bürgeramt Wuppertal
    logged-at: 2026-11-22T19:40:00Z

Imports nothing from Django: the offline verifier uses it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

HEADER = "rathaus-govchain/1"
KINDS = ("issue", "revoke")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
CODE_LENGTH = 10
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_AUTHORITY = re.compile(r"^[0-9]{8}/[a-z0-9-]{1,32}$")


class EntryFormatError(ValueError):
    """Bytes that are not a GovChain entry."""


def new_code() -> str:
    """A random 50-bit code in Crockford base32, e.g. ``7KQ4M2XH9P`` (shown as 7KQ4M-2XH9P)."""
    bits = int.from_bytes(secrets.token_bytes(7), "big") >> 6
    return "".join(_CROCKFORD[(bits >> (5 * i)) & 31] for i in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """The canonical form of a code a person typed (case, spaces, dashes, O/0 and I/L/1 forgiven);
    None if it cannot be a code."""
    code = re.sub(r"[\s\-]", "", text).upper().translate(_CODE_ALIASES)
    if len(code) != CODE_LENGTH or any(c not in _CROCKFORD for c in code):
        return None
    return code


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def _single_line(value: str) -> str:
    return " ".join(value.split())


@dataclass(frozen=True)
class LogEntry:
    kind: str
    code: str
    document_sha256: str
    document_type: str
    authority: str
    authority_name: str
    logged_at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise EntryFormatError(f"unknown kind {self.kind!r}")
        if normalize_code(self.code) != self.code:
            raise EntryFormatError("invalid code")
        if not _SHA256.match(self.document_sha256):
            raise EntryFormatError("the document hash must be 64 lower-case hex digits")
        if not _SLUG.match(self.document_type):
            raise EntryFormatError("invalid document type")
        if not _AUTHORITY.match(self.authority):
            raise EntryFormatError("the authority is written <AGS>/<kind>")
        if self.authority_name != _single_line(self.authority_name) or not self.authority_name:
            raise EntryFormatError("the authority name must be one non-empty line")
        if (self.kind == "revoke") != bool(self.reason) or (
            self.reason and not _SLUG.match(self.reason)
        ):
            raise EntryFormatError("a revocation, and only a revocation, carries a reason")
        if self.logged_at.tzinfo is None:
            raise EntryFormatError("the time must be timezone-aware")

    def encode(self) -> bytes:
        lines = [
            HEADER,
            f"kind: {self.kind}",
            f"code: {format_code(self.code)}",
            f"document-sha256: {self.document_sha256}",
            f"document-type: {self.document_type}",
            f"authority: {self.authority}",
            f"authority-name: {self.authority_name}",
            f"logged-at: {self.logged_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        ]
        if self.reason:
            lines.append(f"reason: {self.reason}")
        return ("\n".join(lines) + "\n").encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> LogEntry:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EntryFormatError("not UTF-8") from exc
        lines = text.split("\n")
        if lines[0] != HEADER or lines[-1] != "":
            raise EntryFormatError("not a rathaus-govchain/1 entry")
        keys = [
            "kind",
            "code",
            "document-sha256",
            "document-type",
            "authority",
            "authority-name",
            "logged-at",
            "reason",
        ]
        values: dict[str, str] = {}
        body = lines[1:-1]
        if len(body) > len(keys):
            raise EntryFormatError("too many lines")
        for key, line in zip(keys, body, strict=False):
            prefix = f"{key}: "
            if not line.startswith(prefix):
                raise EntryFormatError(f"expected the line {key!r}")
            values[key] = line[len(prefix) :]
        if len(values) < len(keys) - 1:
            raise EntryFormatError("missing lines")
        try:
            logged_at = datetime.strptime(values["logged-at"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=UTC
            )
        except ValueError as exc:
            raise EntryFormatError("invalid time") from exc
        entry = cls(
            kind=values["kind"],
            code=normalize_code(values["code"]) or "",
            document_sha256=values["document-sha256"],
            document_type=values["document-type"],
            authority=values["authority"],
            authority_name=values["authority-name"],
            logged_at=logged_at,
            reason=values.get("reason", ""),
        )
        if entry.encode() != data:
            raise EntryFormatError("not in canonical form")
        return entry
