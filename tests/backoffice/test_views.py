"""The clerks' pages: second factor, queue (filters, search, sort, pages), case actions, errors."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from rathaus.accounts.models import User
from rathaus.casework import services as casework
from rathaus.casework.models import Case, CaseEvent, DocumentRequest
from rathaus.core.models import AuditEvent, Authority, OrgUnit
from tests.accounts.factories import PASSWORD, UserFactory
from tests.backoffice.conftest import future
from tests.backoffice.page_forms import (
    hidden_value,
    queue_shown,
    shown_assignment,
    shown_for_take_over,
)
from tests.fixtures.clamd import EICAR, clamd_address  # noqa: F401

pytestmark = pytest.mark.django_db

OpenCase = Callable[..., Case]
StaffClient = Callable[[User], Client]


def html(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined,no-any-return]


# --- who gets in ---------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_login(client: Client) -> None:
    response = client.get("/backoffice/")
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/login/")


def test_clerk_without_second_factor_in_this_session_must_confirm_one(
    client: Client, clerk: User
) -> None:
    client.force_login(clerk)  # a session that never saw the TOTP code
    response = client.get("/backoffice/")
    assert response.status_code == 302
    assert (
        response["Location"].startswith("/konto/reauthenticate/") or "2fa" in (response["Location"])
    )


def test_back_office_asks_for_the_second_factor_even_without_the_middleware(
    client: Client, clerk: User, settings: Any
) -> None:
    """Defence in depth: a session without a second factor never opens a back-office page."""
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if not m.endswith("StaffSecondFactorMiddleware")
    ]
    client.force_login(clerk)
    for path in ("/backoffice/", "/backoffice/statistik/", "/backoffice/vorgaenge/1/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/konto/2fa/reauthenticate/"), path


def test_citizen_and_planner_are_refused(
    client: Client, staff_client: StaffClient, planner: User
) -> None:
    citizen = UserFactory()
    client.post("/konto/login/", {"login": citizen.email, "password": PASSWORD})
    assert client.get("/backoffice/").status_code == 403
    assert staff_client(planner).get("/backoffice/").status_code == 403


def test_clerk_logs_in_with_totp_and_sees_the_queue(staff_client: StaffClient, clerk: User) -> None:
    response = staff_client(clerk).get("/backoffice/")
    assert response.status_code == 200
    assert "Arbeitsvorrat" in html(response)


# --- work queue ----------------------------------------------------------------------------------


def test_queue_shows_only_cases_of_the_clerks_units(
    staff_client: StaffClient,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
    foreign_office: Authority,
) -> None:
    mine = open_case(unit.authority, unit=unit, family_name="Eigenfall")
    elsewhere = open_case(unit.authority, unit=other_unit, family_name="Nachbarfall")
    foreign = open_case(foreign_office, family_name="Fremdfall")
    page = html(staff_client(clerk).get("/backoffice/"))
    assert mine.number in page
    assert "Eigenfall" in page
    assert "Nachbarfall" not in page and elsewhere.number not in page.replace(mine.number, "")
    assert "Fremdfall" not in page
    assert foreign.pk != mine.pk


def test_search_finds_a_case_by_number_file_reference_and_name(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    wanted = open_case(unit.authority, unit=unit, family_name="Schwarzkopf")
    open_case(unit.authority, unit=unit, family_name="Weissbart")
    client = staff_client(clerk)
    for query in (wanted.number, wanted.file.reference, "Schwarz", "schwarzkopf"):
        page = html(client.get("/backoffice/", {"q": query}))
        assert "Schwarzkopf" in page, query
        assert "Weissbart" not in page, query
    assert "Keine Vorgänge" in html(client.get("/backoffice/", {"q": "Niemand"}))


def test_search_by_number_finds_the_own_case_among_many_authorities_with_that_number(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    """Case numbers repeat across authorities (one counter each): in a Land-wide installation
    hundreds of cases share "2026-000001"; the clerk's own must still be found."""
    from rathaus.core.models import Authority

    others = Authority.objects.bulk_create(
        Authority(municipality=unit.authority.municipality, name=f"Amt {i}", kind=f"amt-{i}")
        for i in range(150)
    )
    template = open_case(unit.authority, unit=unit, family_name="Vorlage")
    # the other authorities' cases come first (lower ids), the clerk's own last
    Case.objects.bulk_create(
        Case(
            authority=other,
            service=template.service,
            applicant=template.applicant,
            applicant_name="Fremd",
            title="Fremder Vorgang",
            number="2026-999999",
            status=template.status,
            opened_at=template.opened_at,
        )
        for other in others
    )
    wanted = open_case(unit.authority, unit=unit, family_name="Schwarzkopf")
    Case.objects.filter(applicant_name="Fremd").update(number=wanted.number)
    page = html(staff_client(clerk).get("/backoffice/", {"q": wanted.number}))
    assert "Schwarzkopf" in page
    assert "Fremd" not in page
    # whatever order the database returns them in, none of the 151 is left out
    from rathaus.backoffice.queue import search_cases

    assert search_cases(Case.objects.all(), wanted.number).count() == 151


