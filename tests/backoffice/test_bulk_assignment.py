"""The queue's bulk assignment: all selected cases or none, never over a colleague's assignment.

Each row of the queue carries the clerk and unit it showed (``bulk-shown-<id>``), read here from
the page as a browser sends it back. A colleague who assigned one of the selected cases after
the page was read makes the whole assignment a 409 that names the case and its assignment now;
the selection and the choice are kept, and sent again from the page that comes back (which shows
the current assignments) they apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils.html import escape

from rathaus.accounts.models import User
from rathaus.accounts.roles import ADMINISTRATOR, CLERK, TEAM_LEAD
from rathaus.backoffice import queue
from rathaus.casework import permissions
from rathaus.casework import services as casework
from rathaus.casework.models import Case, CaseEvent
from rathaus.casework.services import MAX_CASES_PER_ASSIGNMENT
from rathaus.core.models import AuditEvent, Authority, OrgUnit
from tests.backoffice.page_forms import hidden_value, html, queue_shown

pytestmark = pytest.mark.django_db

OpenCase = Callable[..., Case]
StaffClient = Callable[[User], Client]
MakeStaff = Callable[..., User]


def _bulk(page: str, *cases: Case, **choice: object) -> dict[str, object]:
    """The queue's form as ``page`` holds it, with ``cases`` ticked and ``choice`` made."""
    return {
        "bulk-cases": [case.pk for case in cases],
        **{f"bulk-{name}": value for name, value in choice.items()},
        "next": _next(page),
        **queue_shown(page),
    }


def _next(page: str) -> str:
    """Where the queue's assignment form returns to (its hidden ``next``)."""
    form = page.split('action="/backoffice/zuweisen/"', 1)
    assert len(form) == 2, "no assignment form on the page"
    return hidden_value(form[1], "next")


def _errors(page: str) -> str:
    """The text of the error summary at the top of the form."""
    match = re.search(r'id="error-summary".*?<ul class="kern-list">(.*?)</ul>', page, re.S)
    assert match, "no error summary on the page"
    return match.group(1)


def _ticked(page: str, case: Case) -> bool:
    return f'id="select-{case.pk}" checked>' in page


def _assignments_by(actor: User) -> int:
    return AuditEvent.objects.filter(action="case.assigned", actor=actor).count()


def test_a_stale_bulk_assignment_changes_nothing_and_names_the_case_assigned_meanwhile(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    team_lead: User,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    first = open_case(unit.authority, unit=unit, family_name="Erstfall")
    second = open_case(unit.authority, unit=unit, family_name="Zweitfall")
    theresa, otto = staff_client(team_lead), staff_client(make_staff(TEAM_LEAD, unit, name="otto"))
    old_page = html(theresa.get("/backoffice/"))
    # Otto gives the first case to Conrad from his (current) queue.
    ottos_page = html(otto.get("/backoffice/"))
    given = otto.post("/backoffice/zuweisen/", _bulk(ottos_page, first, assignee=second_clerk.pk))
    assert given.status_code == 302
    first.refresh_from_db()
    assert first.assigned_to == second_clerk

    stale = _bulk(old_page, first, second, assignee=clerk.pk)
    response = theresa.post("/backoffice/zuweisen/", stale)

    assert response.status_code == 409
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.assigned_to, second.assigned_to) == (second_clerk, None)
    assert _assignments_by(team_lead) == 0
    page = html(response)
    said = _errors(page)
    assert first.number in said and second.number not in said
    assert escape(second_clerk.email) in said and escape(str(unit)) in said  # as it is now
    assert "Keiner der ausgewählten Vorgänge wurde zugewiesen" in said
    assert _next(page) == "/backoffice/"  # back to the queue, not to this POST
    # Theresa's selection and choice are kept; the rows carry the assignments as they are now.
    assert _ticked(page, first) and _ticked(page, second)
    assert f'<option value="{clerk.pk}" selected>' in page
    assert queue_shown(page)[f"bulk-shown-{first.pk}"] == f"{second_clerk.pk},{unit.pk}"
    # Having seen it, she assigns again: now it applies to both.
    again = theresa.post("/backoffice/zuweisen/", _bulk(page, first, second, assignee=clerk.pk))
    assert again.status_code == 302
    assert set(Case.objects.filter(assigned_to=clerk)) == {first, second}


