"""Someone else's ids inside one's own addresses and forms, searches, and the second factor.

The permission walk (``test_permissions_walk``) fills every path with the ids of one foreign
case at a time. These tests mix them: another case's notice, file version or postal task under
a case the clerk may work on, a clerk or org unit of another municipality in the assignment
form, other units' cases in a search or a bulk assignment, and back-office pages opened by staff
without a second factor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.accounts.roles import CLERK, PLANNER, TEAM_LEAD
from rathaus.casework import services as casework
from rathaus.casework.models import Case, CaseEvent, Notice, PostalDeliveryTask, StaffMembership
from rathaus.casework.notice_templates import templates_for
from rathaus.core.models import Authority, OrgUnit
from rathaus.records.models import DocumentVersion
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

OpenCase = Callable[..., Case]
StaffClient = Callable[[User], Client]
MakeStaff = Callable[..., User]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n%%EOF\n"


def _foreign_unit(authority: Authority) -> OrgUnit:
    unit = authority.units.order_by("code").first()
    assert unit is not None
    return unit


def _decided(case: Case, worker: User) -> tuple[Notice, DocumentVersion]:
    """Issue a notice on ``case`` (its PDF exists) and file a document (a version exists)."""
    granted = next(k for k, t in templates_for(case.service.slug).items() if t.outcome == "granted")
    version = casework.add_internal_document(
        case=case, title="Registerauszug", file=("auszug.pdf", "application/pdf", PDF), actor=worker
    )
    notice = casework.draft_notice(case=case, template_key=granted, actor=worker)
    notice = casework.issue_notice(notice=notice, actor=worker)
    assert notice.pdf
    return notice, version


def _shown(case: Case) -> dict[str, int]:
    """The assignment the case page's form shows (its hidden fields; 0 for none)."""
    return {
        "assign-shown_assignee": case.assigned_to_id or 0,
        "assign-shown_unit": case.org_unit_id or 0,
    }


def _state(case: Case) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (
        case.status,
        case.org_unit_id,
        case.assigned_to_id,
        CaseEvent.objects.filter(case=case).count(),
        list(case.notices.values_list("pk", "status", "title", "approved_by_id")),
        list(case.postal_tasks.values_list("pk", "status", "sent_on")),
    )


def test_another_cases_notice_version_or_postal_task_under_an_own_case_is_refused(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
    foreign_office: Authority,
) -> None:
    own = open_case(unit.authority, unit=unit, family_name="Eigenfall")
    client = staff_client(clerk)
    others = {
        "neighbour": (open_case(unit.authority, unit=other_unit), make_staff(CLERK, other_unit)),
        "foreign": (
            open_case(foreign_office, unit=_foreign_unit(foreign_office)),
            make_staff(CLERK, _foreign_unit(foreign_office)),
        ),
    }
    for label, (case, worker) in others.items():
        notice, version = _decided(case, worker)
        task = PostalDeliveryTask.objects.create(notice=notice, case=case, authority=case.authority)
        before = _state(case)
        base = f"/backoffice/vorgaenge/{own.pk}"
        pdf = client.get(f"{base}/bescheide/{notice.pk}/bescheid.pdf")
        assert pdf.status_code == 404, label
        download = client.get(f"{base}/akte/versionen/{version.pk}/")
        assert download.status_code == 404, label
        data = {
            f"notice{notice.pk}-title": "Fremd geändert",
            f"notice{notice.pk}-outcome": "refused",
            f"notice{notice.pk}-body": "Fremd",
            f"notice{notice.pk}-legal_basis": "Fremd",
            f"notice{notice.pk}-remedy": "Fremd",
            f"revoke{notice.pk}-reason": "Fremd",
            f"revoke{notice.pk}-kind": "withdrawn",
            f"revoke{notice.pk}-legal_basis": "Fremd",
            f"revoke{notice.pk}-version": notice.version,
            f"aufhebung-bestaetigen{notice.pk}-version": notice.version,
            f"keep{notice.pk}-version": notice.version,
            f"postal{task.pk}-sent_on": timezone.localdate().isoformat(),
        }
        for action in (
            "bescheid-speichern",
            "zur-freigabe",
            "freigeben",
            "zurueckgeben",
            "erlassen",
            "aufheben",
            "aufhebung-beantragen",
            "aufhebung-bestaetigen",
            "aufhebung-ablehnen",
        ):
            response = client.post(f"{base}/{action}/{notice.pk}/", data)
            assert response.status_code in (403, 404, 409), (label, action, response.status_code)
        response = client.post(f"{base}/postversand/{task.pk}/", data)
        assert response.status_code in (403, 404, 409), (label, response.status_code)
        assert _state(case) == before, label
        assert "Fremd" not in str(_state(own))


