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
    return bool(user.groups.filter(name__in=STAFF_GROUPS).exists())
