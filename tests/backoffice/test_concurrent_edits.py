"""Two people on one case: an old page never acts on what a colleague changed since.

Each test reads the forms the way a browser does (the hidden version or assignment the page
showed), lets a colleague change the notice or the assignment, and then sends the old page's
form: it is refused with a message (409), nothing it would have done happens, and what the
clerk typed is kept. The same form read again from the current page works.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.accounts.roles import CLERK, TEAM_LEAD
from rathaus.casework import services as casework
from rathaus.casework.errors import CaseworkError
from rathaus.casework.models import Case, DocumentRequest, Notice, PostalDeliveryTask
from rathaus.casework.notice_templates import templates_for
from rathaus.core.models import AuditEvent, OrgUnit
from tests.backoffice.page_forms import hidden_value, html, shown_assignment, shown_for_take_over

pytestmark = pytest.mark.django_db

OpenCase = Callable[..., Case]
StaffClient = Callable[[User], Client]
MakeStaff = Callable[..., User]


def _granted_key() -> str:
    return next(k for k, t in templates_for("wohnsitz-anmelden").items() if t.outcome == "granted")


def _four_eyes_key() -> str:
    return next(k for k, t in templates_for("wohnsitz-anmelden").items() if t.four_eyes)


def _notice_post(notice: Notice, body: str, page: str) -> dict[str, str]:
    """The edit form of ``notice`` as ``page`` shows it, with ``body`` typed in."""
    p = f"notice{notice.pk}"
    return {
        f"{p}-title": notice.title,
        f"{p}-outcome": notice.outcome,
        f"{p}-body": body,
        f"{p}-legal_basis": notice.legal_basis,
        f"{p}-remedy": notice.remedy,
        f"{p}-version": hidden_value(page, f"{p}-version"),
    }


def _step(page: str, action: str, notice: Notice) -> dict[str, str]:
    """The form of the button ``action`` (freigeben, erlassen, …) of ``notice`` on ``page``."""
    name = f"{action}{notice.pk}-version"
    return {name: hidden_value(page, name)}


def _submitted_refusal(case: Case, clerk: User, reasons: str) -> Notice:
    """A four-eyes refusal with ``reasons`` filled in, submitted for approval."""
    notice = casework.draft_notice(case=case, template_key=_four_eyes_key(), actor=clerk)
    notice = casework.update_notice(
        notice=notice, actor=clerk, body=re.sub(r"\[Bitte[^\]]*\]", reasons, notice.body)
    )
    return casework.submit_for_approval(notice=notice, actor=clerk)


# --- notice drafts ------------------------------------------------------------------------------


def test_two_clerks_editing_one_notice_draft_do_not_silently_lose_an_edit(
    staff_client: StaffClient, clerk: User, second_clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Doppelbearbeitung")
    notice = casework.draft_notice(case=case, template_key=_granted_key(), actor=clerk)
    base = f"/backoffice/vorgaenge/{case.pk}"
    anna, bert = staff_client(clerk), staff_client(second_clerk)
    annas_page, berts_page = html(anna.get(f"{base}/")), html(bert.get(f"{base}/"))
    original = notice.body
    saved = anna.post(
        f"{base}/bescheid-speichern/{notice.pk}/",
        _notice_post(notice, original + "\nBegründung von Anna: Nachweis liegt vor.", annas_page),
    )
    assert saved.status_code == 302  # a save from the current page works
    stale = bert.post(
        f"{base}/bescheid-speichern/{notice.pk}/",
        _notice_post(notice, original + "\nHinweis von Bert.", berts_page),
    )
    assert stale.status_code == 409
    notice.refresh_from_db()
    assert "Begründung von Anna" in notice.body and "Hinweis von Bert" not in notice.body
    page = html(stale)
    assert "Ihre Änderungen wurden nicht gespeichert" in page
    assert "Hinweis von Bert." in page  # Bert's text is kept in the form …
    assert "Begründung von Anna: Nachweis liegt vor." in page  # … beside Anna's saved one
    # Having seen both, Bert saves again (the form he got back carries the current version).
    again = bert.post(
        f"{base}/bescheid-speichern/{notice.pk}/",
        _notice_post(notice, notice.body + "\nHinweis von Bert.", page),
    )
    assert again.status_code == 302
    notice.refresh_from_db()
    assert "Begründung von Anna" in notice.body and "Hinweis von Bert" in notice.body


def test_a_notice_changed_by_a_colleague_after_the_page_was_read_is_not_issued_unseen(
    staff_client: StaffClient, clerk: User, second_clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Unbesehen")
    notice = casework.draft_notice(case=case, template_key=_granted_key(), actor=clerk)
    assert not notice.four_eyes
    base = f"/backoffice/vorgaenge/{case.pk}"
    anna, bert = staff_client(clerk), staff_client(second_clerk)
    annas_page = html(anna.get(f"{base}/"))
    assert "Erlassen, siegeln und zustellen" in annas_page
    berts_page = html(bert.get(f"{base}/"))
    added = "\nZUSATZ VON BERT, VON ANNA NIE GELESEN"
    edited = bert.post(
        f"{base}/bescheid-speichern/{notice.pk}/",
        _notice_post(notice, notice.body + added, berts_page),
    )
    assert edited.status_code == 302
    issued = anna.post(f"{base}/erlassen/{notice.pk}/", _step(annas_page, "erlassen", notice))
    assert issued.status_code == 409
    assert "nicht erlassen" in html(issued)
    notice.refresh_from_db()
    case.refresh_from_db()
    assert notice.status == Notice.Status.DRAFT and not notice.pdf
    assert case.status != Case.Status.DECIDED
    # The page Anna got back shows the current text; issuing from it works.
    assert "ZUSATZ VON BERT" in html(issued)
    again = anna.post(f"{base}/erlassen/{notice.pk}/", _step(html(issued), "erlassen", notice))
    assert again.status_code == 302
    notice.refresh_from_db()
    assert notice.status == Notice.Status.ISSUED and "ZUSATZ VON BERT" in notice.body


def test_a_notice_step_without_the_version_of_the_page_is_refused_as_input(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Ohneversion")
    notice = casework.draft_notice(case=case, template_key=_granted_key(), actor=clerk)
    client = staff_client(clerk)
    response = client.post(f"/backoffice/vorgaenge/{case.pk}/erlassen/{notice.pk}/")
    assert response.status_code == 400
    assert "Bitte laden Sie die Seite neu" in html(response)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.DRAFT


# --- four eyes ----------------------------------------------------------------------------------


def test_an_approval_from_a_stale_page_does_not_cover_a_text_changed_since(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    third = make_staff(CLERK, unit, name="carla")
    case = open_case(unit.authority, unit=unit, family_name="Vieraugenalt")
    reasons = "Die Wohnungsgeberbestätigung fehlt."
    notice = _submitted_refusal(case, clerk, reasons)
    base = f"/backoffice/vorgaenge/{case.pk}"
    approver = staff_client(second_clerk)
    old_page = html(approver.get(f"{base}/"))
    assert "Bescheid freigeben" in old_page and reasons in old_page
    # Carla returns it, Anna rewrites the reasons and submits again.
    notice = casework.return_notice(notice=notice, actor=third)
    notice = casework.update_notice(
        notice=notice, actor=clerk, body=notice.body.replace(reasons, "GANZ ANDERE BEGRÜNDUNG")
    )
    casework.submit_for_approval(notice=notice, actor=clerk)
    response = approver.post(f"{base}/freigeben/{notice.pk}/", _step(old_page, "freigeben", notice))
    assert response.status_code == 409
    assert "Ihre Freigabe wurde nicht erfasst" in html(response)
    notice.refresh_from_db()
    assert notice.approved_by_id is None and notice.approved_text_sha256 == ""
    assert not AuditEvent.objects.filter(action="case.notice_approved").exists()
    # Read again, the current text can be approved; the approval names exactly that text.
    current = html(approver.get(f"{base}/"))
    assert "GANZ ANDERE BEGRÜNDUNG" in current
    approved = approver.post(f"{base}/freigeben/{notice.pk}/", _step(current, "freigeben", notice))
    assert approved.status_code == 302
    notice.refresh_from_db()
    assert notice.approved_by == second_clerk
    assert notice.approved_text_sha256 == casework.notice_text_digest(notice)


def test_returning_a_notice_from_a_stale_page_is_refused(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    third = make_staff(CLERK, unit, name="carla")
    case = open_case(unit.authority, unit=unit, family_name="Zurueckalt")
    notice = _submitted_refusal(case, clerk, "Die Bestätigung fehlt.")
    base = f"/backoffice/vorgaenge/{case.pk}"
    approver = staff_client(second_clerk)
    old_page = html(approver.get(f"{base}/"))
    casework.approve_notice(notice=notice, actor=third)  # Carla approved it meanwhile
    response = approver.post(
        f"{base}/zurueckgeben/{notice.pk}/", _step(old_page, "zurueckgeben", notice)
    )
    assert response.status_code == 409
    notice.refresh_from_db()
    assert notice.status == Notice.Status.AWAITING_APPROVAL and notice.approved_by == third


def test_an_approval_covers_only_the_text_it_was_given_for(
    clerk: User, second_clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    """Belt and braces: a text changed behind the workflow's back after the approval (a
    notice awaiting approval cannot be edited) is not issued on that approval."""
    case = open_case(unit.authority, unit=unit, family_name="AndererText")
    notice = _submitted_refusal(case, clerk, "Die Bestätigung fehlt.")
    casework.approve_notice(notice=notice, actor=second_clerk)
    Notice.objects.filter(pk=notice.pk).update(body="Ein ganz anderer Text.")
    with pytest.raises(CaseworkError, match="anderen Text"):
        casework.issue_notice(notice=notice, actor=clerk)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.AWAITING_APPROVAL


def test_every_step_of_a_notice_raises_its_version(
    clerk: User, second_clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Versionen")
    notice = casework.draft_notice(case=case, template_key=_four_eyes_key(), actor=clerk)
    versions = [notice.version]
    notice = casework.update_notice(
        notice=notice,
        actor=clerk,
        body=re.sub(r"\[Bitte[^\]]*\]", "Fehlt.", notice.body),
        version=notice.version,
    )
    versions.append(notice.version)
    unchanged = casework.update_notice(notice=notice, actor=clerk, body=notice.body)
    assert unchanged.version == notice.version  # saving the same text changes nothing
    for step in (
        casework.submit_for_approval,
        casework.return_notice,
        casework.submit_for_approval,
        casework.approve_notice,
    ):
        actor = second_clerk if step in (casework.return_notice, casework.approve_notice) else clerk
        notice = step(notice=notice, actor=actor, version=notice.version)
        versions.append(notice.version)
    notice = casework.issue_notice(notice=notice, actor=clerk, version=notice.version)
    versions.append(notice.version)
    assert versions == sorted(set(versions)), versions


# --- assignment ---------------------------------------------------------------------------------


def test_a_stale_assignment_form_does_not_undo_a_colleagues_assignment(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    team_lead: User,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    other_lead = make_staff(TEAM_LEAD, unit, name="otto")
    case = open_case(unit.authority, unit=unit, family_name="Zuweisung")
    casework.assign(cases=[case], user=clerk, actor=team_lead)
    base = f"/backoffice/vorgaenge/{case.pk}"
    theresa, otto = staff_client(team_lead), staff_client(other_lead)
    old_page = html(theresa.get(f"{base}/"))
    assert f'<option value="{clerk.pk}" selected>' in old_page
    ottos_page = html(otto.get(f"{base}/"))
    moved = otto.post(
        f"{base}/zuweisen/",
        {"assign-assignee": str(second_clerk.pk), **shown_assignment(ottos_page)},
    )
    assert moved.status_code == 302  # an assignment from the current page works
    response = theresa.post(
        f"{base}/zuweisen/",
        {
            "assign-assignee": str(clerk.pk),
            "assign-org_unit": str(other_unit.pk),
            **shown_assignment(old_page),
        },
    )
    assert response.status_code == 409
    case.refresh_from_db()
    assert (case.assigned_to, case.org_unit) == (second_clerk, unit)
    page = html(response)
    assert "wurde inzwischen neu zugewiesen" in page and case.number in page
    # The form comes back with Theresa's choice and the assignment as it is now: sent again,
    # knowingly, it applies.
    assert f'<option value="{other_unit.pk}" selected>' in page
    assert shown_assignment(page) == {
        "assign-shown_assignee": str(second_clerk.pk),
        "assign-shown_unit": str(unit.pk),
    }
    again = theresa.post(
        f"{base}/zuweisen/",
        {
            "assign-assignee": str(clerk.pk),
            "assign-org_unit": str(other_unit.pk),
            **shown_assignment(page),
        },
    )
    assert again.status_code == 302
    case.refresh_from_db()
    assert (case.assigned_to, case.org_unit) == (clerk, other_unit)


# --- one draft ----------------------------------------------------------------------------------


def test_a_double_click_on_draft_the_notice_makes_one_draft(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Doppelklick")
    client = staff_client(clerk)
    base = f"/backoffice/vorgaenge/{case.pk}"
    first = client.post(f"{base}/bescheid-entwerfen/", {"draft-template_key": _granted_key()})
    assert first.status_code == 302
    second = client.post(f"{base}/bescheid-entwerfen/", {"draft-template_key": _granted_key()})
    assert second.status_code == 409
    assert "hat schon den Bescheidentwurf" in html(second)
    assert case.notices.filter(status=Notice.Status.DRAFT).count() == 1


def test_no_second_draft_while_a_notice_awaits_approval(
    clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Wartend")
    _submitted_refusal(case, clerk, "Fehlt.")
    with pytest.raises(CaseworkError, match="Bescheidentwurf"):
        casework.draft_notice(case=case, template_key=_granted_key(), actor=clerk)
    assert case.notices.count() == 1


# --- values the service refuses, beside their field ----------------------------------------------


def test_a_document_request_deadline_too_far_ahead_is_said_beside_the_field(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Fristfall")
    far = datetime.date.today() + datetime.timedelta(days=3 * 365)
    response = staff_client(clerk).post(
        f"/backoffice/vorgaenge/{case.pk}/unterlagen-anfordern/",
        {"request-description": "Mietvertrag", "request-due_on": far.isoformat()},
    )
    assert response.status_code == 400
    page = html(response)
    assert "Mietvertrag" in page  # what was typed is kept
    field = re.search(r'<input type="date" name="request-due_on"[^>]*>', page)
    assert field and 'aria-invalid="true"' in field.group(0)
    assert "höchstens zwei Jahre" in page
    assert not DocumentRequest.objects.filter(case=case).exists()


def test_a_posting_date_before_the_notice_was_issued_is_said_beside_the_field(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Postfall")
    Case.objects.filter(pk=case.pk).update(electronic_delivery=False)
    case.refresh_from_db()
    casework.issue_notice(
        notice=casework.draft_notice(case=case, template_key=_granted_key(), actor=clerk),
        actor=clerk,
    )
    task = case.postal_tasks.get()
    before = timezone.localdate() - datetime.timedelta(days=1)
    response = staff_client(clerk).post(
        f"/backoffice/vorgaenge/{case.pk}/postversand/{task.pk}/",
        {f"postal{task.pk}-sent_on": before.isoformat()},
    )
    assert response.status_code == 400
    page = html(response)
    field = re.search(rf'<input type="date" name="postal{task.pk}-sent_on"[^>]*>', page)
    assert field and 'aria-invalid="true"' in field.group(0)
    assert f'value="{before.isoformat()}"' in field.group(0)
    assert "vor dem Erlass des Bescheids" in page
    task.refresh_from_db()
    assert task.status == PostalDeliveryTask.Status.OPEN


def test_a_stale_take_over_does_not_take_the_case_from_a_colleague(
    staff_client: StaffClient, clerk: User, second_clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    """Anna and Bert both read the unassigned case; Bert takes it first. Anna's click must not
    take it from him without a word."""
    case = open_case(unit.authority, unit=unit, family_name="Uebernahme")
    base = f"/backoffice/vorgaenge/{case.pk}"
    anna, bert = staff_client(clerk), staff_client(second_clerk)
    anna_saw = shown_for_take_over(html(anna.get(f"{base}/")))
    bert_saw = shown_for_take_over(html(bert.get(f"{base}/")))
    assert bert.post(f"{base}/uebernehmen/", bert_saw).status_code == 302
    refused = anna.post(f"{base}/uebernehmen/", anna_saw)
    case.refresh_from_db()
    assert case.assigned_to == second_clerk
    assert refused.status_code == 409
    assert "neu zugewiesen" in html(refused)
    # the page she gets back shows the current state: taking it over now is a conscious choice
    assert anna.post(f"{base}/uebernehmen/", shown_for_take_over(html(refused))).status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == clerk
