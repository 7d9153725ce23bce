"""``{{ user|is_staff_member }}``: whether the main navigation offers the back office."""

from __future__ import annotations

from django import template

from rathaus.accounts.roles import is_staff_member as _is_staff_member

register = template.Library()


@register.filter
def is_staff_member(user: object) -> bool:
    """Clerks, team leads, administrators and planners, not only Django's ``is_staff``."""
    return _is_staff_member(user)
