"""casework 0019: open cases still assigned to a clerk who works for none of the units of the
case's authority (their membership removed before memberships ended assignments) go back to
the team lead unassigned; a deliberate assignment across units of one authority stays."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from rathaus.accounts.models import User
from rathaus.accounts.roles import CLERK
from rathaus.casework.models import Case, CaseEvent, StaffMembership
from rathaus.core.models import AuditEvent, Authority, OrgUnit

pytestmark = pytest.mark.django_db

MIGRATION: Any = importlib.import_module(
    "rathaus.casework.migrations.0019_unassign_cases_of_clerks_who_left"
)


def _left_before_the_receivers(case: Case, clerk: User) -> None:
    """Assigned, then the membership removed without the receivers (as before session 17)."""
    Case.objects.filter(pk=case.pk).update(assigned_to=clerk)
    StaffMembership.objects.filter(user=clerk).delete()  # the receivers: nothing assigned yet


def _migrate() -> None:
    MIGRATION.forward(apps, SimpleNamespace(connection=connection))


def test_open_cases_of_a_clerk_who_left_the_authority_are_unassigned(
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    meldewesen: OrgUnit,
    buergeramt: Authority,
) -> None:
    gone = make_staff(meldewesen, role=CLERK)
    moved = make_staff(meldewesen, role=CLERK)
    open_case_of_gone, closed_case_of_gone = make_case(), make_case()
    case_of_moved = make_case()
    _left_before_the_receivers(open_case_of_gone, gone)
    Case.objects.filter(pk=closed_case_of_gone.pk).update(assigned_to=gone, status="closed")
    _left_before_the_receivers(case_of_moved, moved)
    elsewhere = OrgUnit.objects.exclude(authority=buergeramt).first()
    assert elsewhere is not None
    StaffMembership.objects.create(user=moved, org_unit=elsewhere)  # now at another authority

    _migrate()

    for case, clerk in ((open_case_of_gone, gone), (case_of_moved, moved)):
        case.refresh_from_db()
        assert case.assigned_to is None
        entry = case.events.filter(kind=CaseEvent.Kind.ASSIGNED).latest("at", "pk")
        assert entry.data["unassigned"] == clerk.pk and entry.actor is None
        assert clerk.email in entry.note and "Bitte neu zuweisen" in entry.note
        assert not entry.citizen_visible
        event = AuditEvent.objects.get(action="case.assignee_left_unit", object_id=str(case.pk))
        assert event.actor_label == "system"
        assert event.before is not None and event.before["assigned_to"] == clerk.pk
        assert event.after is not None and event.after["assigned_to"] is None
        assert event.municipality_id == buergeramt.municipality_id
    closed_case_of_gone.refresh_from_db()
    assert closed_case_of_gone.assigned_to == gone  # a closed case keeps who worked on it


def test_an_assignment_across_units_of_the_clerks_authority_stays(
    make_case: Callable[..., Case],
    make_staff: Callable[..., User],
    meldewesen: OrgUnit,
    buergeramt: Authority,
) -> None:
    other_unit = OrgUnit.objects.filter(authority=buergeramt).exclude(pk=meldewesen.pk).first()
    assert other_unit is not None
    clerk = make_staff(other_unit, role=CLERK)
    case = make_case(org_unit=meldewesen)
    Case.objects.filter(pk=case.pk).update(assigned_to=clerk)
    events = CaseEvent.objects.count()

    _migrate()

    case.refresh_from_db()
    assert case.assigned_to == clerk
    assert CaseEvent.objects.count() == events
    assert not AuditEvent.objects.filter(action="case.assignee_left_unit").exists()
