"""Who may see and work on which case: staff memberships plus the role groups.

A clerk sees the cases of the org units they work in (and cases assigned to them); a team lead
also sees the not yet routed cases of their authorities and may assign; an administrator sees
the cases of their authorities but configures rather than decides. Everyone else sees none.
The predicates are registered with ``rules`` in ``casework/rules.py``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from django.db.models import BigIntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast

from rathaus.accounts.roles import (
    ADMINISTRATOR,
    CLERK,
    TEAM_LEAD,
    forget_staff_groups,
    staff_groups,
)
from rathaus.casework.models import Case, Notice, StaffMembership
from rathaus.core.models import OrgUnit
from rathaus.core.raw_sql import fetch_all, fetch_value, table

_CACHE_ATTR = "_rathaus_casework_staff"


@dataclass(frozen=True)
class StaffScope:
    """A staff user's roles, units and authorities (computed once per user object)."""

    roles: frozenset[str]
    unit_ids: frozenset[int]
    authority_ids: frozenset[int]
    #: Some case assigned to them lies outside their org units (e.g. a team lead gave them one
    #: of another unit of the authority); only then is the assignee branch read.
    assigned_outside_units: bool = False
    #: (org unit, the unit's authority) of each membership: a unit's cases are seen only as
    #: cases of that authority, so a unit moved to another authority does not take the cases
    #: it holds of the old one to its new members.
    unit_authorities: frozenset[tuple[int, int]] = frozenset()

    @property
    def is_clerk(self) -> bool:
        return CLERK in self.roles

    @property
    def is_team_lead(self) -> bool:
        return TEAM_LEAD in self.roles

    @property
    def is_administrator(self) -> bool:
        return ADMINISTRATOR in self.roles

    @property
    def works_on_cases(self) -> bool:
        return bool(self.unit_ids) and (self.is_clerk or self.is_team_lead)


_NOBODY = StaffScope(roles=frozenset(), unit_ids=frozenset(), authority_ids=frozenset())


def staff_scope(user: Any) -> StaffScope:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return _NOBODY
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    roles = staff_groups(user) & {CLERK, TEAM_LEAD, ADMINISTRATOR}
    units = _memberships(user)
    unit_ids = frozenset(u for u, _a in units)
    scope = StaffScope(
        roles=roles,
        unit_ids=unit_ids,
        authority_ids=frozenset(a for _u, a in units),
        unit_authorities=frozenset(units),
        assigned_outside_units=bool(roles & {CLERK, TEAM_LEAD} and unit_ids)
        and _assigned_outside_units(user, sorted(unit_ids)),
    )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def _memberships(user: Any) -> list[tuple[int, int]]:
    """(org unit, its authority) of each of ``user``'s memberships. Written as SQL because
    every back-office request asks (the ORM spends about a millisecond building the query)."""
    sql = (
        f"SELECT u.id, u.authority_id FROM {table(StaffMembership)} m "  # noqa: S608
        f"JOIN {table(OrgUnit)} u ON u.id = m.org_unit_id WHERE m.user_id = %s"
    )  # only quoted table names go into the text
    return [(unit, authority) for unit, authority in fetch_all(sql, [user.pk])]


