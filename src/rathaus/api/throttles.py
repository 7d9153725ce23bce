"""Rate limits of the public, read-only API for anonymous clients."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import AnonRateThrottle

from rathaus.core.clients import client_key


class CatalogThrottle(AnonRateThrottle):
    """Requests per client to ``/api/v1/services/…`` and ``/api/schema/``; the rate is
    ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["catalog"]`` (env ``API_CATALOG_THROTTLE_RATE``).
    Over it: 429 problem document with ``Retry-After``. Signed-in users are not counted."""

    scope = "catalog"

    def get_ident(self, request: Any) -> str:
        """The client's address, an IPv6 client as its /64 network (``client_key``): it could
        take a new address of it for every request."""
        return client_key(str(super().get_ident(request) or ""))
