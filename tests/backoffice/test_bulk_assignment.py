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
from django.test import Client
from django.utils.html import escape

from rathaus.accounts.models import User
from rathaus.accounts.roles import TEAM_LEAD
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
    # A case the team lead sees but may not assign: their own application (§ 20 VwVfG).
    applied = open_case(unit.authority, unit=unit, applicant=team_lead)
    page = html(lead.get("/backoffice/"))
    response = lead.post("/backoffice/zuweisen/", _bulk(page, own, applied, assignee=clerk.pk))
    assert response.status_code == 403
    # … also when the form is otherwise incomplete.
    response = lead.post("/backoffice/zuweisen/", {"bulk-cases": [applied.pk]})
    assert response.status_code == 403
    assert not Case.objects.filter(assigned_to=clerk).exists()
