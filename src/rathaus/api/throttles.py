"""Rate limits of the public, read-only API for anonymous clients."""

from __future__ import annotations

from rest_framework.throttling import AnonRateThrottle


class CatalogThrottle(AnonRateThrottle):
    """Requests per client address to ``/api/v1/services/…``; the rate is
    ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["catalog"]`` (env ``API_CATALOG_THROTTLE_RATE``).
    Over it: 429 problem document with ``Retry-After``. Signed-in users are not counted."""

    scope = "catalog"
