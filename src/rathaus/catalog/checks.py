"""System check: every service definition file is valid (``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from rathaus.catalog import definitions


@register()
def check_service_definitions(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    try:
        situations = definitions.read_life_situations(definitions.LIFE_SITUATIONS_FILE)
        definitions.read_services(
            definitions.SERVICES_DIR, life_situations={s.slug for s in situations}
        )
    except definitions.DefinitionError as exc:
        return [
            Error(
                f"Invalid service definition: {exc}",
                hint="Fix the named field; the catalog is loaded on every migrate.",
                id="catalog.E001",
            )
        ]
    return []
