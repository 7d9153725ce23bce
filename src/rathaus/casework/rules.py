"""Object permissions for ``user.has_perm("casework.…", case)`` (django-rules, autodiscovered)."""

from __future__ import annotations

from typing import Any

import rules

from rathaus.casework import permissions


@rules.predicate
def can_view_case(user: Any, case: Any) -> bool:
    return case is not None and permissions.can_view_case(user, case)


@rules.predicate
def can_decide(user: Any, case: Any) -> bool:
    return case is not None and permissions.can_decide(user, case)


@rules.predicate
def can_assign(user: Any, case: Any) -> bool:
    return case is not None and permissions.can_assign(user, case)


@rules.predicate
def can_approve_notice(user: Any, notice: Any) -> bool:
    return notice is not None and permissions.can_approve_notice(user, notice)


@rules.predicate
def can_confirm_revocation(user: Any, notice: Any) -> bool:
    return notice is not None and permissions.can_confirm_revocation(user, notice)


rules.add_perm("casework.case_view", can_view_case)
rules.add_perm("casework.case_decide", can_decide)
rules.add_perm("casework.case_assign", can_assign)
rules.add_perm("casework.notice_approve", can_approve_notice)
rules.add_perm("casework.notice_confirm_revocation", can_confirm_revocation)
