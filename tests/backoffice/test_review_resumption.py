"""A case waiting for the citizen goes back to review only by withdrawing the request the page
showed ("Prüfung fortsetzen"); an old "Prüfung beginnen" button withdraws nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from rathaus.accounts.models import User
from rathaus.casework import services as casework
from rathaus.casework.models import Case, CaseEvent, DocumentRequest
from rathaus.casework.notice_templates import templates_for
from rathaus.casework.selectors import citizen_timeline
from rathaus.core.models import AuditEvent, OrgUnit
from tests.backoffice.conftest import future
from tests.backoffice.page_forms import html

pytestmark = pytest.mark.django_db


def _actions(page: str, case: Case) -> set[str]:
    return set(re.findall(rf"/backoffice/vorgaenge/{case.pk}/([a-z-]+(?:/\d+)?)/", page))


def test_a_waiting_case_is_resumed_by_withdrawing_the_request_and_can_then_be_decided(
    staff_client: Callable[[User], Client],
    clerk: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Wartend")
    request = casework.request_documents(
        case=case, description="Mietvertrag", due_on=future(7), actor=clerk
    )
    client = staff_client(clerk)
    page = html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    # offered for exactly the open request, as a plain form (no JavaScript needed)
    assert f"pruefung-fortsetzen/{request.pk}" in _actions(page, case)
    assert f'action="/backoffice/vorgaenge/{case.pk}/pruefung-fortsetzen/{request.pk}/"' in page
    assert "Mietvertrag" in page

    response = client.post(
        f"/backoffice/vorgaenge/{case.pk}/pruefung-fortsetzen/{request.pk}/",
        {f"resume{request.pk}-note": "Unterlage liegt schon vor"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/backoffice/vorgaenge/{case.pk}/"
    case.refresh_from_db()
    request.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW
    assert request.status == DocumentRequest.Status.CANCELLED
    # the history, the audit trail and the citizen's timeline say so
    moved = case.events.filter(kind=CaseEvent.Kind.STATUS_CHANGED).latest("at", "pk")
    assert (moved.from_status, moved.to_status) == (
        Case.Status.WAITING_FOR_CITIZEN,
        Case.Status.IN_REVIEW,
    )
    assert moved.note == "Unterlage liegt schon vor"
    cancelled = AuditEvent.objects.get(action="case.request_cancelled", object_id=str(case.pk))
    assert cancelled.actor == clerk
    assert cancelled.after == {"request": request.pk, "status": "cancelled"}
    assert CaseEvent.Kind.REQUEST_CANCELLED in [entry.kind for entry in citizen_timeline(case)]

    # now the clerk can decide
    key = sorted(templates_for(case.service.slug))[0]
    response = client.post(
        f"/backoffice/vorgaenge/{case.pk}/bescheid-entwerfen/", {"draft-template_key": key}
    )
    assert response.status_code == 302
    assert case.notices.count() == 1


def test_resuming_with_a_request_answered_meanwhile_is_refused(
    staff_client: Callable[[User], Client],
    clerk: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Beantwortet")
    request = casework.request_documents(
        case=case, description="Mietvertrag", due_on=future(7), actor=clerk
    )
    client = staff_client(clerk)
    client.get(f"/backoffice/vorgaenge/{case.pk}/")  # the page the clerk reads
    casework.receive_documents(
        request=request,
        files=[("vertrag.pdf", "application/pdf", b"%PDF-1.7 vertrag")],
        actor=case.applicant,
    )
    response = client.post(
        f"/backoffice/vorgaenge/{case.pk}/pruefung-fortsetzen/{request.pk}/",
        {f"resume{request.pk}-note": ""},
    )
    assert response.status_code == 409
    assert "es wurde nichts zurückgezogen" in html(response)
    request.refresh_from_db()
    assert request.status == DocumentRequest.Status.ANSWERED
    assert not case.events.filter(kind=CaseEvent.Kind.REQUEST_CANCELLED).exists()


def test_resuming_names_a_request_of_the_case(
    staff_client: Callable[[User], Client],
    clerk: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
) -> None:
    """Another case's request (even one the clerk may work on) withdraws nothing."""
    case = open_case(unit.authority, unit=unit, family_name="Eins")
    other = open_case(unit.authority, unit=unit, family_name="Zwei")
    casework.request_documents(case=case, description="Pass", due_on=future(7), actor=clerk)
    foreign = casework.request_documents(
        case=other, description="Pass", due_on=future(7), actor=clerk
    )
    response = staff_client(clerk).post(
        f"/backoffice/vorgaenge/{case.pk}/pruefung-fortsetzen/{foreign.pk}/",
        {f"resume{foreign.pk}-note": ""},
    )
    assert response.status_code == 409
    assert DocumentRequest.objects.filter(status=DocumentRequest.Status.OPEN).count() == 2


def test_a_stale_start_review_button_does_not_withdraw_a_colleagues_request(
    staff_client: Callable[[User], Client],
    clerk: User,
    second_clerk: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Stale")
    anna, bert = staff_client(clerk), staff_client(second_clerk)
    base = f"/backoffice/vorgaenge/{case.pk}"
    assert "pruefung-beginnen" in _actions(html(anna.get(base + "/")), case)
    response = bert.post(
        base + "/unterlagen-anfordern/",
        {"request-description": "Mietvertrag", "request-due_on": future(14).isoformat()},
    )
    assert response.status_code == 302
    # Anna clicks the button of her old page
    response = anna.post(base + "/pruefung-beginnen/", {"in_review-note": ""})
    assert response.status_code == 409
    page = html(response)
    assert "die Anforderung bleibt offen" in page
    case.refresh_from_db()
    assert case.status == Case.Status.WAITING_FOR_CITIZEN
    assert DocumentRequest.objects.get(case=case).status == DocumentRequest.Status.OPEN
    # the page shows the current state, with the way to resume deliberately
    assert "pruefung-fortsetzen" in page


def test_start_review_still_starts_a_received_case(
    staff_client: Callable[[User], Client],
    clerk: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Neu")
    response = staff_client(clerk).post(
        f"/backoffice/vorgaenge/{case.pk}/pruefung-beginnen/", {"in_review-note": ""}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW
