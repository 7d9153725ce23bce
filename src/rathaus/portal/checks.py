"""Deployment checks of the portal shell (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def operator_details_are_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The Impressum (§ 5 DDG) and privacy notice (Art. 13 GDPR) need the operator's details."""
    if getattr(settings, "RATHAUS_ENV", "production") != "production":
        return []
    operator = getattr(settings, "RATHAUS_OPERATOR", {})
    missing = [
        f"RATHAUS_OPERATOR_{key.upper()}"
        for key in ("name", "address", "email")
        if not operator.get(key)
    ]
    if not missing:
        return []
    return [
        Warning(
            "The operator details for the Impressum and privacy notice are incomplete.",
            hint=f"Set {', '.join(missing)} (see docs/modules/portal.md).",
            id="rathaus.portal.W001",
        )
    ]
