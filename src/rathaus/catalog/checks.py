"""System checks: every service definition file and every service's form schema is valid
(``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from rathaus.catalog import definitions
from rathaus.catalog.form_schemas import FORM_FILE
from rathaus.forms.schema import SchemaError, load_schema_file


@register()
def check_service_definitions(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    try:
        situations = definitions.read_life_situations(definitions.LIFE_SITUATIONS_FILE)
        services = definitions.read_services(
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
    errors = []
    for service in services:
        # A broken form would otherwise only show when a citizen starts an application (a 500).
        path = service.path.parent / FORM_FILE
        if not path.is_file():
            continue
        try:
            load_schema_file(path, source=f"service {service.slug} ({path.name})")
        except SchemaError as exc:
            errors.append(
                Error(
                    f"Invalid form schema: {exc}",
                    hint="Fix the named step and field (docs/modules/forms.md).",
                    id="catalog.E002",
                )
            )
    return errors
