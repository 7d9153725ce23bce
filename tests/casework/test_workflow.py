"""The case workflow: opening, legal and illegal transitions, history and audit trail."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone, translation
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.casework import services
from rathaus.casework.errors import CaseworkError, TransitionError
from rathaus.casework.models import Case, CaseEvent, CaseNote, DocumentRequest
from rathaus.casework.selectors import citizen_timeline
from rathaus.core.models import AuditEvent, Authority, OrgUnit

S = Case.Status


def _statuses(case: Case) -> list[tuple[str, str]]:
    return list(
        case.events.filter(kind=CaseEvent.Kind.STATUS_CHANGED).values_list(
            "from_status", "to_status"
        )
    )


def test_opening_a_case_numbers_it_files_it_and_routes_it(
    make_case: Callable[..., Case], meldewesen: OrgUnit
) -> None:
    with freeze_time("2026-11-23 09:00:00+01:00"):
        case = make_case()
    assert case.number == "2026-000001"
    assert case.status == S.RECEIVED
    assert case.org_unit == meldewesen  # casework.toml of the service names unit 33.1
    assert case.due_on == datetime.date(2026, 11, 26)  # processing_days = 3
    assert case.applicant_name == "Erika Mustermann"
    assert case.file is not None and case.file.reference
    assert case.events.get().kind == CaseEvent.Kind.OPENED
    assert AuditEvent.objects.filter(action="case.opened", object_id=str(case.pk)).exists()


def test_case_numbers_count_per_authority_and_restart_each_year(
    make_case: Callable[..., Case], wuppertal: object
) -> None:
    other = Authority.objects.get(municipality__ags="05122000", kind="buergeramt")
    with freeze_time("2026-12-31 12:00:00+01:00"):
        first = make_case()
        second = make_case()
        elsewhere = make_case(authority=other)
    with freeze_time("2027-01-01 12:00:00+01:00"):
        next_year = make_case()
    assert [first.number, second.number] == ["2026-000001", "2026-000002"]
    assert elsewhere.number == "2026-000001"
    assert next_year.number == "2027-000001"


def test_a_rolled_back_case_does_not_use_up_a_number_someone_else_then_gets_twice(
    make_case: Callable[..., Case],
) -> None:
    first = make_case()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_case()
        raise RuntimeError("submission failed")
    third = make_case()
    numbers = set(Case.objects.values_list("number", flat=True))
    assert numbers == {first.number, third.number}
    assert first.number != third.number


def test_every_legal_transition_is_recorded_with_history_and_audit(case: Case, clerk: User) -> None:
    services.transition(case=case, to_status=S.IN_REVIEW, actor=clerk)
    request = services.request_documents(
        case=case,
        description="Bitte laden Sie eine Kopie Ihres Personalausweises hoch.",
        due_on=timezone.localdate() + datetime.timedelta(days=14),
        actor=clerk,
    )
    services.receive_documents(
        request=request,
        files=[("ausweis.pdf", "application/pdf", b"%PDF-1.7 ...")],
        actor=case.applicant,
    )
    services.request_documents(
        case=case,
        description="Noch die Rückseite, bitte.",
        due_on=timezone.localdate() + datetime.timedelta(days=7),
        actor=clerk,
    )
    services.transition(case=case, to_status=S.IN_REVIEW, actor=clerk, note="Telefonisch geklärt")
    case.refresh_from_db()
    assert case.status == S.IN_REVIEW
    assert _statuses(case) == [
        (S.RECEIVED, S.IN_REVIEW),
        (S.IN_REVIEW, S.WAITING_FOR_CITIZEN),
        (S.WAITING_FOR_CITIZEN, S.IN_REVIEW),
        (S.IN_REVIEW, S.WAITING_FOR_CITIZEN),
        (S.WAITING_FOR_CITIZEN, S.IN_REVIEW),
    ]
    assert list(case.document_requests.values_list("status", flat=True)) == [
        DocumentRequest.Status.CANCELLED,
        DocumentRequest.Status.ANSWERED,
    ]
    changes = AuditEvent.objects.filter(action="case.status_changed", object_id=str(case.pk))
    assert changes.count() == 5
    assert {(e.before["status"], e.after["status"]) for e in changes} == set(_statuses(case))


def test_received_case_goes_straight_to_waiting_when_documents_are_requested(
    case: Case, clerk: User
) -> None:
    services.request_documents(
        case=case,
        description="Wohnungsgeberbestätigung",
        due_on=timezone.localdate(),
        actor=clerk,
    )
    case.refresh_from_db()
    assert case.status == S.WAITING_FOR_CITIZEN


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], S.CLOSED),
        ([S.IN_REVIEW], S.RECEIVED),
        ([S.IN_REVIEW], S.CLOSED),
        ([S.WITHDRAWN], S.IN_REVIEW),
        ([S.WITHDRAWN], S.CLOSED),
    ],
)
def test_illegal_transitions_are_refused_with_a_message(
    case: Case, clerk: User, path: list[str], target: str
) -> None:
    for step in path:
        services.transition(case=case, to_status=step, actor=clerk)
    case.refresh_from_db()
    before = case.status
    with pytest.raises(TransitionError) as refused:
        services.transition(case=case, to_status=target, actor=clerk)
    assert case.number in str(refused.value)
    case.refresh_from_db()
    assert case.status == before


def test_deciding_and_waiting_need_their_own_actions(case: Case, clerk: User) -> None:
    with pytest.raises(TransitionError, match="Bescheid"):
        services.transition(case=case, to_status=S.DECIDED, actor=clerk)
    with pytest.raises(TransitionError, match="Unterlagen"):
        services.transition(case=case, to_status=S.WAITING_FOR_CITIZEN, actor=clerk)
    with pytest.raises(TransitionError):
        services.transition(case=case, to_status="archived", actor=clerk)


def test_withdrawal_ends_the_case_and_closes_its_file(case: Case, citizen: User) -> None:
    services.withdraw_case(case=case, actor=citizen, note="Hat sich erledigt")
    case.refresh_from_db()
    assert case.status == S.WITHDRAWN
    assert case.closed_at is not None
    assert case.file is not None and case.file.is_closed
    with pytest.raises(TransitionError, match="zurückgezogen"):
        services.withdraw_case(case=case, actor=citizen)


def test_a_request_needs_a_description_and_a_future_deadline(case: Case, clerk: User) -> None:
    with pytest.raises(CaseworkError, match="Unterlagen"):
        services.request_documents(
            case=case, description="  ", due_on=timezone.localdate(), actor=clerk
        )
    with pytest.raises(CaseworkError, match="Vergangenheit"):
        services.request_documents(
            case=case,
            description="Ausweis",
            due_on=timezone.localdate() - datetime.timedelta(days=1),
            actor=clerk,
        )
    with pytest.raises(CaseworkError, match="höchstens zwei Jahre"):
        services.request_documents(
            case=case, description="Ausweis", due_on=datetime.date(9999, 12, 31), actor=clerk
        )
    assert not case.document_requests.exists()


def test_answering_a_request_twice_is_refused(case: Case, clerk: User, citizen: User) -> None:
    request = services.request_documents(
        case=case, description="Ausweis", due_on=timezone.localdate(), actor=clerk
    )
    files = [("a.pdf", "application/pdf", b"%PDF-1.7 a")]
    services.receive_documents(request=request, files=files, actor=citizen)
    with pytest.raises(CaseworkError, match="bereits beantwortet"):
        services.receive_documents(request=request, files=files, actor=citizen)


def test_received_documents_are_filed_and_shown_to_the_citizen(
    case: Case, clerk: User, citizen: User
) -> None:
    request = services.request_documents(
        case=case, description="Ausweis bitte", due_on=timezone.localdate(), actor=clerk
    )
    services.receive_documents(
        request=request,
        files=[("ausweis.pdf", "application/pdf", b"%PDF-1.7 ausweis")],
        actor=citizen,
        note="Anbei",
    )
    assert case.file is not None
    kinds = list(case.file.documents.values_list("kind", flat=True))
    assert "upload" in kinds
    timeline = citizen_timeline(case)
    kinds_shown = [entry.kind for entry in timeline]
    assert CaseEvent.Kind.DOCUMENTS_REQUESTED in kinds_shown
    assert CaseEvent.Kind.DOCUMENTS_RECEIVED in kinds_shown
    assert any(entry.note == "Ausweis bitte" for entry in timeline)


def test_filing_on_a_withdrawn_case_is_a_casework_refusal(
    case: Case, citizen: User, clerk: User
) -> None:
    """Its file is closed: the records refusal reaches the caller as a CaseworkError (the views
    handle casework's errors), and nothing is written."""
    services.withdraw_case(case=case, actor=citizen)
    with pytest.raises(CaseworkError):
        services.add_note(case=case, text="Nachtrag", actor=clerk)
    with pytest.raises(CaseworkError):
        services.add_internal_document(
            case=case, title="Auszug", file=("a.pdf", "application/pdf", b"%PDF-1.7"), actor=clerk
        )
    assert not CaseNote.objects.filter(case=case).exists()


def test_notes_and_assignments_are_internal(
    case: Case, clerk: User, team_lead: User, meldewesen: OrgUnit
) -> None:
    services.assign(cases=[case], user=clerk, org_unit=meldewesen, actor=team_lead)
    services.add_note(case=case, text="Rückfrage beim Vermieter nötig", actor=clerk)
    case.refresh_from_db()
    assert case.assigned_to == clerk
    assert CaseNote.objects.filter(case=case).count() == 1
    assert [e.kind for e in citizen_timeline(case)] == [CaseEvent.Kind.OPENED]
    assert AuditEvent.objects.filter(action="case.assigned", object_id=str(case.pk)).exists()


def test_moving_a_case_keeps_its_clerk_unless_told_to_unassign(
    case: Case, clerk: User, team_lead: User, meldewesen: OrgUnit, buergeramt: Authority
) -> None:
    passports = OrgUnit.objects.get(authority=buergeramt, code="33.2")
    services.assign(cases=[case], user=clerk, org_unit=meldewesen, actor=team_lead)
    services.assign(cases=[case], org_unit=passports, actor=team_lead)
    case.refresh_from_db()
    assert (case.org_unit, case.assigned_to) == (passports, clerk)  # user=None: no change

    services.assign(cases=[case], org_unit=meldewesen, unassign=True, actor=team_lead)
    case.refresh_from_db()
    assert (case.org_unit, case.assigned_to) == (meldewesen, None)
    event = case.events.filter(kind=CaseEvent.Kind.ASSIGNED).latest("pk")
    assert event.data["unassigned"] == clerk.pk
    assert event.note == "Die Sachbearbeitung wurde aus dem Vorgang entfernt."
    audit = AuditEvent.objects.filter(action="case.assigned", object_id=str(case.pk)).latest("id")
    assert (audit.before["assigned_to"], audit.after["assigned_to"]) == (clerk.pk, None)
    with pytest.raises(CaseworkError):
        services.assign(cases=[case], user=clerk, unassign=True, actor=team_lead)


def test_cases_cannot_be_assigned_to_staff_of_another_authority(
    case: Case, make_staff: Callable[..., User], team_lead: User
) -> None:
    solingen_unit = OrgUnit.objects.filter(authority__municipality__ags="05122000").first()
    outsider = make_staff(solingen_unit)
    with pytest.raises(CaseworkError):
        services.assign(cases=[case], user=outsider, actor=team_lead)
    with pytest.raises(CaseworkError):
        services.assign(cases=[case], org_unit=solingen_unit, actor=team_lead)
    case.refresh_from_db()
    assert case.assigned_to is None


def test_case_history_cannot_be_changed_or_deleted(case: Case) -> None:
    event = case.events.get()
    event.note = "nachträglich geändert"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(case=case).update(note="x")
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(case=case).delete()


def test_the_database_refuses_edits_to_the_history_on_postgresql(case: Case) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE casework_caseevent SET note = 'x' WHERE case_id = %s", [case.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM casework_caseevent WHERE case_id = %s", [case.pk])


