"""Who a request comes from, for counting it against a rate limit.

A client is an IPv4 address or an IPv6 /64 network: the verification limits
(``ledger.verification_limits``) and the catalog API's throttle (``api.throttles``) count alike.
"""

from __future__ import annotations

import ipaddress


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
