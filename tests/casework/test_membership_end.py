"""A staff membership that ends takes the cases that rested on it from the clerk: they go back
to the team lead unassigned, with a note in the history and an audit event."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rathaus.accounts.models import User
from rathaus.accounts.roles import CLERK
from rathaus.casework import memberships, services
from rathaus.casework.models import Case, CaseEvent, StaffMembership
from rathaus.casework.permissions import can_decide, can_view_case
from rathaus.casework.selectors import cases_visible_to
from rathaus.core.models import AuditEvent, Authority, OrgUnit

pytestmark = pytest.mark.django_db


@pytest.fixture
def passwesen(buergeramt: Authority) -> OrgUnit:
    return OrgUnit.objects.get(authority=buergeramt, code="33.2")


def _fresh(user: User) -> User:
    """The user as a new request reads them (no cached staff scope)."""
    return User.objects.get(pk=user.pk)


def test_deleting_the_membership_unassigns_the_units_open_cases(
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    meldewesen: OrgUnit,
    passwesen: OrgUnit,
) -> None:
    clerk = make_staff(meldewesen, role=CLERK)
    case = make_case(org_unit=meldewesen)
    services.assign(cases=[case], user=clerk, actor=clerk)
    # moved to another unit: the old membership deleted (a queryset, no admin), a new one added
    StaffMembership.objects.filter(user=clerk, org_unit=meldewesen).delete()
    StaffMembership.objects.create(user=clerk, org_unit=passwesen)

    case.refresh_from_db()
    assert case.assigned_to is None
    clerk = _fresh(clerk)
    assert not can_view_case(clerk, case)
    assert not can_decide(clerk, case)
    assert not cases_visible_to(clerk).filter(pk=case.pk).exists()
    entry = case.events.filter(kind=CaseEvent.Kind.ASSIGNED).latest("at", "pk")
    assert entry.data["unassigned"] == clerk.pk
    assert entry.data["membership_ended"] == meldewesen.pk
    assert "Meldewesen" in entry.note and not entry.citizen_visible
    audit = AuditEvent.objects.get(action="case.assignee_left_unit", object_id=str(case.pk))
    assert audit.actor is None and audit.actor_label == "system"
    assert audit.before is not None and audit.before["assigned_to"] == clerk.pk
    assert audit.after is not None and audit.after["assigned_to"] is None


def test_whoever_ends_the_membership_is_the_actor(
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    administrator: User,
    meldewesen: OrgUnit,
) -> None:
    clerk = make_staff(meldewesen, role=CLERK)
    case = make_case(org_unit=meldewesen)
    services.assign(cases=[case], user=clerk, actor=clerk)
    with memberships.changed_by(administrator):
        StaffMembership.objects.get(user=clerk, org_unit=meldewesen).delete()
    audit = AuditEvent.objects.get(action="case.assignee_left_unit", object_id=str(case.pk))
    assert audit.actor == administrator
    entry = case.events.filter(kind=CaseEvent.Kind.ASSIGNED).latest("at", "pk")
    assert entry.actor == administrator


def test_moving_the_membership_to_another_unit_unassigns_the_old_units_cases(
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    meldewesen: OrgUnit,
    passwesen: OrgUnit,
) -> None:
    clerk = make_staff(meldewesen, role=CLERK)
    case = make_case(org_unit=meldewesen)
    services.assign(cases=[case], user=clerk, actor=clerk)
    membership = StaffMembership.objects.get(user=clerk, org_unit=meldewesen)
    membership.org_unit = passwesen
    membership.save()
    case.refresh_from_db()
    assert case.assigned_to is None
    membership.save()  # saved again unchanged: nothing more happens
    assert AuditEvent.objects.filter(action="case.assignee_left_unit").count() == 1


def test_only_open_cases_of_the_unit_are_unassigned(
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    citizen: User,
    meldewesen: OrgUnit,
    passwesen: OrgUnit,
) -> None:
    clerk = make_staff(meldewesen, passwesen, role=CLERK)
    colleague = make_staff(meldewesen, role=CLERK)
    own = make_case(org_unit=meldewesen)
    withdrawn = make_case(org_unit=meldewesen)
    other_unit = make_case(org_unit=passwesen)
    colleagues = make_case(org_unit=meldewesen)
    services.assign(cases=[own, withdrawn, other_unit], user=clerk, actor=clerk)
    services.assign(cases=[colleagues], user=colleague, actor=colleague)
    services.withdraw_case(case=withdrawn, actor=citizen)

    StaffMembership.objects.filter(user=clerk, org_unit=meldewesen).delete()

    assigned = dict(Case.objects.values_list("pk", "assigned_to_id"))
    assert assigned[own.pk] is None
    assert assigned[withdrawn.pk] == clerk.pk  # closed cases keep who worked on them
    assert assigned[other_unit.pk] == clerk.pk  # still their unit
    assert assigned[colleagues.pk] == colleague.pk


def test_a_cross_unit_assignment_stays_while_the_clerk_keeps_a_unit_of_the_authority(
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    team_lead: User,
    meldewesen: OrgUnit,
    passwesen: OrgUnit,
    buergeramt: Authority,
) -> None:
    """A team lead gave a Meldewesen case to a clerk of two other units: leaving one of them
    does not end it; leaving the last unit of the authority does."""
    third = OrgUnit.objects.create(authority=buergeramt, code="33.3", name="Standesamt")
    helper = make_staff(passwesen, third, role=CLERK)
    case = make_case(org_unit=meldewesen)
    services.assign(cases=[case], user=helper, actor=team_lead)

    StaffMembership.objects.filter(user=helper, org_unit=passwesen).delete()
    case.refresh_from_db()
    assert case.assigned_to == helper
    assert can_decide(_fresh(helper), case)
    assert cases_visible_to(_fresh(helper)).filter(pk=case.pk).exists()

    StaffMembership.objects.filter(user=helper, org_unit=third).delete()
    case.refresh_from_db()
    assert case.assigned_to is None
    assert not can_view_case(_fresh(helper), case)


def test_a_membership_of_another_authority_does_not_keep_the_cases(
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    meldewesen: OrgUnit,
) -> None:
    solingen = OrgUnit.objects.get(authority__municipality__ags="05122000", code="33.1")
    clerk = make_staff(meldewesen, solingen, role=CLERK)
    case = make_case(org_unit=meldewesen)
    services.assign(cases=[case], user=clerk, actor=clerk)
    StaffMembership.objects.filter(user=clerk, org_unit=meldewesen).delete()
    case.refresh_from_db()
    assert case.assigned_to is None