def test_a_routing_to_another_authoritys_unit_is_refused_and_an_old_one_ignored(
    buergeramt: Authority, meldewesen: OrgUnit, meldebescheinigung: Any
) -> None:
    """In the admin it is an error beside the field; one saved earlier does not make every
    submission of the service fail: the case goes where it would without the routing."""
    from django.core.exceptions import ValidationError

    from rathaus.casework.models import ServiceRouting

    foreign = OrgUnit.objects.exclude(authority=buergeramt).first()
    assert foreign is not None
    routing = ServiceRouting(authority=buergeramt, service=meldebescheinigung, org_unit=foreign)
    with pytest.raises(ValidationError) as refused:
        routing.full_clean()
    assert "org_unit" in refused.value.message_dict
    without = services.route(service=meldebescheinigung, authority=buergeramt)
    routing.save()
    assert services.route(service=meldebescheinigung, authority=buergeramt) == without
    ServiceRouting.objects.filter(pk=routing.pk).update(org_unit=meldewesen)
    assert services.route(service=meldebescheinigung, authority=buergeramt) == meldewesen


# --- due dates ----------------------------------------------------------------------------------


@freeze_time("2026-05-12 10:00:00+02:00")
def test_a_due_date_before_today_is_refused_and_nothing_is_written(
    make_case: Callable[..., Case], clerk: User
) -> None:
    case = make_case()
    due_on, events = case.due_on, case.events.count()
    with pytest.raises(CaseworkError, match="Vergangenheit"):
        services.set_due_date(case=case, due_on=datetime.date(2026, 5, 11), actor=clerk)
    case.refresh_from_db()
    assert case.due_on == due_on
    assert case.events.count() == events
    assert not AuditEvent.objects.filter(action="case.due_date_set").exists()


