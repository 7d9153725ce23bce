"""Staff roles (Django groups) and who must use a second factor."""

from __future__ import annotations

from typing import Any

CLERK = "clerk"
TEAM_LEAD = "team_lead"
ADMINISTRATOR = "administrator"
PLANNER = "planner"

#: Groups that make a user staff of an authority; created by migration 0003.
STAFF_GROUPS: tuple[str, ...] = (CLERK, TEAM_LEAD, ADMINISTRATOR, PLANNER)


def is_staff_member(user: Any) -> bool:
    """True for anyone who works on the back office or the admin site."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    cached = getattr(user, "_rathaus_staff_member", None)
    if cached is None:
        # Asked on every request by the second-factor middleware: one query per request.
        cached = user.groups.filter(name__in=STAFF_GROUPS).exists()
        user._rathaus_staff_member = cached
    return bool(cached)
