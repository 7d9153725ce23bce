"""``GET /api/schema/``: the OpenAPI 3 schema (drf-spectacular), YAML or JSON by ``Accept`` or
``?format=json``."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView

from rathaus.api.throttles import CatalogThrottle


class SchemaView(SpectacularAPIView):
    """Counted like the catalog: the schema is built afresh for every request."""

    throttle_classes = [CatalogThrottle]
