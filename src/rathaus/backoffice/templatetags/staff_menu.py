"""``{% staff_pages user as staff %}``: the staff pages the main navigation offers (base.html)."""

from __future__ import annotations

from django import template

from rathaus.backoffice.access import StaffPages
from rathaus.backoffice.access import staff_pages as _staff_pages

register = template.Library()


@register.simple_tag
def staff_pages(user: object) -> StaffPages:
    """The case queue, preRESC planning and the admin site, each only if ``user`` may open it."""
    return _staff_pages(user)
