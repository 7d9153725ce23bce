"""Staff roles (Django groups) and who must use a second factor."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection

from rathaus.core.raw_sql import fetch_all, table

CLERK = "clerk"
TEAM_LEAD = "team_lead"
ADMINISTRATOR = "administrator"
PLANNER = "planner"

#: Groups that make a user staff of an authority; created by migration 0003.
STAFF_GROUPS: tuple[str, ...] = (CLERK, TEAM_LEAD, ADMINISTRATOR, PLANNER)

#: Session key of the remembered answer of :func:`is_staff_member`: [user id, answer, when].
STAFF_SESSION_KEY = "rathaus_staff_member"
#: How long a remembered answer holds before the groups are asked again (seconds).
STAFF_RECHECK_SECONDS = 600


_GROUPS_ATTR = "_rathaus_staff_groups"


def staff_groups(user: Any) -> frozenset[str]:
    """The staff groups (roles) of ``user``: one query, then kept on the user object.

    The second-factor middleware, the back-office decorators and the case permissions all ask
    within the same request; they share this answer. Call :func:`forget_staff_groups` after
    changing the groups of a user object that is used again.
    """
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, _GROUPS_ATTR, None)
    if cached is None:
        cached = _read_staff_groups(user)
        setattr(user, _GROUPS_ATTR, cached)
    return cached


def _read_staff_groups(user: Any) -> frozenset[str]:
    """One query, written as SQL: every back-office request asks, and building the same query
    with the ORM costs about a millisecond of CPU each time."""
    through = user._meta.get_field("groups").remote_field.through
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(STAFF_GROUPS))
    sql = (
        f"SELECT g.name FROM {table(Group)} g JOIN {table(through)} m "  # noqa: S608
        f"ON m.{quote(through._meta.get_field('group').column)} = g.id "
        f"WHERE m.{quote(through._meta.get_field('user').column)} = %s "
        f"AND g.name IN ({placeholders})"
    )  # only quoted table and column names and placeholders go into the text
    return frozenset(name for (name,) in fetch_all(sql, [user.pk, *STAFF_GROUPS]))


def forget_staff_groups(user: Any) -> None:
    for attr in (_GROUPS_ATTR, "_rathaus_staff_member"):
        if hasattr(user, attr):
            delattr(user, attr)


def is_staff_member(user: Any) -> bool:
    """True for anyone who works on the back office or the admin site."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    cached = getattr(user, "_rathaus_staff_member", None)
    if cached is None:
        cached = bool(staff_groups(user))
        user._rathaus_staff_member = cached
    return bool(cached)


def remember_staff_membership(session: Any, user: Any) -> bool:
    """Ask the groups now and keep the answer in the session; returns it."""
    answer = is_staff_member(user)
    session[STAFF_SESSION_KEY] = [user.pk, answer, int(time.time())]
    return answer


def session_staff_member(request: Any) -> bool:
    """:func:`is_staff_member` for the user of this request, remembered in the session.

    Every request of a logged-in user needs the answer (the second-factor middleware), so the
    login stores it in the session and it is asked again at most every
    ``STAFF_RECHECK_SECONDS``: a citizen's request costs no group query. The answer is also
    kept on ``request.user`` for the rest of the request (navigation). Staff powers are never
    granted on it: the admin site and back office ask afresh (middleware), and their views check
    the groups themselves.
    """
    user: Any = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    session = getattr(request, "session", None)
    if session is None:
        return is_staff_member(user)
    remembered = session.get(STAFF_SESSION_KEY)
    if (
        isinstance(remembered, list)
        and len(remembered) == 3
        and remembered[0] == user.pk
        and 0 <= time.time() - remembered[2] < STAFF_RECHECK_SECONDS
    ):
        # the rest of this request (e.g. the navigation's back-office link) uses it too
        user._rathaus_staff_member = bool(remembered[1])
        return bool(remembered[1])
    return remember_staff_membership(session, user)


def on_user_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Receiver of ``user_logged_in``: the session starts knowing whether this is staff."""
    if request is not None and getattr(request, "session", None) is not None:
        remember_staff_membership(request.session, user)