def test_team_lead_cannot_give_an_own_case_to_staff_or_a_unit_of_another_municipality(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    team_lead: User,
    open_case: OpenCase,
    unit: OrgUnit,
    foreign_office: Authority,
) -> None:
    case = open_case(unit.authority, unit=unit)
    stranger = make_staff(CLERK, _foreign_unit(foreign_office), name="sven")
    before = _state(case)
    lead = staff_client(team_lead)
    for data in (
        {"assign-assignee": stranger.pk},
        {"assign-org_unit": _foreign_unit(foreign_office).pk},
        {"assign-assignee": stranger.pk, "assign-org_unit": _foreign_unit(foreign_office).pk},
    ):
        response = lead.post(f"/backoffice/vorgaenge/{case.pk}/zuweisen/", {**data, **_shown(case)})
        assert response.status_code == 400, data
        bulk = {f"bulk-{k.removeprefix('assign-')}": v for k, v in data.items()}
        response = lead.post("/backoffice/zuweisen/", {**bulk, "bulk-cases": [case.pk]})
        assert response.status_code == 400, data
    assert _state(case) == before


def test_team_lead_of_two_municipalities_cannot_move_a_case_from_one_to_the_other(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    open_case: OpenCase,
    unit: OrgUnit,
    foreign_office: Authority,
) -> None:
    elsewhere = _foreign_unit(foreign_office)
    lead = make_staff(TEAM_LEAD, unit, elsewhere, name="doppelt")
    stranger = make_staff(CLERK, elsewhere, name="sven")
    case = open_case(unit.authority, unit=unit)
    before = _state(case)
    client = staff_client(lead)
    for data in ({"assign-assignee": stranger.pk}, {"assign-org_unit": elsewhere.pk}):
        response = client.post(
            f"/backoffice/vorgaenge/{case.pk}/zuweisen/", {**data, **_shown(case)}
        )
        assert response.status_code == 409, data
    assert _state(case) == before


def test_bulk_assignment_with_a_case_of_another_unit_among_own_ones_changes_none(
    staff_client: StaffClient,
    team_lead: User,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
    foreign_office: Authority,
) -> None:
    own = open_case(unit.authority, unit=unit)
    lead = staff_client(team_lead)
    for other in (
        open_case(unit.authority, unit=other_unit),
        open_case(foreign_office, unit=_foreign_unit(foreign_office)),
    ):
        response = lead.post(
            "/backoffice/zuweisen/",
            {"bulk-cases": [own.pk, other.pk], "bulk-assignee": clerk.pk, "next": "/backoffice/"},
        )
        assert response.status_code == 400
        assert Case.objects.filter(assigned_to=clerk).count() == 0


def test_queue_search_finds_no_case_of_another_unit_or_municipality(
    staff_client: StaffClient,
    clerk: User,
    team_lead: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
    foreign_office: Authority,
) -> None:
    open_case(unit.authority, unit=unit, family_name="Eigenfall")
    hidden = [
        open_case(unit.authority, unit=other_unit, family_name="Nachbarfall"),
        open_case(foreign_office, unit=_foreign_unit(foreign_office), family_name="Fremdfall"),
        open_case(foreign_office, family_name="Ungeroutet"),  # a lead elsewhere would see it
    ]
    for user in (clerk, team_lead):
        client = staff_client(user)
        for case in hidden:
            for query in (case.number, case.file.reference, case.applicant_name):
                for scope in ("all", "unassigned", "units"):
                    page = client.get("/backoffice/", {"q": query, "status": "", "scope": scope})
                    assert page.status_code == 200
                    # what was typed stays in the search field; nothing else may show the case
                    text = page.content.decode().replace(f'value="{query}"', "")
                    assert case.applicant_name not in text, (user, query, scope)
                    assert case.file.reference not in text, (user, query, scope)
                    assert f"/backoffice/vorgaenge/{case.pk}/" not in text, (user, query, scope)


# --- the second factor ----------------------------------------------------------------------------

BACK_OFFICE_PAGES = ("/backoffice/", "/backoffice/statistik/", "/backoffice/rettungsdienst/")


def test_staff_without_an_authenticator_reaches_no_back_office_page(
    client: Client, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    user = UserFactory(email="ohne.faktor@stadt.example.org")
    for role in (CLERK, TEAM_LEAD, PLANNER):
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    StaffMembership.objects.create(user=user, org_unit=unit)
    assert client.post("/konto/login/", {"login": user.email, "password": PASSWORD}).status_code
    before = _state(case)
    pages = (*BACK_OFFICE_PAGES, f"/backoffice/vorgaenge/{case.pk}/")
    for path in pages:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/konto/2fa/", path
    response = client.post(f"/backoffice/vorgaenge/{case.pk}/uebernehmen/")
    assert response.status_code == 302
    assert response["Location"] == "/konto/2fa/"
    assert _state(case) == before


def test_every_back_office_page_asks_for_the_second_factor_even_without_the_middleware(
    client: Client, make_staff: MakeStaff, unit: OrgUnit, settings: Any
) -> None:
    """Defence in depth, as for the case pages: the planner page too."""
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if not m.endswith("StaffSecondFactorMiddleware")
    ]
    user = make_staff(TEAM_LEAD, unit, name="beides")
    user.groups.add(Group.objects.get_or_create(name=PLANNER)[0])
    client.force_login(user)  # a session that never saw the TOTP code
    for path in BACK_OFFICE_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/konto/2fa/reauthenticate/"), path
