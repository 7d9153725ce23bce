"""Assigning several cases at once (``services.assign``): all or none, never over a colleague's
assignment made since the actor's page was read, each case once, and not too many at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rathaus.accounts.models import User
from rathaus.casework import services
from rathaus.casework.errors import CaseworkError, ChangedMeanwhileError, TransitionError
from rathaus.casework.models import Case, CaseEvent
from rathaus.casework.services import MAX_CASES_PER_ASSIGNMENT, Assignment
from rathaus.core.models import AuditEvent, OrgUnit

pytestmark = pytest.mark.django_db

MakeCase = Callable[..., Case]


def test_a_bulk_assignment_names_every_case_assigned_since_the_page_and_changes_none(
    make_case: MakeCase, team_lead: User, clerk: User, second_clerk: User, meldewesen: OrgUnit
) -> None:
    passwesen = OrgUnit.objects.get(authority=meldewesen.authority, code="33.2")
    first, second, third = make_case(), make_case(), make_case()
    seen = {case.pk: Assignment.of(case) for case in (first, second, third)}
    # A colleague assigns the first and the third case after the page was read.
    services.assign(cases=[first], user=second_clerk, actor=team_lead)
    services.assign(cases=[third], org_unit=passwesen, actor=team_lead)
    before = AuditEvent.objects.filter(action="case.assigned").count()

    with pytest.raises(ChangedMeanwhileError) as refused:
        services.assign(cases=[third, second, first], user=clerk, actor=team_lead, seen=seen)

    said = str(refused.value)
    assert f"{first.number} (jetzt: {second_clerk.email}, " in said
    assert f"{third.number} (jetzt: niemand, {passwesen})" in said
    assert second.number not in said
    assert "Keiner der ausgewählten Vorgänge wurde zugewiesen" in said
    assert AuditEvent.objects.filter(action="case.assigned").count() == before
    assert not Case.objects.filter(assigned_to=clerk).exists()
    # With what is current now, the same assignment applies to all three.
    seen = {case.pk: Assignment.of(Case.objects.get(pk=case.pk)) for case in (first, third)}
    changed = services.assign(cases=[first, second, third], user=clerk, actor=team_lead, seen=seen)
    assert [case.pk for case in changed] == sorted(case.pk for case in (first, second, third))
    assert Case.objects.filter(assigned_to=clerk).count() == 3


def test_a_case_closed_since_the_page_is_refused_by_its_number_before_any_change(
    make_case: MakeCase, team_lead: User, clerk: User
) -> None:
    first, second = make_case(), make_case()
    seen = {case.pk: Assignment.of(case) for case in (first, second)}
    services.withdraw_case(case=second, actor=second.applicant)
    with pytest.raises(TransitionError, match=second.number):
        services.assign(cases=[first, second], user=clerk, actor=team_lead, seen=seen)
    assert not Case.objects.filter(assigned_to=clerk).exists()


def test_a_case_given_twice_is_assigned_once(
    make_case: MakeCase, team_lead: User, clerk: User
) -> None:
    first, second = make_case(), make_case()
    changed = services.assign(cases=[first, second, first], user=clerk, actor=team_lead)
    assert len(changed) == 2
    for case in (first, second):
        assert case.events.filter(kind=CaseEvent.Kind.ASSIGNED).count() == 1
        audits = AuditEvent.objects.filter(action="case.assigned", object_id=str(case.pk))
        assert audits.count() == 1


def test_more_cases_than_one_assignment_takes_are_refused_before_any_is_read(
    make_case: MakeCase,
    team_lead: User,
    clerk: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    real = make_case()
    too_many = [real, *(Case(pk=10**12 + n) for n in range(MAX_CASES_PER_ASSIGNMENT))]
    with django_assert_num_queries(0), pytest.raises(CaseworkError, match="höchstens 100"):
        services.assign(cases=too_many, user=clerk, actor=team_lead)
    real.refresh_from_db()
    assert real.assigned_to is None


def test_a_case_gone_since_it_was_selected_is_refused_not_a_crash(
    make_case: MakeCase, team_lead: User, clerk: User
) -> None:
    case = make_case()
    with pytest.raises(CaseworkError, match="existiert nicht mehr"):
        services.assign(cases=[case, Case(pk=10**12)], user=clerk, actor=team_lead)
    case.refresh_from_db()
    assert case.assigned_to is None
