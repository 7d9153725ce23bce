"""Template tags of the site shell (base.html): the installation's identity and navigation state."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.conf import settings

register = template.Library()


@dataclass(frozen=True)
class SiteIdentity:
    """Who runs this installation, as configured in the ``RATHAUS_*`` settings."""

    portal_name: str
    municipality_name: str
    operator_name: str


@register.simple_tag
def site_identity() -> SiteIdentity:
    """The portal's name and operator; a tag, not a context processor, so that error pages
    rendered without a request (500, CSRF failure) still show them."""
    operator = getattr(settings, "RATHAUS_OPERATOR", {})
    portal_name = getattr(settings, "RATHAUS_PORTAL_NAME", "") or "Rathaus"
    operator_name = operator.get("name", "") or portal_name
    return SiteIdentity(
        portal_name=portal_name,
        municipality_name=getattr(settings, "RATHAUS_MUNICIPALITY_NAME", "") or operator_name,
        operator_name=operator_name,
    )


@register.filter
def in_section(path: object, prefix: str) -> bool:
    """True when the current path lies in the navigation section ``prefix`` (for aria-current)."""
    return isinstance(path, str) and path.startswith(prefix)