def test_a_case_assigned_meanwhile_stays_selected_when_the_filtered_queue_no_longer_lists_it(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    team_lead: User,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    first = open_case(unit.authority, unit=unit, family_name="Erstfall")
    second = open_case(unit.authority, unit=unit, family_name="Zweitfall")
    unassigned = "/backoffice/?scope=unassigned"
    theresa = staff_client(team_lead)
    old_page = html(theresa.get(unassigned))
    casework.assign(cases=[first], user=second_clerk, actor=make_staff(TEAM_LEAD, unit))

    response = theresa.post(
        "/backoffice/zuweisen/", _bulk(old_page, first, second, assignee=clerk.pk)
    )

    assert response.status_code == 409
    page = html(response)
    # Conrad has it now, so the list of unassigned cases no longer shows it; it is shown below,
    # as it is now, still ticked.
    listed, elsewhere = page.split("Ausgewählte Vorgänge, die diese Liste nicht zeigt", 1)
    link = f'href="/backoffice/vorgaenge/{first.pk}/"'
    assert link not in listed and link in elsewhere
    assert escape(second_clerk.get_full_name()) in elsewhere
    assert _ticked(page, first) and _ticked(page, second)
    assert queue_shown(page)[f"bulk-shown-{first.pk}"] == f"{second_clerk.pk},{unit.pk}"
    # The page came back as the filtered queue: its links and the next assignment lead there.
    assert _next(page) == unassigned
    again = theresa.post("/backoffice/zuweisen/", _bulk(page, first, second, assignee=clerk.pk))
    assert again.status_code == 302 and again["Location"] == unassigned
    assert set(Case.objects.filter(assigned_to=clerk)) == {first, second}


def test_the_queue_shown_again_links_to_the_queue_not_to_the_assignment(
    staff_client: StaffClient, team_lead: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    """Shown again at the assignment's address, the page's own links and the next assignment
    still lead to the queue (a relative "?page=1" would be a GET of /backoffice/zuweisen/)."""
    case = open_case(unit.authority, unit=unit)
    lead = staff_client(team_lead)
    later = "/backoffice/?page=2"
    page = html(lead.get(later))
    assert case.number not in page  # the only case is on the first page
    # Selected on the first page, sent from the second (say, after paging on).
    response = lead.post(
        "/backoffice/zuweisen/",
        {**_bulk(html(lead.get("/backoffice/")), case), "next": later},
    )
    assert response.status_code == 400  # no clerk or unit chosen
    page = html(response)
    assert _next(page) == later
    assert 'href="/backoffice/?&amp;page=1"' in page
    assert _ticked(page, case)  # listed below the (empty) second page, still ticked
    # Switching the language on this page returns to the queue, not to the POST-only address.
    switcher = page.split('class="rathaus-language"', 1)[1].split("</form>", 1)[0]
    assert f'name="next" value="{later}"' in switcher.replace("&amp;", "&")
    # A form that names the assignment itself as where to return goes back to the queue.
    done = lead.post(
        "/backoffice/zuweisen/",
        {**_bulk(page, case, org_unit=unit.pk), "next": "/backoffice/zuweisen/"},
    )
    assert done.status_code == 302 and done["Location"] == "/backoffice/"


def test_a_fresh_bulk_assignment_records_one_change_per_case_also_for_an_id_sent_twice(
    staff_client: StaffClient, team_lead: User, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    first = open_case(unit.authority, unit=unit, family_name="Erstfall")
    second = open_case(unit.authority, unit=unit, family_name="Zweitfall")
    lead = staff_client(team_lead)
    page = html(lead.get("/backoffice/"))
    data = _bulk(page, first, second, assignee=clerk.pk)
    data["bulk-cases"] = [first.pk, second.pk, first.pk]
    response = lead.post("/backoffice/zuweisen/", data, follow=True)
    assert response.redirect_chain == [("/backoffice/", 302)]
    assert "2 Vorgang/Vorgänge zugewiesen" in html(response)
    assert set(Case.objects.filter(assigned_to=clerk)) == {first, second}
    for case in (first, second):
        audit = AuditEvent.objects.get(action="case.assigned", object_id=str(case.pk))
        assert audit.actor == team_lead
        assert (audit.before["assigned_to"], audit.after["assigned_to"]) == (None, clerk.pk)
        assert case.events.filter(kind=CaseEvent.Kind.ASSIGNED).count() == 1


@pytest.mark.parametrize(
    "shown",
    [None, "", "abc", "1", "1,2,3", "-1,0", "0," + "9" * 30, ["0,0", "1,0"]],
    ids=["missing", "empty", "text", "one number", "three", "negative", "huge", "ambiguous"],
)
def test_a_selected_case_without_a_sound_record_of_its_row_is_refused_as_a_damaged_form(
    staff_client: StaffClient,
    team_lead: User,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    shown: object,
) -> None:
    case = open_case(unit.authority, unit=unit)
    data: dict[str, object] = {"bulk-cases": [case.pk], "bulk-assignee": clerk.pk}
    if shown is not None:
        data[f"bulk-shown-{case.pk}"] = shown
    response = staff_client(team_lead).post("/backoffice/zuweisen/", data)
    assert response.status_code == 400
    assert "Formular ist unvollständig oder beschädigt" in _errors(html(response))
    case.refresh_from_db()
    assert case.assigned_to is None


def test_more_cases_than_one_assignment_takes_are_refused_with_a_message(
    staff_client: StaffClient, team_lead: User, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    lead = staff_client(team_lead)
    page = html(lead.get("/backoffice/"))
    data = _bulk(page, case, assignee=clerk.pk)
    data["bulk-cases"] = [case.pk, *range(10**12, 10**12 + MAX_CASES_PER_ASSIGNMENT)]
    response = lead.post("/backoffice/zuweisen/", data)
    assert response.status_code == 400
    said = _errors(html(response))
    assert f"höchstens {MAX_CASES_PER_ASSIGNMENT} Vorgänge" in said
    assert f"ausgewählt haben Sie {MAX_CASES_PER_ASSIGNMENT + 1}" in said
    assert _ticked(html(response), case)  # the selection is kept
    case.refresh_from_db()
    assert case.assigned_to is None


def test_a_case_withdrawn_meanwhile_is_named_and_none_is_assigned(
    staff_client: StaffClient, team_lead: User, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    first = open_case(unit.authority, unit=unit, family_name="Erstfall")
    second = open_case(unit.authority, unit=unit, family_name="Zweitfall")
    lead = staff_client(team_lead)
    page = html(lead.get("/backoffice/"))
    casework.withdraw_case(case=first, actor=first.applicant)
    response = lead.post("/backoffice/zuweisen/", _bulk(page, first, second, assignee=clerk.pk))
    assert response.status_code == 409
    said = _errors(html(response))
    assert first.number in said and "kann nicht mehr zugewiesen werden" in said
    assert not Case.objects.filter(assigned_to=clerk).exists()


def test_only_open_cases_can_be_selected_in_the_queue(
    staff_client: StaffClient, team_lead: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    withdrawn = open_case(unit.authority, unit=unit, family_name="Zurueckgezogen")
    casework.withdraw_case(case=withdrawn, actor=withdrawn.applicant)
    current = open_case(unit.authority, unit=unit, family_name="Offen")
    page = html(staff_client(team_lead).get("/backoffice/?status="))
    assert withdrawn.number in page and current.number in page
    assert f'id="select-{current.pk}"' in page
    assert f"bulk-shown-{current.pk}" in queue_shown(page)
    assert f'id="select-{withdrawn.pk}"' not in page
    assert f"bulk-shown-{withdrawn.pk}" not in queue_shown(page)


def test_forged_case_ids_are_refused_also_with_a_record_of_a_row(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    team_lead: User,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
    foreign_office: Authority,
) -> None:
    own = open_case(unit.authority, unit=unit)
    foreign_unit = foreign_office.units.order_by("code").first()
    lead = staff_client(team_lead)
    page = html(lead.get("/backoffice/"))
    for other in (
        open_case(unit.authority, unit=other_unit, family_name="Nachbarfall"),
        open_case(foreign_office, unit=foreign_unit, family_name="Fremdfall"),
    ):
        data = _bulk(page, own, other, assignee=clerk.pk)
        data[f"bulk-shown-{other.pk}"] = f"0,{other.org_unit_id}"  # as if a row had shown it
        response = lead.post("/backoffice/zuweisen/", data)
        assert response.status_code == 400
        assert other.applicant_name and other.applicant_name not in html(response)
        assert _ticked(html(response), own)
    # A case the team lead sees but may not assign: their own application (§ 20 VwVfG). The
    # queue offers no checkbox for it; sent all the same, it is refused by its number.
    applied = open_case(unit.authority, unit=unit, applicant=team_lead)
    page = html(lead.get("/backoffice/"))
    assert applied.number in page and f'id="select-{applied.pk}"' not in page
    response = lead.post("/backoffice/zuweisen/", _bulk(page, own, applied, assignee=clerk.pk))
    assert response.status_code == 400
    assert "nicht zuweisen (zum Beispiel weil sie inzwischen in einer anderen " in html(response)
    assert f"selbst beantragt haben): {applied.number}." in _errors(html(response))
    assert _ticked(html(response), own)
    # … also when the form is otherwise incomplete.
    response = lead.post("/backoffice/zuweisen/", {"bulk-cases": [applied.pk]})
    assert response.status_code == 400
    assert f"selbst beantragt haben): {applied.number}." in _errors(html(response))
    assert not Case.objects.filter(assigned_to=clerk).exists()


def test_the_queue_offers_no_checkbox_for_a_case_the_team_lead_may_not_assign(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    """An administrator who is also a team lead reads every case of the authority, but assigns
    only those of her units (and never her own application): the queue offers only those."""
    lead = make_staff(TEAM_LEAD, unit, name="ada")
    lead.groups.add(Group.objects.get_or_create(name=ADMINISTRATOR)[0])
    own = open_case(unit.authority, unit=unit, family_name="Eigenfall")
    neighbour = open_case(unit.authority, unit=other_unit, family_name="Nachbarfall")
    applied = open_case(unit.authority, unit=unit, applicant=lead)
    client = staff_client(lead)
    page = html(client.get("/backoffice/"))
    assert neighbour.number in page and applied.number in page  # she may read them ...
    assert f'id="select-{own.pk}"' in page
    assert f'id="select-{neighbour.pk}"' not in page  # ... but the queue does not offer them
    assert f'id="select-{applied.pk}"' not in page
    assert set(queue_shown(page)) == {f"bulk-shown-{own.pk}"}
    # Sent all the same (a forged form): nothing is assigned, and the case is named.
    response = client.post("/backoffice/zuweisen/", _bulk(page, own, neighbour, org_unit=unit.pk))
    assert response.status_code == 400
    assert neighbour.number in _errors(html(response))
    assert not Case.objects.filter(org_unit=unit, pk=neighbour.pk).exists()
    assert _assignments_by(lead) == 0


def test_a_case_moved_to_a_unit_the_lead_still_reads_is_refused_by_its_number_beside_the_list(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    """Selected while it was in her unit, moved to another unit of the authority before she
    assigned it: an administrator still reads it, but may not assign it. Her selection of the
    other cases is kept, the moved one is no longer offered, and assigning again applies."""
    lead = make_staff(TEAM_LEAD, unit, name="ada")
    lead.groups.add(Group.objects.get_or_create(name=ADMINISTRATOR)[0])
    first = open_case(unit.authority, unit=unit, family_name="Erstfall")
    second = open_case(unit.authority, unit=unit, family_name="Zweitfall")
    client = staff_client(lead)
    old_page = html(client.get("/backoffice/"))
    otto = make_staff(TEAM_LEAD, unit, other_unit, name="otto")
    casework.assign(cases=[first], org_unit=other_unit, actor=otto)

    response = client.post(
        "/backoffice/zuweisen/", _bulk(old_page, first, second, assignee=clerk.pk)
    )

    assert response.status_code == 400
    assert not Case.objects.filter(assigned_to=clerk).exists()
    page = html(response)
    said = _errors(page)
    assert "Vorgänge: Diese ausgewählten Vorgänge dürfen Sie nicht zuweisen" in said
    assert f"): {first.number}. Sie sind nicht mehr ausgewählt" in said
    assert second.number not in said
    assert re.findall(r'href="#([^"]+)"', said) == ["id_bulk-cases"]
    beside = page.split('id="id_bulk-cases_error"', 1)[1].split("</p>", 1)[0]
    assert first.number in beside  # also beside the list
    assert first.number in page and f'id="select-{first.pk}"' not in page
    assert _ticked(page, second)
    again = client.post("/backoffice/zuweisen/", _bulk(page, second, assignee=clerk.pk))
    assert again.status_code == 302
    assert set(Case.objects.filter(assigned_to=clerk)) == {second}


def test_the_queue_offers_exactly_the_cases_the_rule_of_assignment_allows(
    make_staff: MakeStaff,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
    foreign_office: Authority,
) -> None:
    """The queue decides from its rows' values what ``permissions.can_assign`` decides from a
    case (no query per row): both agree for every role and kind of case."""
    otto = make_staff(TEAM_LEAD, unit, other_unit, name="otto")
    people = {
        "lead": make_staff(TEAM_LEAD, unit, name="tilda"),
        "admin and lead": make_staff(TEAM_LEAD, unit, name="ada"),
        "lead and clerk": make_staff(TEAM_LEAD, unit, name="lena"),
        "clerk": make_staff(CLERK, unit, name="carl"),
        "administrator": make_staff(ADMINISTRATOR, unit, name="anton"),
    }
    people["admin and lead"].groups.add(Group.objects.get_or_create(name=ADMINISTRATOR)[0])
    people["lead and clerk"].groups.add(Group.objects.get_or_create(name=CLERK)[0])
    authority = unit.authority
    open_case(authority, unit=unit, family_name="Eigen")
    open_case(authority, unit=other_unit, family_name="Nachbar")
    open_case(authority, family_name="Unverteilt")
    open_case(foreign_office, family_name="Fremd")
    withdrawn = open_case(authority, unit=unit, family_name="Zurueck")
    casework.withdraw_case(case=withdrawn, actor=withdrawn.applicant)
    for name, person in people.items():
        open_case(authority, unit=unit, applicant=person, family_name=f"Eigener Antrag {name}")
        given = open_case(authority, unit=other_unit, family_name=f"Gegeben {name}")
        if permissions.staff_scope(person).works_on_cases:
            casework.assign(cases=[given], user=person, actor=otto)  # theirs, in another unit
    offered: dict[str, set[str]] = {}
    for name, person in people.items():
        person = User.objects.get(pk=person.pk)  # a fresh scope: assigned cases elsewhere
        page = queue.queue_page(user=person, filters={"status": "", "sort": "number"})
        assert page.cases and not page.has_next
        cases = Case.objects.in_bulk([row.pk for row in page.cases])
        for row in page.cases:
            case = cases[row.pk]
            allowed = case.status in Case.OPEN_STATUSES and permissions.can_assign(person, case)
            assert row.assignable == allowed, (name, case.applicant_name, case.org_unit_id)
        offered[name] = {cases[row.pk].title for row in page.cases if row.assignable}
    # Not the neighbour's, the foreign, the withdrawn case or their own application:
    for name in ("lead", "admin and lead", "lead and clerk"):
        colleagues = {f"Anmeldung Eigener Antrag {other}" for other in people if other != name}
        assert offered[name] == {
            "Anmeldung Eigen",
            "Anmeldung Unverteilt",
            f"Anmeldung Gegeben {name}",
            *colleagues,
        }
    assert offered["clerk"] == offered["administrator"] == set()


def test_a_case_moved_out_of_the_team_leads_units_meanwhile_is_not_named_by_its_database_id(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    team_lead: User,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    """She no longer sees it, so it is not named at all (its number would tell her of it),
    least of all by its database id (Django's own message)."""
    first = open_case(unit.authority, unit=unit, family_name="Erstfall")
    second = open_case(unit.authority, unit=unit, family_name="Zweitfall")
    theresa = staff_client(team_lead)
    old_page = html(theresa.get("/backoffice/"))
    otto = make_staff(TEAM_LEAD, unit, other_unit, name="otto")
    casework.assign(cases=[first], org_unit=other_unit, actor=otto)

    response = theresa.post(
        "/backoffice/zuweisen/", _bulk(old_page, first, second, assignee=clerk.pk)
    )

    assert response.status_code == 400
    assert Case.objects.filter(assigned_to=clerk).count() == 0
    page = html(response)
    said = _errors(page)
    assert f" {first.pk} " not in said, said
    assert first.number not in said and "Erstfall" not in page
    assert (
        "Mindestens einer der ausgewählten Vorgänge liegt nicht mehr in Ihren "
        "Organisationseinheiten (vielleicht hat ihn jemand verschoben)." in said
    )
    assert "Keiner der ausgewählten Vorgänge wurde zugewiesen" in said
    assert _ticked(page, second)  # the rest of the selection is kept, and applies now
    again = theresa.post("/backoffice/zuweisen/", _bulk(page, second, assignee=clerk.pk))
    assert again.status_code == 302
    assert set(Case.objects.filter(assigned_to=clerk)) == {second}


@pytest.mark.parametrize("listed", [True, False], ids=["cases-listed", "no-case-listed"])
def test_the_error_summary_of_the_bulk_assignment_links_to_an_element_of_the_page(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    team_lead: User,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
    listed: bool,
) -> None:
    """WCAG 3.3.1: the summary's link to the cases leads to the list (the rows' checkboxes are
    select-<id>, none of them the field's id), which says the error too."""
    case = open_case(unit.authority, unit=unit)
    lead = staff_client(team_lead)
    data = _bulk(html(lead.get("/backoffice/")), case, assignee=clerk.pk)
    if listed:
        data["bulk-cases"] = []
    else:  # moved away meanwhile: no case is left to list
        otto = make_staff(TEAM_LEAD, unit, other_unit, name="otto")
        casework.assign(cases=[case], org_unit=other_unit, actor=otto)
    response = lead.post("/backoffice/zuweisen/", data)
    assert response.status_code == 400
    page = html(response)
    assert re.findall(r'href="#([^"]+)"', _errors(page)) == ["id_bulk-cases"]
    assert page.count('id="id_bulk-cases"') == 1
    target = page.split('id="id_bulk-cases"', 1)[1]
    message = "Wählen Sie mindestens einen Vorgang" if listed else "Mindestens einer der"
    error = target.split('id="id_bulk-cases_error"', 1)[1].split("</p>", 1)[0]
    assert message in error  # beside the list, not only in the summary
    assert page.count('id="id_bulk-cases_error"') == 1
    assert (case.number in page) == listed
