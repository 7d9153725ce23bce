"""How often one client may ask the public verification (``/pruefen/``, its API) per window.

Uploads cost the server hashing time, code look-ups could be used to probe for codes: both are
counted per client in the cache, in fixed windows. Limits come from settings
``LEDGER_VERIFY_RATE_LIMITS`` (``{"upload": (count, seconds), "code": (count, seconds)}``).
A client is an IPv4 address or an IPv6 /64 network (see :func:`client_key`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import time

from django.conf import settings

from rathaus.core import counters

DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "upload": (20, 600),  # 20 PDFs per 10 minutes
    "code": (60, 600),  # 60 codes per 10 minutes
}
KEY_PREFIX = "rathaus:verify-limit:"


def limit_for(kind: str) -> tuple[int, int]:
    limits = {**DEFAULT_LIMITS, **getattr(settings, "LEDGER_VERIFY_RATE_LIMITS", {})}
    return limits[kind]


def client_key(address: str) -> str:
    """Who is counted for a request from ``address`` (``REMOTE_ADDR``).

    An IPv6 client is normally given a whole /64 (RFC 6177, RFC 7421: SLAAC), and may take a
    new address from it for every request: it is counted as its /64 network. A zone suffix
    (``%eth0``) is dropped, an IPv4-mapped IPv6 address (``::ffff:192.0.2.7``, from a
    dual-stack socket) counts as the IPv4 address. Anything unparsable is counted as it is."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


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
