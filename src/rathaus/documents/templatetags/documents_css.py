"""Template filters for documents: values inside CSS (page margin boxes)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-:/@+()")


@register.filter
def css_string(value: object) -> SafeString:
    """``value`` as a quoted CSS string; everything but plain ASCII becomes a CSS escape.

    Page headers and footers are margin boxes whose text comes from ``content: "…"``; this keeps
    quotes, backslashes and ``</style>`` in data from ending the string or the style element.
    Line breaks become ``\\A`` (with ``white-space: pre-line`` on the box).
    """
    out = ['"']
    for char in str(value):
        if char in _PLAIN:
            out.append(char)
        elif char == "\n":
            out.append("\\A ")
        elif char != "\r":
            out.append(f"\\{ord(char):X} ")
    out.append('"')
    return mark_safe("".join(out))  # noqa: S308  (every character is escaped above)
