"""``GET /api/schema/``: the OpenAPI 3 schema (drf-spectacular), YAML or JSON by ``Accept`` or
``?format=json``."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView

from rathaus.api.authentication import SessionAuthentication
from rathaus.api.throttles import CatalogThrottle


class SchemaView(SpectacularAPIView):
    """Counted like the catalog: the schema is built afresh for every request."""

    authentication_classes = [SessionAuthentication]
    throttle_classes = [CatalogThrottle]