def test_the_stored_name_vector_follows_the_applicants_name_on_postgresql(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    """Search reads the stored ``name_vector`` (casework 0007): PostgreSQL keeps it current."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the stored tsvector exists on PostgreSQL only")
    case = open_case(unit.authority, unit=unit, family_name="Vorname")
    client = staff_client(clerk)
    assert case.number in html(client.get("/backoffice/", {"q": "Vorn", "status": ""}))
    Case.objects.filter(pk=case.pk).update(applicant_name="Erika Nachname")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name_vector::text FROM casework_case WHERE id = %s", [case.pk])
        assert cursor.fetchone()[0] == "'erika':1 'nachnam':2"
    assert "Keine Vorgänge" in html(client.get("/backoffice/", {"q": "Vorn", "status": ""}))
    assert case.number in html(client.get("/backoffice/", {"q": "Nachname", "status": ""}))


def test_filters_overdue_assigned_to_me_and_status(
    staff_client: StaffClient,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    late = open_case(unit.authority, unit=unit, family_name="Spaetling")
    # A due date that has passed (no clerk may set one in the past).
    Case.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=1))
    mine = open_case(unit.authority, unit=unit, family_name="Meinfall")
    casework.assign(cases=[mine], user=clerk, actor=clerk)
    theirs = open_case(unit.authority, unit=unit, family_name="Deinfall")
    casework.assign(cases=[theirs], user=second_clerk, actor=second_clerk)
    client = staff_client(clerk)

    overdue = html(client.get("/backoffice/", {"overdue": "on"}))
    assert "Spaetling" in overdue and "Meinfall" not in overdue
    assert "überfällig" in overdue
    assigned = html(client.get("/backoffice/", {"scope": "mine"}))
    assert "Meinfall" in assigned and "Deinfall" not in assigned and "Spaetling" not in assigned
    unassigned = html(client.get("/backoffice/", {"scope": "unassigned"}))
    assert "Spaetling" in unassigned and "Meinfall" not in unassigned
    closed = html(client.get("/backoffice/", {"status": "closed"}))
    assert "Meinfall" not in closed


def test_queue_sorts_and_pages_without_counting(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    from rathaus.backoffice.queue import PAGE_SIZE

    cases = [open_case(unit.authority, unit=unit, family_name=f"Reihe{i:02d}") for i in range(3)]
    client = staff_client(clerk)
    page = html(client.get("/backoffice/", {"sort": "number"}))
    positions = [page.index(c.number) for c in cases]
    assert positions == sorted(positions)
    page = html(client.get("/backoffice/", {"sort": "-number"}))
    positions = [page.index(c.number) for c in cases]
    assert positions == sorted(positions, reverse=True)
    assert "Nächste Seite" not in page
    for i in range(PAGE_SIZE):
        open_case(unit.authority, unit=unit, family_name=f"Mehr{i:02d}")
    first = html(client.get("/backoffice/", {"sort": "number"}))
    assert "Nächste Seite" in first
    second = html(client.get("/backoffice/", {"sort": "number", "page": "2"}))
    assert "Vorherige Seite" in second and "Nächste Seite" not in second


def test_bad_filter_values_give_a_message_not_an_error(
    staff_client: StaffClient, clerk: User
) -> None:
    response = staff_client(clerk).get(
        "/backoffice/", {"status": "kaputt", "sort": "'; drop", "page": "-3", "service": "x"}
    )
    assert response.status_code == 200
    assert 'id="error-summary"' in html(response)


# --- case page and actions ----------------------------------------------------------------------


def test_case_page_shows_application_file_timeline_and_actions(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Seitenfall")
    page = html(staff_client(clerk).get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert case.number in page
    assert case.file.reference in page
    with translation.override("de"):
        assert str(CaseEvent.Kind.OPENED.label) in page
    assert "Prüfung beginnen" in page
    assert "Unterlagen anfordern" in page


def test_clerk_takes_over_starts_review_and_requests_documents(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    client = staff_client(clerk)
    base = f"/backoffice/vorgaenge/{case.pk}"
    shown = shown_for_take_over(html(client.get(f"{base}/")))
    assert client.post(f"{base}/uebernehmen/", shown).status_code == 302
    assert client.post(f"{base}/pruefung-beginnen/", {"in_review-note": "los"}).status_code == 302
    response = client.post(
        f"{base}/unterlagen-anfordern/",
        {"request-description": "Bitte den Mietvertrag", "request-due_on": future().isoformat()},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == clerk
    assert case.status == Case.Status.WAITING_FOR_CITIZEN
    request = DocumentRequest.objects.get(case=case)
    assert request.description == "Bitte den Mietvertrag"
    assert "Bitte den Mietvertrag" in html(client.get(f"{base}/"))


def test_a_past_deadline_is_refused_next_to_the_field_and_the_text_is_kept(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    response = staff_client(clerk).post(
        f"/backoffice/vorgaenge/{case.pk}/unterlagen-anfordern/",
        {"request-description": "Meldebescheinigung alt", "request-due_on": "2000-01-01"},
    )
    assert response.status_code == 400
    page = html(response)
    assert "Die Frist muss in der Zukunft liegen." in page
    assert "Meldebescheinigung alt" in page
    assert not DocumentRequest.objects.filter(case=case).exists()


def test_clerk_changes_the_due_date_and_the_history_shows_it(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    client = staff_client(clerk)
    page = html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert "Fälligkeit ändern" in page
    response = client.post(
        f"/backoffice/vorgaenge/{case.pk}/faelligkeit/", {"due-due_on": future(30).isoformat()}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.due_on == future(30)
    page = html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert "Fälligkeit geändert" in page
    assert f"→ {future(30):%d.%m.%Y}" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2000-01-01", "Das Fälligkeitsdatum darf nicht in der Vergangenheit liegen."),
        ("9999-12-31", "höchstens zwei Jahre"),
        ("10000-01-01", "Bitte ein gültiges Datum eingeben."),
    ],
)
def test_an_impossible_due_date_is_refused_next_to_the_field_and_kept(
    staff_client: StaffClient,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    typed: str,
    message: str,
) -> None:
    case = open_case(unit.authority, unit=unit)
    due_on, events = case.due_on, case.events.count()
    response = staff_client(clerk).post(
        f"/backoffice/vorgaenge/{case.pk}/faelligkeit/", {"due-due_on": typed}
    )
    assert response.status_code == 400
    page = html(response)
    assert message in page
    assert f'value="{typed}"' in page
    case.refresh_from_db()
    assert case.due_on == due_on
    assert case.events.count() == events


def test_a_discarded_notice_draft_shows_in_the_case_history(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    draft = casework.draft_notice(case=case, template_key="granted", actor=clerk)
    casework.withdraw_case(case=case, actor=case.applicant)
    page = html(staff_client(clerk).get(f"/backoffice/vorgaenge/{case.pk}/"))
    history = page.split('id="timeline-title"', 1)[1].split("</section>", 1)[0]
    assert "Bescheidentwurf verworfen" in history
    assert draft.title in history


def test_an_illegal_transition_shows_the_services_message_beside_the_form(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    events = CaseEvent.objects.filter(case=case).count()
    response = staff_client(clerk).post(f"/backoffice/vorgaenge/{case.pk}/abschliessen/")
    assert response.status_code == 409
    assert "Nicht möglich" in html(response)
    case.refresh_from_db()
    assert case.status == Case.Status.RECEIVED
    assert CaseEvent.objects.filter(case=case).count() == events


def test_unknown_action_is_404_and_get_on_an_action_is_405(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    client = staff_client(clerk)
    assert client.post(f"/backoffice/vorgaenge/{case.pk}/loeschen/").status_code == 404
    assert client.get(f"/backoffice/vorgaenge/{case.pk}/abschliessen/").status_code == 405


def test_note_is_added_and_an_empty_one_refused(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    client = staff_client(clerk)
    url = f"/backoffice/vorgaenge/{case.pk}/notiz/"
    assert client.post(url, {"note-text": "Rückruf vereinbart"}).status_code == 302
    assert "Rückruf vereinbart" in html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    refused = client.post(url, {"note-text": ""})
    assert refused.status_code == 400
    # shown at the action's POST-only address: the language switch returns to the case page
    switcher = html(refused).split('class="rathaus-language"', 1)[1].split("</form>", 1)[0]
    assert f'name="next" value="/backoffice/vorgaenge/{case.pk}/"' in switcher


def test_clerk_files_an_internal_document_and_a_bad_one_is_refused_with_its_reason(
    staff_client: StaffClient,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    settings: Any,
    clamd_address: str,  # noqa: F811
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rathaus.records.selectors import documents_of

    settings.CLAMD_ADDRESS = clamd_address
    case = open_case(unit.authority, unit=unit)
    client = staff_client(clerk)
    url = f"/backoffice/vorgaenge/{case.pk}/dokument/"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.post(
        url,
        {
            "document-title": "Auszug Melderegister",
            "document-file": SimpleUploadedFile("auszug.pdf", pdf, "application/pdf"),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    titles = [document.title for document in documents_of(case.file)]
    assert "Auszug Melderegister" in titles

    infected = client.post(
        url,
        {
            "document-title": "Virus",
            "document-file": SimpleUploadedFile(
                "virus.pdf", b"%PDF-1.4\n" + EICAR, "application/pdf"
            ),
        },
    )
    assert infected.status_code == 400
    assert "Virus" in html(infected)  # the title the clerk typed is kept
    assert "Schadsoftware" in html(infected)
    assert [d.title for d in documents_of(case.file)].count("Virus") == 0

    renamed = client.post(
        url,
        {
            "document-title": "Programm",
            "document-file": SimpleUploadedFile(
                "programm.pdf", b"MZ\x90\x00" * 64, "application/pdf"
            ),
        },
    )
    assert renamed.status_code == 400
    assert [d.title for d in documents_of(case.file)].count("Programm") == 0

    # a file over the limit is kept only up to it, and refused by its real size
    huge = client.post(
        url,
        {
            "document-file": SimpleUploadedFile(
                "akte.pdf", b"%PDF-1.4\n" + b"0" * (12 * 1024 * 1024), "application/pdf"
            ),
            "document-title": "Zu groß",
        },
    )
    assert huge.status_code == 400
    assert "größer als 10 MB" in html(huge) and "Zu groß" in html(huge)


def test_clerk_grants_and_issues_the_notice(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Bescheidfall")
    client = staff_client(clerk)
    base = f"/backoffice/vorgaenge/{case.pk}"
    client.post(f"{base}/pruefung-beginnen/")
    page = html(client.get(f"{base}/"))
    assert "Bescheid entwerfen" in page
    from rathaus.casework.notice_templates import templates_for

    key = next(k for k, t in templates_for("wohnsitz-anmelden").items() if t.outcome == "granted")
    assert (
        client.post(f"{base}/bescheid-entwerfen/", {"draft-template_key": key}).status_code == 302
    )
    notice = case.notices.get()
    page = html(client.get(f"{base}/"))
    response = client.post(
        f"{base}/bescheid-speichern/{notice.pk}/",
        {
            f"notice{notice.pk}-title": notice.title,
            f"notice{notice.pk}-outcome": "granted",
            f"notice{notice.pk}-body": notice.body + "\nErgänzt.",
            f"notice{notice.pk}-legal_basis": notice.legal_basis,
            f"notice{notice.pk}-remedy": notice.remedy,
            f"notice{notice.pk}-version": hidden_value(page, f"notice{notice.pk}-version"),
        },
    )
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.body.endswith("Ergänzt.")
    if notice.four_eyes:
        pytest.skip("the demo configures four eyes for this service; see the four-eyes test")
    issue = f"erlassen{notice.pk}-version"
    page = html(client.get(f"{base}/"))
    response = client.post(f"{base}/erlassen/{notice.pk}/", {issue: hidden_value(page, issue)})
    assert response.status_code == 302, html(response)
    case.refresh_from_db()
    notice.refresh_from_db()
    assert case.status == Case.Status.DECIDED and case.outcome == Case.Outcome.GRANTED
    assert notice.pdf
    pdf = client.get(f"{base}/bescheide/{notice.pk}/bescheid.pdf")
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    # The second clerk on a stale page: the case is decided already; a message, no 500.
    again = client.post(f"{base}/erlassen/{notice.pk}/", {issue: hidden_value(page, issue)})
    assert again.status_code == 409
    # Then the case is closed.
    assert client.post(f"{base}/abschliessen/").status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED


def test_notice_with_an_unfilled_placeholder_is_refused_with_its_name(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    client = staff_client(clerk)
    base = f"/backoffice/vorgaenge/{case.pk}"
    client.post(f"{base}/pruefung-beginnen/")
    from rathaus.casework.notice_templates import templates_for

    key = next(iter(sorted(templates_for("wohnsitz-anmelden"))))
    client.post(f"{base}/bescheid-entwerfen/", {"draft-template_key": key})
    notice = case.notices.get()
    response = client.post(
        f"{base}/bescheid-speichern/{notice.pk}/",
        {
            f"notice{notice.pk}-title": notice.title,
            f"notice{notice.pk}-outcome": notice.outcome,
            f"notice{notice.pk}-body": "Sehr geehrte {{ unbekannt }}",
            f"notice{notice.pk}-legal_basis": notice.legal_basis,
            f"notice{notice.pk}-remedy": notice.remedy,
            f"notice{notice.pk}-version": str(notice.version),
        },
    )
    assert response.status_code == 409
    assert "unbekannt" in html(response)
    assert "Sehr geehrte {{ unbekannt }}" in html(response)  # the clerk's text is kept


# --- team lead ----------------------------------------------------------------------------------


def test_team_lead_assigns_several_cases_and_a_clerk_may_not(
    staff_client: StaffClient,
    team_lead: User,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    first = open_case(unit.authority, unit=unit)
    second = open_case(unit.authority, unit=unit)
    lead = staff_client(team_lead)
    page = html(lead.get("/backoffice/"))
    assert "Ausgewählte Vorgänge zuweisen" in page
    response = lead.post(
        "/backoffice/zuweisen/",
        {
            "bulk-cases": [first.pk, second.pk],
            "bulk-assignee": clerk.pk,
            "next": "/backoffice/",
            **queue_shown(page),
        },
    )
    assert response.status_code == 302
    assert set(Case.objects.filter(assigned_to=clerk)) == {first, second}
    nothing = lead.post("/backoffice/zuweisen/", {"bulk-assignee": clerk.pk})
    assert nothing.status_code == 400
    assert "Wählen Sie mindestens einen Vorgang" in html(nothing)

    clerk_client = staff_client(clerk)
    assert "Ausgewählte Vorgänge zuweisen" not in html(clerk_client.get("/backoffice/"))
    refused = clerk_client.post(
        "/backoffice/zuweisen/", {"bulk-cases": [first.pk], "bulk-assignee": clerk.pk}
    )
    assert refused.status_code == 403


def test_team_lead_moving_a_case_with_nobody_as_clerk_leaves_it_unassigned(
    staff_client: StaffClient,
    team_lead: User,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    case = open_case(unit.authority, unit=unit)
    casework.assign(cases=[case], user=clerk, actor=clerk)
    lead = staff_client(team_lead)
    page = html(lead.get(f"/backoffice/vorgaenge/{case.pk}/"))
    # the form shows the current clerk: leaving it changes nothing, "Niemand" removes them
    assert re.search(rf'<option value="{clerk.pk}" selected>', page)
    response = lead.post(
        f"/backoffice/vorgaenge/{case.pk}/zuweisen/",
        {"assign-assignee": "", "assign-org_unit": other_unit.pk, **shown_assignment(page)},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.org_unit, case.assigned_to) == (other_unit, None)
    assert staff_client(clerk).get(f"/backoffice/vorgaenge/{case.pk}/").status_code == 404
    audit = AuditEvent.objects.filter(action="case.assigned", object_id=str(case.pk)).latest("id")
    assert (audit.before["assigned_to"], audit.after["assigned_to"]) == (clerk.pk, None)


def test_team_lead_moving_a_case_with_its_clerk_keeps_the_clerk(
    staff_client: StaffClient,
    team_lead: User,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    case = open_case(unit.authority, unit=unit)
    casework.assign(cases=[case], user=clerk, actor=clerk)
    lead = staff_client(team_lead)
    page = html(lead.get(f"/backoffice/vorgaenge/{case.pk}/"))
    response = lead.post(
        f"/backoffice/vorgaenge/{case.pk}/zuweisen/",
        {"assign-assignee": clerk.pk, "assign-org_unit": other_unit.pk, **shown_assignment(page)},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.org_unit, case.assigned_to) == (other_unit, clerk)


@pytest.mark.parametrize("case_id", ["99999999999999999999", "-99999999999999999999", "9" * 5000])
def test_bulk_assignment_refuses_case_ids_beyond_the_database_range(
    staff_client: StaffClient,
    team_lead: User,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    case_id: str,
) -> None:
    case = open_case(unit.authority, unit=unit)
    response = staff_client(team_lead).post(
        "/backoffice/zuweisen/", {"bulk-cases": [case.pk, case_id], "bulk-assignee": clerk.pk}
    )
    assert response.status_code == 400
    # refused next to the list: as a case no longer in the lead's units, or as no number at all
    # (beyond what Python reads as one: 4300 digits)
    said = html(response)
    assert "Mindestens einer der ausgewählten Vorgänge" in said or case_id in said
    assert "keine gültige Auswahl" not in said  # Django's message, which names database ids
    case.refresh_from_db()
    assert case.assigned_to is None


def test_unit_statistics_for_team_leads_only(
    staff_client: StaffClient, team_lead: User, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    open_case(unit.authority, unit=unit)
    open_case(unit.authority, unit=unit)
    page = html(staff_client(team_lead).get("/backoffice/statistik/"))
    assert unit.code in page
    assert staff_client(clerk).get("/backoffice/statistik/").status_code == 403


# --- audit trail --------------------------------------------------------------------------------


def test_audit_trail_lists_the_changes_and_cannot_be_changed(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    client = staff_client(clerk)
    client.post(f"/backoffice/vorgaenge/{case.pk}/pruefung-beginnen/")
    response = client.get(f"/backoffice/vorgaenge/{case.pk}/protokoll/")
    assert response.status_code == 200
    page = html(response)
    assert "case.opened" in page
    assert clerk.email in page
    assert "<form" not in page.split('id="main"', 1)[1].split("</main>", 1)[0]
    assert client.post(f"/backoffice/vorgaenge/{case.pk}/protokoll/").status_code == 405
    assert AuditEvent.objects.filter(object_type="casework.Case", object_id=str(case.pk)).count()


def test_four_eyes_a_second_clerk_approves_before_the_notice_is_issued(
    staff_client: StaffClient,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    from rathaus.casework.models import Notice
    from rathaus.casework.notice_templates import templates_for

    case = open_case(unit.authority, unit=unit, family_name="Vieraugen")
    refusal = next(k for k, t in templates_for("wohnsitz-anmelden").items() if t.four_eyes)
    drafter, second = staff_client(clerk), staff_client(second_clerk)
    base = f"/backoffice/vorgaenge/{case.pk}"
    assert (
        drafter.post(f"{base}/bescheid-entwerfen/", {"draft-template_key": refusal}).status_code
        == 302
    )
    notice = case.notices.get()
    assert notice.four_eyes
    page = html(drafter.get(f"{base}/"))
    assert "Zur Freigabe vorlegen" in page and "Erlassen, siegeln und zustellen" not in page
    # The template's "[Bitte … ergänzen]" must be replaced by the reasons first.
    submit = f"zur-freigabe{notice.pk}-version"
    refused = drafter.post(
        f"{base}/zur-freigabe/{notice.pk}/", {submit: hidden_value(page, submit)}
    )
    assert refused.status_code == 409
    assert "[Bitte" in html(refused)
    prefix = f"notice{notice.pk}"
    reasons = "Die Wohnungsgeberbestätigung liegt trotz Nachforderung nicht vor."
    response = drafter.post(
        f"{base}/bescheid-speichern/{notice.pk}/",
        {
            f"{prefix}-title": notice.title,
            f"{prefix}-outcome": "refused",
            f"{prefix}-body": re.sub(r"\[Bitte[^\]]*\]", reasons, notice.body),
            f"{prefix}-legal_basis": notice.legal_basis,
            f"{prefix}-remedy": notice.remedy,
            f"{prefix}-version": hidden_value(page, f"{prefix}-version"),
        },
    )
    assert response.status_code == 302, html(response)
    page = html(drafter.get(f"{base}/"))
    submitted = drafter.post(
        f"{base}/zur-freigabe/{notice.pk}/", {submit: hidden_value(page, submit)}
    )
    assert submitted.status_code == 302
    # The drafter may not approve their own notice: no button, and a forged POST is refused.
    approve = f"freigeben{notice.pk}-version"
    notice.refresh_from_db()
    assert "Bescheid freigeben" not in html(drafter.get(f"{base}/"))
    forged = drafter.post(f"{base}/freigeben/{notice.pk}/", {approve: str(notice.version)})
    assert forged.status_code == 403
    page = html(second.get(f"{base}/"))
    assert "Bescheid freigeben" in page
    approved = second.post(f"{base}/freigeben/{notice.pk}/", {approve: hidden_value(page, approve)})
    assert approved.status_code == 302
    notice.refresh_from_db()
    assert notice.approved_by == second_clerk
    issue = f"erlassen{notice.pk}-version"
    page = html(drafter.get(f"{base}/"))
    assert (
        drafter.post(
            f"{base}/erlassen/{notice.pk}/", {issue: hidden_value(page, issue)}
        ).status_code
        == 302
    )
    notice.refresh_from_db()
    case.refresh_from_db()
    assert notice.status == Notice.Status.ISSUED
    assert case.outcome == Case.Outcome.REFUSED


def test_file_versions_download_and_a_tampered_one_is_refused_with_a_message(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    from django.core.files.base import ContentFile

    from rathaus.records.services import add_document

    case = open_case(unit.authority, unit=unit)
    version = add_document(
        file=case.file,
        title="Mietvertrag",
        kind="upload",
        content=b"%PDF-1.4 Mietvertrag",
        original_name="mietvertrag.pdf",
        content_type="application/pdf",
        actor=clerk,
    )
    client = staff_client(clerk)
    url = f"/backoffice/vorgaenge/{case.pk}/akte/versionen/{version.pk}/"
    assert "mietvertrag.pdf" in html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 Mietvertrag"  # type: ignore[attr-defined]
    storage = version.content.storage
    storage.delete(version.content.name)
    storage.save(version.content.name, ContentFile(b"%PDF-1.4 gefaelscht"))
    refused = client.get(url, follow=True)
    assert refused.status_code == 200
    assert "SHA-256" in html(refused)


def test_queue_pages_merge_every_unit_and_the_assigned_cases_in_sort_order(
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The queue reads each unit and the clerk's own cases apart (a UNION on PostgreSQL) and
    merges them: every page must equal the same slice of the plainly filtered list."""
    from rathaus.backoffice import queue
    from rathaus.casework import services as casework
    from rathaus.casework.models import StaffMembership
    from rathaus.casework.permissions import cases_visible_to, forget_scope

    StaffMembership.objects.create(user=clerk, org_unit=other_unit)
    forget_scope(clerk)
    third = OrgUnit.objects.create(authority=unit.authority, code="98.8", name="Dritte")
    cases = []
    for i in range(4):
        cases.append(open_case(unit.authority, unit=unit, family_name=f"Einheit{i}"))
        cases.append(open_case(unit.authority, unit=other_unit, family_name=f"Zweite{i}"))
    elsewhere = open_case(unit.authority, unit=third, family_name="Zugewiesen")
    invisible = open_case(unit.authority, unit=third, family_name="Unsichtbar")
    casework.assign(cases=[elsewhere, cases[0]], user=clerk, actor=clerk)  # cases[0]: twice
    for number, case in enumerate([*cases, elsewhere]):
        Case.objects.filter(pk=case.pk).update(
            due_on=timezone.localdate() + datetime.timedelta(days=(number * 7) % 5)
        )
    monkeypatch.setattr(queue, "PAGE_SIZE", 3)

    for sort in ("due", "-opened", "number"):
        filters = {"status": "open", "sort": sort}
        expected = list(
            cases_visible_to(clerk)
            .filter(status__in=Case.OPEN_STATUSES)
            .order_by(*queue.SORTS[sort])
            .values_list("number", flat=True)
        )
        seen: list[str] = []
        number = 1
        while True:
            page = queue.queue_page(user=clerk, filters={**filters, "page": number})
            seen += [row.number for row in page.cases]
            if not page.has_next:
                break
            number += 1
        assert seen == expected, sort
        assert len(seen) == 9 and len(set(seen)) == 9
        assert elsewhere.number in seen and invisible.number not in seen


def test_a_revocation_letter_for_a_posted_notice_is_listed_downloaded_and_marked_posted(
    staff_client: StaffClient,
    clerk: User,
    second_clerk: User,
    make_staff: Callable[..., User],
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    from rathaus.accounts.roles import CLERK
    from rathaus.casework.models import PostalDeliveryTask
    from rathaus.casework.notice_templates import templates_for

    case = open_case(unit.authority, unit=unit, family_name="Postweg")
    Case.objects.filter(pk=case.pk).update(electronic_delivery=False)  # § 9 Abs. 1 OZG
    case.refresh_from_db()
    key = next(k for k, t in templates_for("wohnsitz-anmelden").items() if t.outcome == "granted")
    notice = casework.draft_notice(case=case, template_key=key, actor=clerk)
    if notice.four_eyes:
        pytest.skip("the demo configures four eyes for this service")
    notice = casework.issue_notice(notice=notice, actor=clerk)
    casework.mark_posted(task=case.postal_tasks.get(), actor=clerk)
    client = staff_client(clerk)
    base = f"/backoffice/vorgaenge/{case.pk}"
    requested = client.post(  # refusals need four eyes: so does taking back a grant
        f"{base}/aufhebung-beantragen/{notice.pk}/",
        {
            f"revoke{notice.pk}-reason": "Irrtum",
            f"revoke{notice.pk}-kind": "annulled",
            f"revoke{notice.pk}-legal_basis": "§ 48 VwVfG NRW",
            f"revoke{notice.pk}-version": notice.version,
        },
    )
    assert requested.status_code == 302, html(requested)
    notice.refresh_from_db()
    revoked = staff_client(second_clerk).post(
        f"{base}/aufhebung-bestaetigen/{notice.pk}/",
        {f"aufhebung-bestaetigen{notice.pk}-version": notice.version},
    )
    assert revoked.status_code == 302, html(revoked)
    task = case.postal_tasks.get(kind=PostalDeliveryTask.Kind.REVOCATION)
    download = f"{base}/akte/versionen/{task.letter_id}/"
    page = html(client.get(f"{base}/"))
    assert "Widerrufsschreiben per Post versenden" in page
    assert f'href="{download}"' in page and "Widerrufsschreiben herunterladen (PDF)" in page
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    stranger = staff_client(make_staff(CLERK, other_unit, name="otto"))
    assert stranger.get(download).status_code == 404
    posted = client.post(
        f"{base}/postversand/{task.pk}/",
        {f"postal{task.pk}-sent_on": timezone.localdate().isoformat()},
    )
    assert posted.status_code == 302, html(posted)
    task.refresh_from_db()
    assert task.status == PostalDeliveryTask.Status.SENT and task.sent_by == clerk
    assert "Widerrufsschreiben per Post versenden" not in html(client.get(f"{base}/"))


def test_the_case_page_says_whether_the_citizen_was_told_by_e_mail(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    """§ 9 Abs. 1 OZG: the clerk sees whether the e-mail notice went out, and why not."""
    from rathaus.mailbox.models import (
        NO_CONFIRMED_ADDRESS,
        NOTIFICATION_ATTEMPTS,
        NOTIFICATION_STRANDED_UNTIL,
        Message,
    )

    case = open_case(unit.authority, unit=unit)
    casework.request_documents(
        case=case,
        description="Bitte Mietvertrag senden.",
        due_on=timezone.localdate() + datetime.timedelta(days=14),
        actor=clerk,
    )
    message = Message.objects.get(case_number=case.number)
    client = staff_client(clerk)
    Message.objects.filter(pk=message.pk).update(
        notified_at=None, notification_error=NO_CONFIRMED_ADDRESS
    )
    page = html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert "E-Mail-Benachrichtigung" in page
    assert "nicht versandt: keine bestätigte E-Mail-Adresse" in page
    Message.objects.filter(pk=message.pk).update(notification_error="SMTP 451")
    assert "Der Mailserver hat abgelehnt" in html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    Message.objects.filter(pk=message.pk).update(notification_attempts=NOTIFICATION_ATTEMPTS)
    page = html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert "jeden Versuch abgelehnt" in page and "Der Mailserver hat abgelehnt" not in page
    Message.objects.filter(pk=message.pk).update(notification_attempts=0, notification_error="")
    assert "in Warteschlange" in html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    Message.objects.filter(pk=message.pk).update(
        provided_at=timezone.now() - NOTIFICATION_STRANDED_UNTIL - datetime.timedelta(hours=1)
    )
    page = html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert "Versandauftrag ist nie gelaufen" in page and "in Warteschlange" not in page
    sent = timezone.make_aware(datetime.datetime(2026, 11, 20, 9, 15))
    Message.objects.filter(pk=message.pk).update(notified_at=sent, notification_error="")
    page = html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert "20.11.2026 09:15" in page and "keine bestätigte" not in page


def test_a_revocation_under_the_four_eyes_rule_is_requested_and_confirmed_on_the_case_page(
    staff_client: StaffClient,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    from rathaus.casework.models import Notice
    from rathaus.casework.notice_templates import templates_for

    case = open_case(unit.authority, unit=unit, family_name="Zweiblick")
    key = next(k for k, t in templates_for("wohnsitz-anmelden").items() if t.outcome == "granted")
    notice = casework.issue_notice(
        notice=casework.draft_notice(case=case, template_key=key, actor=clerk), actor=clerk
    )
    assert casework.revocation_needs_four_eyes(notice)  # its refusals need a second clerk
    base = f"/backoffice/vorgaenge/{case.pk}"
    client = staff_client(clerk)
    page = html(client.get(f"{base}/"))
    assert "Aufhebung beantragen" in page and f"{base}/aufheben/{notice.pk}/" not in page
    # one clerk alone cannot revoke, not even by posting the old form
    alone = client.post(
        f"{base}/aufheben/{notice.pk}/",
        {
            f"revoke{notice.pk}-reason": "Irrtum",
            f"revoke{notice.pk}-kind": "withdrawn",
            f"revoke{notice.pk}-legal_basis": "§ 49 VwVfG NRW",
        },
    )
    assert alone.status_code == 409 and "zweite" in html(alone)
    # no reason: said beside the field, the legal basis typed is kept
    empty = client.post(
        f"{base}/aufhebung-beantragen/{notice.pk}/",
        {
            f"revoke{notice.pk}-reason": " ",
            f"revoke{notice.pk}-kind": "withdrawn",
            f"revoke{notice.pk}-legal_basis": "§ 49 Abs. 2 VwVfG NRW",
            f"revoke{notice.pk}-version": notice.version,
        },
    )
    assert empty.status_code == 400
    assert f'id="id_revoke{notice.pk}-reason_error"' in html(empty)
    assert "§ 49 Abs. 2 VwVfG NRW" in html(empty)
    requested = client.post(
        f"{base}/aufhebung-beantragen/{notice.pk}/",
        {
            f"revoke{notice.pk}-reason": "Falsche Wohnung",
            f"revoke{notice.pk}-kind": "withdrawn",
            f"revoke{notice.pk}-legal_basis": "§ 49 VwVfG NRW",
            f"revoke{notice.pk}-version": notice.version,
        },
    )
    assert requested.status_code == 302, html(requested)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.ISSUED and notice.revocation_pending
    # the requester sees the request and may withdraw it, but not confirm it
    page = html(client.get(f"{base}/"))
    assert "Antrag zurücknehmen" in page and "Bestätigen und aufheben" not in page
    confirm = {f"aufhebung-bestaetigen{notice.pk}-version": notice.version}
    assert client.post(f"{base}/aufhebung-bestaetigen/{notice.pk}/", confirm).status_code == 403
    # the second clerk sees what was requested and confirms it
    colleague = staff_client(second_clerk)
    page = html(colleague.get(f"{base}/"))
    assert "Bestätigen und aufheben" in page and "Falsche Wohnung" in page
    confirmed = colleague.post(f"{base}/aufhebung-bestaetigen/{notice.pk}/", confirm)
    assert confirmed.status_code == 302, html(confirmed)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.REVOKED
    assert (notice.revocation_requested_by, notice.revocation_confirmed_by) == (
        clerk,
        second_clerk,
    )


def test_a_requested_revocation_can_be_rejected_on_the_case_page(
    staff_client: StaffClient,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    from rathaus.casework.models import Notice
    from rathaus.casework.notice_templates import templates_for

    case = open_case(unit.authority, unit=unit, family_name="Zweiblick")
    key = next(k for k, t in templates_for("wohnsitz-anmelden").items() if t.outcome == "granted")
    notice = casework.issue_notice(
        notice=casework.draft_notice(case=case, template_key=key, actor=clerk), actor=clerk
    )
    casework.request_revocation(notice=notice, reason="Falsche Wohnung", actor=clerk)
    notice.refresh_from_db()
    base = f"/backoffice/vorgaenge/{case.pk}"
    rejected = staff_client(second_clerk).post(
        f"{base}/aufhebung-ablehnen/{notice.pk}/",
        {
            f"keep{notice.pk}-reason": "Die Wohnung stimmt.",
            f"keep{notice.pk}-version": notice.version,
        },
    )
    assert rejected.status_code == 302, html(rejected)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.ISSUED and not notice.revocation_pending
    case.refresh_from_db()
    assert case.status == Case.Status.DECIDED
    assert case.events.get(kind=CaseEvent.Kind.REVOCATION_REJECTED).actor == second_clerk
