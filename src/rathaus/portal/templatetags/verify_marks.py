"""Template filters of the verification page."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def breakable(value: object, every: int = 16) -> SafeString:
    """A long hash or key with line-break opportunities (<wbr>), so it reflows on small screens
    (WCAG 1.4.10) and still copies as one string."""
    text = str(value)
    parts = [escape(text[i : i + every]) for i in range(0, len(text), every)]
    return mark_safe("<wbr>".join(parts))  # noqa: S308 - every part is escaped
