"""The client's address behind the reverse proxies named in ``TRUSTED_PROXIES``.

granian sets ``REMOTE_ADDR`` to its immediate peer: behind a reverse proxy that is the proxy, and
every visitor would share one rate-limit bucket (login, sign-up, verification, catalog API).
When the peer is a trusted proxy, the client is the right-most address in ``X-Forwarded-For``
that is not itself a trusted proxy: each proxy appends the address it was connected from, so
everything left of that entry was written by the client and may be forged. A request whose peer
is not a trusted proxy keeps its ``REMOTE_ADDR``, and its ``X-Forwarded-For`` and the header of
``SECURE_PROXY_SSL_HEADER`` (``X-Forwarded-Proto``) are dropped: only a trusted proxy says which
scheme the client used. Without ``TRUSTED_PROXIES`` (the default) nothing is changed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# "[2001:db8::1]:443" and "192.0.2.7:443": some proxies write the client's port too.
_WITH_PORT = re.compile(r"^\[(?P<v6>[^\]]+)\](?::\d+)?$|^(?P<v4>[\d.]+):\d+$")


def trusted_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``TRUSTED_PROXIES`` read as networks (a single address is a network of one)."""
    networks = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is neither an IP address nor a network "
                "(e.g. 127.0.0.1, 10.0.0.0/8, ::1). See docs/operations.md."
            ) from exc
    return tuple(networks)


def parse_address(value: str) -> IPAddress | None:
    """An address as a proxy or the WSGI server writes it; an IPv4-mapped IPv6 address (from a
    dual-stack socket) is its IPv4 address. None for anything else."""
    value = value.strip()
    if match := _WITH_PORT.match(value):
        value = match.group("v6") or match.group("v4")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress | None, networks: Iterable[IPNetwork]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(*, peer: str, forwarded_for: str, networks: tuple[IPNetwork, ...]) -> str:
    """Who sent a request that the trusted proxy ``peer`` passed on with ``forwarded_for``.

    The right-most address that is not a trusted proxy; when all of them are, the left-most
    (each was written by a trusted proxy). An entry that is no address stops the walk: nothing
    left of it can be told apart from what the client made up, so the peer stays the client.
    """
    entries = [entry for entry in forwarded_for.split(",") if entry.strip()]
    client: IPAddress | None = None
    for entry in reversed(entries):
        client = parse_address(entry)
        if client is None:
            return peer
        if not is_trusted(client, networks):
            return str(client)
    return str(client) if client is not None else peer


class TrustedProxyMiddleware:
    """First in ``MIDDLEWARE``: every later middleware and view sees the client's address in
    ``REMOTE_ADDR`` and a scheme only a trusted proxy can claim."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.networks = trusted_networks(settings.TRUSTED_PROXIES)
        if not self.networks:
            raise MiddlewareNotUsed
        proxy_ssl_header = settings.SECURE_PROXY_SSL_HEADER
        self.scheme_header = proxy_ssl_header[0] if proxy_ssl_header else None
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = str(meta.get("REMOTE_ADDR") or "")
        if is_trusted(parse_address(peer), self.networks):
            meta["REMOTE_ADDR"] = client_address(
                peer=peer,
                forwarded_for=str(meta.get("HTTP_X_FORWARDED_FOR") or ""),
                networks=self.networks,
            )
        else:
            meta.pop("HTTP_X_FORWARDED_FOR", None)
            if self.scheme_header:
                meta.pop(self.scheme_header, None)
        return self.get_response(request)
