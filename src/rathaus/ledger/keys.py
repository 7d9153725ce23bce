"""The log's signing keys, read from settings (LEDGER_SIGNING_KEY, LEDGER_EXTRA_SIGNING_KEYS)."""

from __future__ import annotations

import base64
import binascii
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from rathaus.ledger.note import NoteError, Signer


def parse_signing_key(value: str, *, origin: str) -> Signer:
    """A signed-note private key string, or a 32-byte Ed25519 seed in base64 or hex."""
    value = value.strip()
    try:
        if value.startswith("PRIVATE+KEY+"):
            signer = Signer.from_key(value)
        elif re.fullmatch(r"[0-9a-fA-F]{64}", value):
            signer = Signer.from_seed(origin, bytes.fromhex(value))
        else:
            signer = Signer.from_seed(origin, base64.b64decode(value, validate=True))
    except (NoteError, binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(
            f"LEDGER_SIGNING_KEY is not a usable Ed25519 key: {exc}"
        ) from exc
    if signer.name != origin:
        raise ImproperlyConfigured(
            f"The ledger key is named {signer.name!r} but LEDGER_ORIGIN is {origin!r}; "
            "c2sp.org/tlog-checkpoint wants the log's key name to match its origin."
        )
    return signer


def log_signers() -> list[Signer]:
    """The current key first, then any keys that co-sign during a rotation."""
    origin = settings.LEDGER_ORIGIN
    keys = [settings.LEDGER_SIGNING_KEY, *settings.LEDGER_EXTRA_SIGNING_KEYS]
    return [parse_signing_key(key, origin=origin) for key in keys if key]


def verifier_keys() -> list[str]:
    """The public verifier keys to give to people who check documents (``rathaus-verify``)."""
    return [signer.verifier_key() for signer in log_signers()]
