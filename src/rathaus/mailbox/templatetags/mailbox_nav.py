"""The unread count next to "Postfach" in the main navigation (one indexed COUNT per page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.utils.translation import ngettext

from rathaus.mailbox.selectors import unread_count

register = template.Library()


@dataclass(frozen=True)
class Unread:
    count: int
    label: str  #: for screen readers: "unread messages"


@register.simple_tag(takes_context=True)
def unread_messages(context: dict[str, Any]) -> Unread:
    """Unread messages of the logged-in user; none for anonymous visitors (no query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Unread(0, "")
    count = unread_count(owner=user)
    return Unread(count, ngettext("unread message", "unread messages", count))
