"""Who sees and works on which case: units, roles, authorities; citizens see none."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rathaus.accounts.models import User
from rathaus.accounts.roles import ADMINISTRATOR, CLERK, PLANNER, TEAM_LEAD
from rathaus.casework import services
from rathaus.casework.models import Case, StaffMembership
from rathaus.casework.permissions import (
    can_approve_notice,
    can_assign,
    can_decide,
    can_view_case,
    forget_scope,
    staff_scope,
)
from rathaus.casework.selectors import cases_visible_to
from rathaus.core.models import Authority, OrgUnit
from tests.accounts.factories import UserFactory


def test_clerks_see_the_cases_of_their_units_only(
    case: Case,
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    meldewesen: OrgUnit,
    buergeramt: Authority,
) -> None:
    pass_unit = OrgUnit.objects.get(authority=buergeramt, code="33.2")
    solingen = Authority.objects.get(municipality__ags="05122000")
    other_case = make_case(authority=solingen)
    clerk = make_staff(meldewesen, role=CLERK)
    colleague_next_door = make_staff(pass_unit, role=CLERK)
    solingen_clerk = make_staff(other_case.org_unit, role=CLERK)
    assert list(cases_visible_to(clerk)) == [case]
    assert can_view_case(clerk, case) and can_decide(clerk, case)
    assert not can_view_case(colleague_next_door, case)
    assert list(cases_visible_to(colleague_next_door)) == []
    assert list(cases_visible_to(solingen_clerk)) == [other_case]
    assert not can_view_case(solingen_clerk, case)
    assert not can_assign(clerk, case)


def test_a_unit_moved_to_another_authority_does_not_take_the_old_authoritys_cases_along(
    case: Case, make_staff: Callable[..., User], meldewesen: OrgUnit, clerk: User
) -> None:
    # An administrator moves a unit that still holds Wuppertal's cases to Solingen (the admin
    # now refuses that: tests/core/test_admin_lists.py); its Solingen clerk must not see them.
    solingen = Authority.objects.get(municipality__ags="05122000")
    OrgUnit.objects.filter(pk=meldewesen.pk).update(authority=solingen, code="99.9")
    solingen_clerk = make_staff(meldewesen, role=CLERK)
    assert case.authority_id != solingen.pk and case.org_unit_id == meldewesen.pk
    assert list(cases_visible_to(solingen_clerk)) == []
    assert not can_view_case(solingen_clerk, case)
    forget_scope(clerk)  # the old member's unit is Solingen's now too: neither sees it
    assert list(cases_visible_to(clerk)) == [] and not can_view_case(clerk, case)


def test_a_case_assigned_to_a_clerk_is_visible_to_them_in_another_unit(
    case: Case, make_staff: Callable[..., User], buergeramt: Authority, team_lead: User
) -> None:
    pass_unit = OrgUnit.objects.get(authority=buergeramt, code="33.2")
    helper = make_staff(pass_unit, role=CLERK)
    services.assign(cases=[case], user=helper, actor=team_lead)
    case.refresh_from_db()
    forget_scope(helper)
    assert can_view_case(helper, case)
    assert case in cases_visible_to(helper)


@pytest.mark.parametrize("where", ["below", "between", "above", "no unit", "own unit"])
def test_cases_assigned_outside_a_clerks_units_are_found_in_every_range(
    where: str,
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    buergeramt: Authority,
) -> None:
    """The assignee branch is read only when some case assigned to the clerk lies outside
    their units; the probe checks the id ranges below, between and above them and no unit."""
    units = [
        OrgUnit.objects.create(authority=buergeramt, code=f"99.{n}", name=f"Test unit {n}")
        for n in range(5)
    ]
    clerk = make_staff(units[1], role=CLERK)
    StaffMembership.objects.create(user=clerk, org_unit=units[3])
    place = {"below": units[0], "between": units[2], "above": units[4], "own unit": units[3]}
    assigned = make_case()
    Case.objects.filter(pk=assigned.pk).update(assigned_to=clerk, org_unit=place.get(where))
    forget_scope(clerk)
    scope = staff_scope(clerk)
    assert scope.assigned_outside_units is (where != "own unit")
    assert assigned in cases_visible_to(clerk)
    assert can_view_case(clerk, Case.objects.get(pk=assigned.pk))
    unassigned = make_case()
    Case.objects.filter(pk=unassigned.pk).update(org_unit=place.get(where))
    assert (unassigned in cases_visible_to(clerk)) is (where == "own unit")


def test_team_leads_assign_and_see_unrouted_cases_of_their_authority(
    make_case: Callable[..., Case], team_lead: User, clerk: User, meldewesen: OrgUnit
) -> None:
    unrouted = make_case()
    services.assign(cases=[unrouted], org_unit=meldewesen, actor=team_lead)
    Case.objects.filter(pk=unrouted.pk).update(org_unit=None)
    unrouted.refresh_from_db()
    assert can_view_case(team_lead, unrouted) and can_assign(team_lead, unrouted)
    assert unrouted in cases_visible_to(team_lead)
    assert not can_view_case(clerk, unrouted)
    assert unrouted not in cases_visible_to(clerk)


def test_administrators_see_their_authority_but_do_not_decide(
    case: Case, administrator: User
) -> None:
    assert can_view_case(administrator, case)
    assert case in cases_visible_to(administrator)
    assert not can_decide(administrator, case)


def test_citizens_anonymous_and_staff_without_units_see_nothing(
    case: Case, citizen: User, make_staff: Callable[..., User]
) -> None:
    from django.contrib.auth.models import AnonymousUser

    no_unit = make_staff(role=CLERK)
    planner = make_staff(case.org_unit, role=PLANNER)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    for user in (citizen, AnonymousUser(), no_unit, planner, superuser):
        assert list(cases_visible_to(user)) == []
        assert not can_view_case(user, case)
        assert not can_decide(user, case)


def test_only_another_clerk_may_approve_a_notice(
    case: Case, clerk: User, second_clerk: User
) -> None:
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    assert not can_approve_notice(clerk, notice)
    assert can_approve_notice(second_clerk, notice)


def test_permissions_are_registered_with_rules(
    case: Case, clerk: User, team_lead: User, citizen: User
) -> None:
    assert clerk.has_perm("casework.case_view", case)
    assert clerk.has_perm("casework.case_decide", case)
    assert not clerk.has_perm("casework.case_assign", case)
    assert team_lead.has_perm("casework.case_assign", case)
    assert not citizen.has_perm("casework.case_view", case)


def test_inactive_staff_lose_access(case: Case, clerk: User) -> None:
    clerk.is_active = False
    clerk.save()
    forget_scope(clerk)
    assert not can_view_case(clerk, case)
    assert ADMINISTRATOR and TEAM_LEAD  # roles exist


@pytest.mark.parametrize("role", [CLERK, TEAM_LEAD])
def test_an_administrator_who_also_works_one_unit_decides_only_that_units_cases(
    make_staff: Callable[..., User],
    make_case: Callable[..., Case],
    buergeramt: Authority,
    meldewesen: OrgUnit,
    role: str,
) -> None:
    """The administrator role adds reading the whole authority, never working on it."""
    from django.contrib.auth.models import Group

    other_unit = OrgUnit.objects.get(authority=buergeramt, code="33.2")
    other_units_case = make_case(org_unit=other_unit)
    own_case = make_case(org_unit=meldewesen)
    user = make_staff(meldewesen, role=role)
    user.groups.add(Group.objects.get_or_create(name=ADMINISTRATOR)[0])
    forget_scope(user)

    assert can_view_case(user, other_units_case)
    assert not can_decide(user, other_units_case)
    assert not can_assign(user, other_units_case)
    assert not user.has_perm("casework.case_decide", other_units_case)
    assert can_decide(user, own_case)
    assert can_assign(user, own_case) is (role == TEAM_LEAD)