@freeze_time("2026-05-12 10:00:00+02:00")
@pytest.mark.parametrize(
    "due_on", [datetime.date(2028, 5, 12), datetime.date(2062, 5, 12), datetime.date(9999, 12, 31)]
)
def test_a_due_date_more_than_two_years_ahead_is_refused_as_a_typo(
    make_case: Callable[..., Case], clerk: User, due_on: datetime.date
) -> None:
    case = make_case()
    with pytest.raises(CaseworkError, match="zwei Jahre") as refused:
        services.set_due_date(case=case, due_on=due_on, actor=clerk)
    assert "11.05.2028" in str(refused.value)  # the latest date that is accepted
    case.refresh_from_db()
    assert case.due_on != due_on


@freeze_time("2026-05-12 10:00:00+02:00")
def test_changing_the_due_date_is_in_the_internal_history(
    make_case: Callable[..., Case], clerk: User
) -> None:
    case = make_case()
    first = case.due_on
    assert first is not None
    Case.objects.filter(pk=case.pk).update(reminded_on=datetime.date(2026, 5, 1))
    services.set_due_date(case=case, due_on=datetime.date(2026, 5, 12), actor=clerk)  # today
    services.set_due_date(case=case, due_on=datetime.date(2028, 5, 11), actor=clerk)
    case.refresh_from_db()
    assert case.due_on == datetime.date(2028, 5, 11)
    assert case.reminded_on is None  # the next reminder counts from the new date
    changes = list(case.events.filter(kind=CaseEvent.Kind.DUE_DATE_SET))
    assert [c.data for c in changes] == [
        {"from": first.isoformat(), "to": "2026-05-12"},
        {"from": "2026-05-12", "to": "2028-05-11"},
    ]
    assert [c.due_dates for c in changes][1] == (
        datetime.date(2026, 5, 12),
        datetime.date(2028, 5, 11),
    )
    assert all(c.actor == clerk and not c.citizen_visible for c in changes)
    assert CaseEvent.Kind.DUE_DATE_SET not in [e.kind for e in citizen_timeline(case)]
    assert AuditEvent.objects.filter(action="case.due_date_set").count() == 2