def forget_scope(user: Any) -> None:
    """Drop the cached scope (after memberships or groups of ``user`` changed)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
    forget_staff_groups(user)


def visibility_filter(user: Any) -> Q | None:
    """The filter for the cases ``user`` may see (:func:`visibility_branches` ORed); None
    means none at all."""
    branches = visibility_branches(user)
    if not branches:
        return None
    condition = branches[0]
    for branch in branches[1:]:
        condition |= branch
    return condition


def _outside(units: list[int]) -> list[tuple[str, list[int]]]:
    """Cases in none of ``units`` (sorted), as disjoint SQL conditions with their parameters:
    no unit, or a unit id below, between or above them."""
    ranges = [
        ("org_unit_id IS NULL", []),
        ("org_unit_id < %s", [units[0]]),
        ("org_unit_id > %s", [units[-1]]),
    ]
    ranges += [
        ("org_unit_id > %s AND org_unit_id < %s", [below, above])
        for below, above in itertools.pairwise(units)
        if above > below + 1
    ]
    return ranges


def _assigned_outside_units(user: Any, units: list[int]) -> bool:
    """Whether any case assigned to ``user`` lies outside ``units``.

    Nearly all of a clerk's cases are in their own units, which the unit branches read anyway;
    the assignee branch is only worth reading when this finds one. Each range is its own
    ``EXISTS``, a short scan of case_assignee_unit_idx (casework 0006): as one condition with OR,
    PostgreSQL misjudges how many rows match and reads every case assigned to the clerk. Written
    as SQL because it runs on every back-office request (the ORM takes milliseconds to build it).
    """
    cases = table(Case)
    tests, params = [], []
    for condition, values in _outside(units):
        # Only the quoted table name and the constant conditions above go into the text.
        tests.append(f"EXISTS (SELECT 1 FROM {cases} WHERE assigned_to_id = %s AND {condition})")  # noqa: S608
        params += [user.pk, *values]
    return bool(fetch_value(f"SELECT {' OR '.join(tests)}", params))


def visibility_branches(user: Any) -> list[Q]:
    """What ``user`` may see, as separate conditions: one per org unit or authority, the cases
    assigned to them, a team lead's unrouted cases. The one place of this rule.

    Each branch matches an index that starts with the unit (or assignee, or authority), so a
    list sorted by date can be read branch by branch in index order and merged
    (``backoffice.queue``) instead of filtering an OR row by row.
    """
    scope = staff_scope(user)
    if not scope.roles or not scope.unit_ids:
        return []
    branches: list[Q] = []
    if scope.is_administrator:
        branches += [Q(authority_id=authority) for authority in sorted(scope.authority_ids)]
    if scope.is_clerk or scope.is_team_lead:
        # As bigint: a plain integer parameter is compared with int8 = int4, an operator the
        # GIN index over unit and name (btree_gin, casework 0005) cannot use.
        branches += [
            Q(org_unit_id=Cast(Value(unit), BigIntegerField()), authority_id=authority)
            for unit, authority in sorted(scope.unit_authorities)
        ]
        if scope.assigned_outside_units:
            branches.append(
                Q(assigned_to=user, authority_id__in=scope.authority_ids)
                & ~Q(org_unit_id__in=scope.unit_ids)
            )
    if scope.is_team_lead:
        branches.append(Q(org_unit__isnull=True, authority_id__in=scope.authority_ids))
    return branches


def cases_visible_to(user: Any) -> QuerySet[Case]:
    condition = visibility_filter(user)
    if condition is None:
        return Case.objects.none()
    return Case.objects.filter(condition)


def can_view_case(user: Any, case: Case) -> bool:
    """Read the case: an administrator every case of their authorities, clerks and team leads
    the cases they work on (:func:`_works_on`). Reading is not acting: a clerk who is the
    applicant still reads their case as the role allows (but see :func:`can_decide`)."""
    scope = staff_scope(user)
    if not scope.roles or not scope.unit_ids or case.authority_id not in scope.authority_ids:
        return False
    return scope.is_administrator or _works_on(user, scope, case)


def _works_on(user: Any, scope: StaffScope, case: Case) -> bool:
    """A clerk's or team lead's own case: in one of their units, assigned to them, or (team
    lead) not routed to any unit. The administrator role adds reading, never working: a person
    who is administrator and clerk decides only their own units' cases."""
    if not scope.works_on_cases or case.authority_id not in scope.authority_ids:
        return False
    if (case.org_unit_id, case.authority_id) in scope.unit_authorities:
        return True
    if case.assigned_to_id == user.pk:
        return True
    return scope.is_team_lead and case.org_unit_id is None


def is_party(user: Any, case: Case) -> bool:
    """Whether ``user`` is the applicant of ``case``. § 20 Abs. 1 Nr. 1 VwVfG: a party may not
    act for the authority in its own procedure, so a clerk who applied may read their case as
    their role allows, but neither works on it, nor decides it, nor is given it."""
    pk = getattr(user, "pk", None)
    return pk is not None and case.applicant_id == pk


def can_decide(user: Any, case: Case) -> bool:
    """Work on the case: notes, requests for documents, notices (clerks and team leads; never
    the applicant, :func:`is_party`)."""
    return _works_on(user, staff_scope(user), case) and not is_party(user, case)


def can_assign(user: Any, case: Case) -> bool:
    """Give the case to a clerk or unit: a team lead who works on it and did not apply."""
    scope = staff_scope(user)
    return scope.is_team_lead and _works_on(user, scope, case) and not is_party(user, case)


def wrote_notice(notice: Notice, user_id: int | None) -> bool:
    """Whether the user drafted the notice or changed its text since (four-eyes rule)."""
    return notice.drafted_by_id == user_id or notice.edited_by.filter(pk=user_id).exists()


def can_approve_notice(user: Any, notice: Notice) -> bool:
    """Four-eyes rule: a second clerk, neither the one who drafted the notice nor one who
    edited it (nor the applicant: :func:`can_decide`)."""
    return can_decide(user, notice.case) and not wrote_notice(notice, user.pk)


def can_confirm_revocation(user: Any, notice: Notice) -> bool:
    """Four-eyes rule for a revocation: a clerk who works on the case confirms (or rejects) the
    revocation requested by a colleague, never the one who requested it (nor the applicant)."""
    return (
        notice.revocation_pending
        and can_decide(user, notice.case)
        and getattr(user, "pk", None) != notice.revocation_requested_by_id
    )


def can_see_own_case(user: Any, case: Case) -> bool:
    """The citizen side: only the applicant sees their case (its citizen-facing timeline)."""
    return bool(getattr(user, "is_authenticated", False)) and case.applicant_id == user.pk


def is_assignable_to(user: Any, case: Case) -> bool:
    """Whether ``user`` can be given ``case``: a clerk or team lead of the case's authority
    who is not its applicant (:func:`is_party`)."""
    scope = staff_scope(user)
    return (
        scope.works_on_cases
        and case.authority_id in scope.authority_ids
        and not is_party(user, case)
    )
