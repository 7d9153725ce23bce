"""How often one client may ask the public verification (``/pruefen/``, its API) per window.

Uploads cost the server hashing time, code look-ups could be used to probe for codes: both are
counted per client in the cache, in fixed windows. Limits come from settings
``LEDGER_VERIFY_RATE_LIMITS`` (``{"upload": (count, seconds), "code": (count, seconds)}``).
A client is an IPv4 address or an IPv6 /64 network (``core.clients.client_key``).
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings

from rathaus.core import counters
from rathaus.core.clients import client_key

DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "upload": (20, 600),  # 20 PDFs per 10 minutes
    "code": (60, 600),  # 60 codes per 10 minutes
}
KEY_PREFIX = "rathaus:verify-limit:"


def limit_for(kind: str) -> tuple[int, int]:
    limits = {**DEFAULT_LIMITS, **getattr(settings, "LEDGER_VERIFY_RATE_LIMITS", {})}
    return limits[kind]


def consume(*, kind: str, client: str) -> bool:
    """Count one request of ``client`` (its address, counted as :func:`client_key` says); False
    once the window's limit is spent."""
    count, seconds = limit_for(kind)
    if count <= 0:
        return True
    window = int(time.time() // seconds)
    key = client_key(client)
    digest = hashlib.sha256(f"{kind}|{key}|{window}".encode()).hexdigest()[:32]
    return counters.hit(KEY_PREFIX + digest, timeout=seconds + 5) <= count


def retry_after(kind: str) -> int:
    """Seconds until the current window ends (for the Retry-After header)."""
    _count, seconds = limit_for(kind)
    return max(1, seconds - int(time.time()) % seconds)