@freeze_time("2026-05-12 10:00:00+02:00")
def test_setting_the_same_due_date_again_adds_no_history(
    make_case: Callable[..., Case], clerk: User
) -> None:
    case = make_case()
    events = case.events.count()
    assert case.due_on is not None
    services.set_due_date(case=case, due_on=case.due_on, actor=clerk)
    assert case.events.count() == events


def test_the_due_date_of_a_finished_case_cannot_change(
    case: Case, citizen: User, clerk: User
) -> None:
    services.withdraw_case(case=case, actor=citizen)
    with pytest.raises(TransitionError, match="Fälligkeit"):
        services.set_due_date(case=case, due_on=timezone.localdate(), actor=clerk)


def test_efile_titles_are_german_whatever_the_ui_language(
    case: Case, clerk: User, citizen: User
) -> None:
    from rathaus.records.models import RecordDocument

    pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    request = services.request_documents(
        case=case,
        description="Mietvertrag",
        due_on=timezone.localdate() + datetime.timedelta(days=7),
        actor=clerk,
    )
    with translation.override("en"):
        services.receive_documents(
            request=request, files=[("mietvertrag.pdf", "application/pdf", pdf)], actor=citizen
        )
        services.add_note(case=case, text="Rückfrage beim Vermieter", actor=clerk)
    assert (
        RecordDocument.objects.get(file=case.file, kind="upload").title
        == "Unterlage der antragstellenden Person: mietvertrag.pdf"
    )
    assert RecordDocument.objects.get(file=case.file, kind="note").title.startswith("Vermerk vom ")


def test_postal_vote_cases_for_another_voter_are_renamed_after_the_voter(
    make_case: Callable[..., Case],
) -> None:
    """Migration 0016: cases opened under the old rule named the authorised person."""
    import importlib

    from django.apps import apps

    from rathaus.catalog.models import Service

    migration = importlib.import_module(
        "rathaus.casework.migrations.0016_briefwahl_case_names_the_voter"
    )
    answers = {
        "applies_for": "other",
        "representative": {"given_names": "Erika", "family_name": "Muster"},
        "name": {"given_names": "Max", "family_name": "Mustermann"},
    }
    briefwahl = Service.objects.get(slug="briefwahl")
    old = make_case()
    renamed_by_hand = make_case()
    own = make_case()
    Case.objects.filter(pk__in=[old.pk, renamed_by_hand.pk]).update(
        service=briefwahl, particulars=answers, applicant_name="Erika Muster"
    )
    Case.objects.filter(pk=renamed_by_hand.pk).update(applicant_name="Max M.")
    Case.objects.filter(pk=own.pk).update(
        service=briefwahl,
        particulars={**answers, "applies_for": "self"},
        applicant_name="Erika Muster",
    )
    migration.name_the_voter(apps, None)
    names = dict(Case.objects.values_list("pk", "applicant_name"))
    assert names[old.pk] == "Max Mustermann"
    assert names[renamed_by_hand.pk] == "Max M."  # not what the old rule gave: left alone
    assert names[own.pk] == "Erika Muster"  # applied for oneself: not touched
