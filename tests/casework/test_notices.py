"""Decisions: notice templates, four-eyes rule, issuing (PDF/A, seal, ledger, mailbox, post)."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from rathaus.accounts.models import User
from rathaus.casework import notice_templates, permissions, services
from rathaus.casework.errors import (
    CaseworkError,
    ChangedMeanwhileError,
    NoticeTemplateError,
    PartyToCaseError,
    TransitionError,
)
from rathaus.casework.models import Case, CaseEvent, Notice, PostalDeliveryTask
from rathaus.casework.selectors import citizen_timeline
from rathaus.core.models import AuditEvent
from rathaus.documents.seal import seal_trust_roots, validate_seal
from rathaus.ledger.leaves import format_code
from rathaus.ledger.models import Entry
from rathaus.mailbox.models import Message
from tests.casework.revocations import revoke
from tests.fixtures.tsa import LocalTSA, local_tsa  # noqa: F401

S = Case.Status


@pytest.fixture(autouse=True)
def _fresh_templates() -> None:
    notice_templates.clear_caches()


def test_a_draft_is_filled_from_the_template_and_the_case(case: Case, clerk: User) -> None:
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    case.refresh_from_db()
    assert case.status == S.IN_REVIEW  # drafting starts the review
    assert notice.title == "Meldebescheinigung"
    assert "Mustermann" in notice.body and "27.03.1985" in notice.body
    assert case.number in notice.body
    assert notice.document_type == "residence-certificate"
    assert notice.outcome == Case.Outcome.GRANTED
    assert notice.status == Notice.Status.DRAFT


def test_issuing_renders_seals_logs_files_and_delivers_the_notice(
    case: Case, clerk: User, citizen: User
) -> None:
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    issued = services.issue_notice(notice=notice, actor=clerk)
    case.refresh_from_db()
    assert case.status == S.DECIDED and case.outcome == Case.Outcome.GRANTED
    assert case.decided_at is not None
    assert issued.status == Notice.Status.ISSUED
    pdf = issued.pdf.read()
    assert pdf.startswith(b"%PDF")
    status = validate_seal(pdf, trust_roots=seal_trust_roots())
    assert status.valid, status.problem
    entry = Entry.objects.get(code=issued.ledger_code)
    assert entry.document_sha256 == issued.sha256
    assert entry.document_type == "residence-certificate"
    assert issued.record_version is not None and issued.record_version.sha256 == issued.sha256
    message = Message.objects.get(owner=citizen, kind="notice")
    assert message.case_number == case.number
    assert message.attachments.get().sha256 == issued.sha256
    assert issued.mailbox_message == message
    assert not PostalDeliveryTask.objects.exists()
    assert AuditEvent.objects.filter(action="case.notice_issued", object_id=str(case.pk)).exists()
    shown = case.events.filter(citizen_visible=True).values_list("kind", flat=True)
    assert CaseEvent.Kind.NOTICE_ISSUED in shown


def test_opting_out_of_electronic_delivery_creates_a_postal_task(
    make_case: Callable[..., Case], clerk: User, citizen: User
) -> None:
    case = make_case(electronic_delivery=False)
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    issued = services.issue_notice(notice=notice, actor=clerk)
    assert issued.delivered_by_post
    assert issued.mailbox_message is None
    assert not Message.objects.filter(owner=citizen, kind="notice").exists()
    task = PostalDeliveryTask.objects.get(notice=issued)
    assert task.case == case and task.status == PostalDeliveryTask.Status.OPEN
    assert case.events.filter(kind=CaseEvent.Kind.POSTAL_DELIVERY).exists()
    # the posting date starts the deemed delivery: never before the notice existed
    before = timezone.localdate(issued.issued_at) - datetime.timedelta(days=1)
    with pytest.raises(CaseworkError, match="vor dem Erlass"):
        services.mark_posted(task=task, actor=clerk, sent_on=before)
    services.mark_posted(task=task, actor=clerk)
    task.refresh_from_db()
    assert task.status == PostalDeliveryTask.Status.SENT
    with pytest.raises(CaseworkError):
        services.mark_posted(task=task, actor=clerk)


@pytest.mark.parametrize("final_status", [S.CLOSED, S.WITHDRAWN])
def test_decisions_on_closed_cases_are_refused(
    case: Case, clerk: User, citizen: User, final_status: str
) -> None:
    if final_status == S.CLOSED:
        draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
        services.issue_notice(notice=draft, actor=clerk)
        services.transition(case=case, to_status=S.CLOSED, actor=clerk)
    else:
        draft = services.draft_notice(case=case, template_key="refused", actor=clerk)
        services.withdraw_case(case=case, actor=citizen)
    with pytest.raises(TransitionError, match=case.number):
        services.draft_notice(case=case, template_key="granted", actor=clerk)
    with pytest.raises(TransitionError, match=case.number):
        services.issue_notice(notice=draft, actor=clerk)
    case.refresh_from_db()
    assert case.status == final_status
    assert case.notices.filter(status=Notice.Status.ISSUED).count() == (
        1 if final_status == S.CLOSED else 0
    )


def _left_over_draft(notice: Notice) -> Notice:
    """A second draft beside ``notice``, as a double click left one before ``draft_notice``
    refused a second draft (such rows may still exist)."""
    twin = Notice.objects.get(pk=notice.pk)
    twin.pk = None
    twin.public_id = uuid.uuid4()
    twin._state.adding = True
    twin.save()
    return twin


def test_a_second_decision_on_a_decided_case_is_refused(case: Case, clerk: User) -> None:
    first = services.draft_notice(case=case, template_key="granted", actor=clerk)
    second = _left_over_draft(first)
    services.issue_notice(notice=first, actor=clerk)
    with pytest.raises(TransitionError, match=case.number):
        services.issue_notice(notice=second, actor=clerk)
    second.refresh_from_db()
    assert second.status == Notice.Status.DISCARDED


def test_a_case_waiting_for_the_citizen_cannot_be_decided(case: Case, clerk: User) -> None:
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    from django.utils import timezone

    services.request_documents(
        case=case, description="Ausweis", due_on=timezone.localdate(), actor=clerk
    )
    with pytest.raises(TransitionError):
        services.issue_notice(notice=notice, actor=clerk)


def test_a_template_placeholder_without_a_value_is_refused_by_name(
    make_case: Callable[..., Case], clerk: User
) -> None:
    case = make_case(particulars={"kind": "simple"})  # no name, birth date or address
    with pytest.raises(NoticeTemplateError, match=r"particulars\.name\.family_name"):
        services.draft_notice(case=case, template_key="granted", actor=clerk)
    assert not case.notices.exists()


def test_a_court_unknown_for_the_municipality_is_a_missing_placeholder(
    case: Case, clerk: User, tmp_path: Path
) -> None:
    courts = tmp_path / "courts.toml"
    courts.write_text('[[court]]\nname = "VG Anderswo"\nags = ["01001000"]\n')
    with override_settings(CASEWORK_COURTS_FILE=str(courts)):
        notice_templates.clear_caches()
        with pytest.raises(NoticeTemplateError, match="court"):
            services.draft_notice(case=case, template_key="refused", actor=clerk)
    notice_templates.clear_caches()


def test_edited_text_with_a_placeholder_is_refused(case: Case, clerk: User) -> None:
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    drafted = notice.body
    with pytest.raises(NoticeTemplateError, match=r"\{\{ applicant_name \}\}"):
        services.update_notice(
            notice=notice, actor=clerk, body="Sehr geehrte(r) {{ applicant_name }}"
        )
    notice.refresh_from_db()
    assert notice.body == drafted
    # the one placeholder a draft keeps is the date of the decision, filled in at issue
    assert notice_templates.leftover_placeholder(drafted) is None
    assert "{{ applicant_name }}" not in drafted


def test_instructions_left_in_the_template_text_block_the_issue(
    case: Case, clerk: User, second_clerk: User
) -> None:
    notice = services.draft_notice(case=case, template_key="refused", actor=clerk)
    assert "[Bitte" in notice.body
    with pytest.raises(NoticeTemplateError, match="Bitte"):
        services.submit_for_approval(notice=notice, actor=clerk)
    body = notice.body.replace(
        notice.body[notice.body.index("[Bitte") : notice.body.index("]") + 1],
        "Im Melderegister ist keine Person dieses Namens unter der Anschrift gemeldet.",
    )
    services.update_notice(notice=notice, actor=clerk, body=body)
    services.submit_for_approval(notice=notice, actor=clerk)


def test_four_eyes_notice_needs_a_second_clerk(case: Case, clerk: User, second_clerk: User) -> None:
    notice = services.draft_notice(case=case, template_key="refused", actor=clerk)
    assert notice.four_eyes
    start = notice.body.index("[Bitte")
    services.update_notice(
        notice=notice,
        actor=clerk,
        body=notice.body[:start]
        + "Kein Eintrag."
        + notice.body[notice.body.index("]", start) + 1 :],
    )
    with pytest.raises(CaseworkError, match="zweite"):
        services.issue_notice(notice=notice, actor=clerk)
    services.submit_for_approval(notice=notice, actor=clerk)
    with pytest.raises(CaseworkError, match="zweite"):
        services.approve_notice(notice=notice, actor=clerk)
    with pytest.raises(CaseworkError, match="zweite"):
        services.issue_notice(notice=notice, actor=clerk)
    services.approve_notice(notice=notice, actor=second_clerk)
    issued = services.issue_notice(notice=notice, actor=clerk)
    assert issued.approved_by == second_clerk
    case.refresh_from_db()
    assert case.outcome == Case.Outcome.REFUSED
    kinds = list(case.events.values_list("kind", flat=True))
    assert CaseEvent.Kind.NOTICE_SUBMITTED in kinds and CaseEvent.Kind.NOTICE_APPROVED in kinds


def test_a_clerk_who_edited_the_draft_cannot_approve_it(
    case: Case, clerk: User, second_clerk: User
) -> None:
    """Four eyes means two people who did not write the text: B returns A's draft, edits it
    and A sends it again; B's approval would be B approving B's own words."""
    notice = services.draft_notice(case=case, template_key="refused", actor=clerk)
    start = notice.body.index("[Bitte")
    end = notice.body.index("]", start) + 1
    notice = services.update_notice(
        notice=notice, actor=clerk, body=notice.body[:start] + "Kein Eintrag." + notice.body[end:]
    )
    services.submit_for_approval(notice=notice, actor=clerk)
    services.return_notice(notice=notice, actor=second_clerk, reason="Begründung ergänzen")
    services.update_notice(notice=notice, actor=second_clerk, body=notice.body + " Ergänzt.")
    services.submit_for_approval(notice=notice, actor=clerk)
    notice.refresh_from_db()
    assert not permissions.can_approve_notice(second_clerk, notice)
    with pytest.raises(CaseworkError, match="bearbeitet"):
        services.approve_notice(notice=notice, actor=second_clerk)
    assert notice.edited_by.get() == second_clerk  # the drafter's own edits are not listed


def _meldebescheinigung_with(tmp_path: Path, casework_toml: str, granted_extra: str = "") -> str:
    """A services folder with the Meldebescheinigung's grant template (plus ``granted_extra``)
    and the given ``casework.toml``; for CASEWORK_SERVICES_DIR."""
    source = notice_templates.services_dir() / "meldebescheinigung" / "notices" / "granted.toml"
    folder = tmp_path / "meldebescheinigung"
    (folder / "notices").mkdir(parents=True)
    (folder / "notices" / "granted.toml").write_text(source.read_text() + granted_extra)
    (folder / "casework.toml").write_text(casework_toml)
    return str(tmp_path)


def test_casework_toml_can_require_four_eyes_for_every_notice(
    case: Case, clerk: User, tmp_path: Path
) -> None:
    folder = _meldebescheinigung_with(tmp_path, "four_eyes = true\nprocessing_days = 3\n")
    with override_settings(CASEWORK_SERVICES_DIR=folder):
        notice_templates.clear_caches()
        notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    assert notice.four_eyes


def test_a_template_cannot_lift_the_four_eyes_rule_of_its_service(
    case: Case, clerk: User, tmp_path: Path
) -> None:
    folder = _meldebescheinigung_with(
        tmp_path, "four_eyes = true\nprocessing_days = 3\n", granted_extra="\nfour_eyes = false\n"
    )
    with override_settings(CASEWORK_SERVICES_DIR=folder):
        notice_templates.clear_caches()
        notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    assert notice.four_eyes


def test_a_partial_grant_drafted_from_its_own_template_needs_the_refusals_four_eyes(
    case: Case, clerk: User, tmp_path: Path
) -> None:
    """A partial grant is a partial refusal: drafted from a ``partly_granted`` template that
    says nothing of four eyes, it still needs the second clerk the service's refusals need."""
    source = notice_templates.services_dir() / "meldebescheinigung"
    folder = tmp_path / "meldebescheinigung"
    (folder / "notices").mkdir(parents=True)
    (folder / "casework.toml").write_text((source / "casework.toml").read_text())
    for name in ("granted.toml", "refused.toml"):
        (folder / "notices" / name).write_text((source / "notices" / name).read_text())
    refused = (source / "notices" / "refused.toml").read_text()
    assert "four_eyes = true\n" in refused
    partly = (
        refused.replace('outcome = "refused"', 'outcome = "partly_granted"')
        .replace("four_eyes = true\n", "")
        .replace(" [Bitte die Gründe des Einzelfalls ergänzen.]", "")
    )
    (folder / "notices" / "partly.toml").write_text(partly)
    with override_settings(CASEWORK_SERVICES_DIR=str(tmp_path)):
        notice_templates.clear_caches()
        try:
            draft = services.draft_notice(case=case, template_key="partly", actor=clerk)
            assert draft.four_eyes
            with pytest.raises(CaseworkError):
                services.issue_notice(notice=draft, actor=clerk)  # not by the drafter alone
        finally:
            notice_templates.clear_caches()
    draft.refresh_from_db()
    assert draft.status == Notice.Status.DRAFT


def test_a_revoked_notice_reopens_the_case_and_is_logged(case: Case, clerk: User) -> None:
    notice = services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )
    with pytest.raises(CaseworkError):
        services.revoke_notice(notice=notice, reason=" ", actor=clerk)
    revoked = revoke(notice=notice, reason="Falsche Anschrift", actor=clerk)
    assert revoked.status == Notice.Status.REVOKED
    case.refresh_from_db()
    assert case.status == S.IN_REVIEW and case.outcome == ""
    assert Entry.objects.filter(kind=Entry.Kind.REVOKE, document_sha256=notice.sha256).exists()
    services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )


def test_broken_templates_are_reported_naming_service_and_template(tmp_path: Path) -> None:
    folder = tmp_path / "beispiel" / "notices"
    folder.mkdir(parents=True)
    (folder / "granted.toml").write_text(
        'title_de = "T"\ntitle_en = "T"\noutcome = "granted"\nlegal_basis = "§ 1"\n'
        'remedy = "R"\nbody = "Hallo {{ unbekannt }}"\n'
    )
    (folder / "refused.toml").write_text('title_de = "T"\noutcome = "maybe"\n')
    with override_settings(CASEWORK_SERVICES_DIR=str(tmp_path)):
        errors = [str(e) for e in notice_templates.check_all()]
    notice_templates.clear_caches()
    assert len(errors) == 1  # the first broken file of a service stops its reading
    assert "beispiel" in errors[0] and "granted" in errors[0] and "unbekannt" in errors[0]


def test_the_shipped_templates_are_valid() -> None:
    assert notice_templates.check_all() == []
    for slug in ("wohnsitz-anmelden", "bewohnerparkausweis", "briefwahl", "meldebescheinigung"):
        outcomes = {t.outcome for t in notice_templates.templates_for(slug).values()}
        assert {"granted", "refused"} <= outcomes, slug


def test_drafts_discarded_by_a_withdrawal_are_in_the_internal_history(
    case: Case, clerk: User, citizen: User
) -> None:
    draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
    services.withdraw_case(case=case, actor=citizen)
    draft.refresh_from_db()
    assert draft.status == Notice.Status.DISCARDED
    event = case.events.get(kind=CaseEvent.Kind.NOTICE_DISCARDED)
    assert event.data == {"notice": str(draft.public_id), "status": Notice.Status.DRAFT}
    assert event.note == draft.title
    assert event.actor == citizen and not event.citizen_visible
    assert CaseEvent.Kind.NOTICE_DISCARDED not in [e.kind for e in citizen_timeline(case)]


def test_a_draft_left_over_when_another_notice_is_issued_is_in_the_internal_history(
    case: Case, clerk: User
) -> None:
    granted = services.draft_notice(case=case, template_key="granted", actor=clerk)
    left_over = _left_over_draft(granted)
    issued = services.issue_notice(notice=granted, actor=clerk)
    event = case.events.get(kind=CaseEvent.Kind.NOTICE_DISCARDED)
    assert event.data == {
        "notice": str(left_over.public_id),
        "status": Notice.Status.DRAFT,
        "superseded_by": str(issued.public_id),
    }
    assert not event.citizen_visible
    assert AuditEvent.objects.filter(action="case.notice_discarded").count() == 1


def test_the_rechtsbehelfsbelehrung_of_a_notice_cannot_be_removed(case: Case, clerk: User) -> None:
    notice = services.draft_notice(case=case, template_key="refused", actor=clerk)
    with pytest.raises(NoticeTemplateError, match="Rechtsbehelfsbelehrung"):
        services.update_notice(notice=notice, actor=clerk, remedy=" ")
    notice.refresh_from_db()
    assert "Klage" in notice.remedy


def test_a_certificate_turned_into_a_refusal_needs_a_rechtsbehelfsbelehrung(
    case: Case, clerk: User
) -> None:
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    assert notice.remedy == ""  # a certificate has none
    with pytest.raises(NoticeTemplateError, match="Rechtsbehelfsbelehrung"):
        services.update_notice(notice=notice, actor=clerk, outcome=Case.Outcome.REFUSED)


def test_a_permit_template_without_a_rechtsbehelfsbelehrung_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "beispiel" / "notices"
    folder.mkdir(parents=True)
    (folder / "granted.toml").write_text(
        'title_de = "T"\ntitle_en = "T"\noutcome = "granted"\ndocument_type = "permit"\n'
        'legal_basis = "§ 1"\nbody = "Erlaubt."\n'
    )
    with override_settings(CASEWORK_SERVICES_DIR=str(tmp_path)):
        errors = [str(e) for e in notice_templates.check_all()]
    notice_templates.clear_caches()
    assert len(errors) == 1 and "remedy" in errors[0]


def test_a_notice_is_filled_in_german_whatever_the_clerks_language(
    case: Case, clerk: User, tmp_path: Path
) -> None:
    folder = tmp_path / case.service.slug / "notices"
    folder.mkdir(parents=True)
    (folder / "granted.toml").write_text(
        'title_de = "T"\ntitle_en = "T"\noutcome = "granted"\ndocument_type = "certificate"\n'
        'legal_basis = "§ 1"\nbody = "Geboren am {{ particulars.birth_date|date:\\"j. F Y\\" }}"\n'
    )
    with override_settings(CASEWORK_SERVICES_DIR=str(tmp_path)), translation.override("en"):
        notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    notice_templates.clear_caches()
    assert notice.body == "Geboren am 27. März 1985"


def test_a_revoked_notice_is_no_longer_posted(make_case: Callable[..., Case], clerk: User) -> None:
    case = make_case(electronic_delivery=False)
    issued = services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )
    task = PostalDeliveryTask.objects.get(notice=issued)
    revoke(notice=issued, reason="Falsche Anschrift", actor=clerk)
    task.refresh_from_db()
    assert task.status == PostalDeliveryTask.Status.CANCELLED
    with pytest.raises(CaseworkError, match="aufgehoben"):
        services.mark_posted(task=task, actor=clerk)
    event = case.events.get(kind=CaseEvent.Kind.NOTICE_REVOKED)
    assert event.data["postal_delivery_cancelled"] is True
    assert AuditEvent.objects.filter(action="case.postal_delivery_cancelled").exists()


def test_a_case_is_not_closed_before_its_notice_has_been_posted(
    make_case: Callable[..., Case], clerk: User
) -> None:
    case = make_case(electronic_delivery=False)
    issued = services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )
    with pytest.raises(TransitionError, match="Post"):
        services.transition(case=case, to_status=S.CLOSED, actor=clerk)
    case.refresh_from_db()
    assert case.status == S.DECIDED and not case.file.is_closed
    services.mark_posted(task=PostalDeliveryTask.objects.get(notice=issued), actor=clerk)
    services.transition(case=case, to_status=S.CLOSED, actor=clerk)
    case.refresh_from_db()
    assert case.status == S.CLOSED and case.file.is_closed


def test_turning_a_grant_into_a_refusal_brings_the_four_eyes_rule_of_refusals(
    case: Case, clerk: User, second_clerk: User
) -> None:
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    assert not notice.four_eyes  # the refusal template of the service requires four eyes
    notice = services.update_notice(
        notice=notice, actor=clerk, outcome=Case.Outcome.REFUSED, remedy="Klage beim VG."
    )
    assert notice.four_eyes
    with pytest.raises(CaseworkError, match="zweite"):
        services.issue_notice(notice=notice, actor=clerk)
    services.submit_for_approval(notice=notice, actor=clerk)
    services.approve_notice(notice=notice, actor=second_clerk)
    assert services.issue_notice(notice=notice, actor=clerk).outcome == Case.Outcome.REFUSED


def test_a_partial_grant_brings_the_four_eyes_rule_of_refusals(case: Case, clerk: User) -> None:
    """A partial grant refuses part of what was asked for: it needs a second clerk wherever a
    refusal does (the service has no template of its own for partial grants)."""
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    notice = services.update_notice(
        notice=notice, actor=clerk, outcome=Case.Outcome.PARTLY_GRANTED, remedy="Klage beim VG."
    )
    assert notice.four_eyes
    with pytest.raises(CaseworkError, match="zweite"):
        services.issue_notice(notice=notice, actor=clerk)


@pytest.mark.parametrize("outcome", [Case.Outcome.REFUSED, Case.Outcome.PARTLY_GRANTED])
def test_a_certificate_turned_into_a_refusal_is_not_logged_as_a_certificate(
    case: Case, clerk: User, second_clerk: User, outcome: str
) -> None:
    """GovChain and /pruefen/ show the logged type: a refusal is no Meldebescheinigung."""
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    notice = services.update_notice(
        notice=notice,
        actor=clerk,
        outcome=outcome,
        title="Ablehnung",
        body="Ihr Antrag wird abgelehnt.",
        remedy="Klage beim VG.",
    )
    services.submit_for_approval(notice=notice, actor=clerk)
    services.approve_notice(notice=notice, actor=second_clerk)
    issued = services.issue_notice(notice=notice, actor=clerk)
    assert Entry.objects.get(code=issued.ledger_code).document_type == "notice"


def test_a_refusal_turned_back_into_a_grant_is_a_certificate_again(case: Case, clerk: User) -> None:
    notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
    notice = services.update_notice(
        notice=notice, actor=clerk, outcome=Case.Outcome.REFUSED, remedy="Klage beim VG."
    )
    assert notice.document_type == "notice"
    notice = services.update_notice(notice=notice, actor=clerk, outcome=Case.Outcome.GRANTED)
    assert notice.document_type == "residence-certificate"


def test_changing_the_legal_basis_or_the_remedy_of_a_draft_is_in_the_audit_trail(
    case: Case, clerk: User
) -> None:
    notice = services.draft_notice(case=case, template_key="refused", actor=clerk)
    old_remedy, old_basis = notice.remedy, notice.legal_basis
    services.update_notice(
        notice=notice, actor=clerk, remedy="Kein Rechtsbehelf.", legal_basis="§ 1 Nichts"
    )
    event = AuditEvent.objects.filter(action="case.notice_updated").latest("id")
    assert (event.before["remedy"], event.before["legal_basis"]) == (old_remedy, old_basis)
    assert (event.after["remedy"], event.after["legal_basis"]) == (
        "Kein Rechtsbehelf.",
        "§ 1 Nichts",
    )


def test_a_notice_is_announced_by_the_rule_its_service_names(
    case: Case, clerk: User, tmp_path: Path
) -> None:
    """casework.toml's ``announcement`` picks the days of MAILBOX_ANNOUNCEMENT_DAYS."""
    folder = _meldebescheinigung_with(tmp_path, 'announcement = "vwvfg_41"\nprocessing_days = 3\n')
    with override_settings(
        CASEWORK_SERVICES_DIR=folder,
        MAILBOX_ANNOUNCEMENT_DAYS={"default": 3, "vwvfg_41": 4},
    ):
        notice_templates.clear_caches()
        notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
        issued = services.issue_notice(notice=notice, actor=clerk)
    message = Message.objects.get(pk=issued.mailbox_message_id)
    assert message.legal_basis == "vwvfg_41"
    provided = timezone.localtime(message.provided_at).date()
    assert message.announced_on == provided + datetime.timedelta(days=4)


def test_an_announcement_rule_that_is_not_configured_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "meldebescheinigung"
    folder.mkdir()
    (folder / "casework.toml").write_text('announcement = "gibt_es_nicht"\n')
    with override_settings(CASEWORK_SERVICES_DIR=str(tmp_path)):
        notice_templates.clear_caches()
        with pytest.raises(NoticeTemplateError, match="gibt_es_nicht"):
            notice_templates.workflow_for("meldebescheinigung")


def _posted_notice(make_case: Callable[..., Case], clerk: User) -> tuple[Case, Notice]:
    """A notice issued to a citizen who opted out of electronic delivery, and posted."""
    case = make_case(electronic_delivery=False)
    issued = services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )
    services.mark_posted(
        task=PostalDeliveryTask.objects.get(notice=issued, kind="notice"), actor=clerk
    )
    return case, issued


def _pdf_text(data: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def test_revoking_a_posted_notice_files_a_revocation_letter_to_be_posted(
    make_case: Callable[..., Case], clerk: User, citizen: User
) -> None:
    from rathaus.records.services import read_version

    case, issued = _posted_notice(make_case, clerk)
    revoke(
        notice=issued,
        reason="Falsche Anschrift angegeben",
        legal_basis="§ 48 Abs. 1 VwVfG NRW",
        ledger_reason="annulled",
        actor=clerk,
    )
    task = PostalDeliveryTask.objects.get(kind=PostalDeliveryTask.Kind.REVOCATION)
    issued.refresh_from_db()
    assert issued.revocation_letter == task.letter and issued.revocation_message is None
    assert task.case == case and task.notice == issued
    assert task.status == PostalDeliveryTask.Status.OPEN
    assert task.letter is not None and task.letter.document.file == case.file
    assert task.letter.document.kind == "correspondence"
    issued_on = timezone.localdate(issued.issued_at).strftime("%d.%m.%Y")
    assert task.title == f"Widerruf/Rücknahme des Bescheids vom {issued_on}"
    pdf = read_version(task.letter)
    assert pdf.startswith(b"%PDF")
    status = validate_seal(pdf, trust_roots=seal_trust_roots())
    assert status.valid, status.problem
    text = " ".join(_pdf_text(pdf).split())
    assert f"Widerruf/Rücknahme des Bescheids vom {issued_on}" in text
    assert issued.title in text and case.number in text and case.file.reference in text
    assert "Falsche Anschrift angegeben" in text
    assert "erneut geprüft" in text
    # an administrative act of its own: legal basis, remedies and a GovChain mark
    assert "Rechtsgrundlage § 48 Abs. 1 VwVfG NRW" in text
    # the certificate had none: taking it back gets the remedies of the service's refusal
    assert issued.remedy == ""
    remedy = services.revocation_remedy(case, issued)
    assert "Klage" in remedy
    assert "Rechtsbehelfsbelehrung" in text and " ".join(remedy.split()) in text
    assert format_code(issued.revocation_ledger_code) in text
    logged = Entry.objects.get(document_sha256=issued.revocation_sha256)
    assert logged.document_type == "revocation" and logged.code == issued.revocation_ledger_code
    assert Entry.objects.get(kind=Entry.Kind.REVOKE, document_sha256=issued.sha256).reason == (
        "annulled"
    )
    assert AuditEvent.objects.filter(action="case.revocation_issued").count() == 1
    waiting = case.events.get(kind=CaseEvent.Kind.REVOCATION_POSTAL)
    assert not waiting.citizen_visible
    assert waiting.data["document_version"] == task.letter_id
    assert AuditEvent.objects.filter(
        action="case.revocation_letter_to_post", object_id=str(task.pk)
    ).exists()
    assert not Message.objects.filter(owner=citizen).exists()  # the citizen chose the post

    services.mark_posted(task=task, actor=clerk)
    task.refresh_from_db()
    assert task.status == PostalDeliveryTask.Status.SENT and task.sent_by == clerk
    assert case.events.filter(kind=CaseEvent.Kind.REVOCATION_POSTED).exists()
    assert AuditEvent.objects.filter(action="case.revocation_posted").exists()
    with pytest.raises(CaseworkError, match="bereits"):
        services.mark_posted(task=task, actor=clerk)


def test_a_revocation_letter_is_not_posted_before_it_was_written(
    make_case: Callable[..., Case], clerk: User
) -> None:
    _case, issued = _posted_notice(make_case, clerk)
    revoke(notice=issued, reason="Irrtum", actor=clerk)
    task = PostalDeliveryTask.objects.get(kind=PostalDeliveryTask.Kind.REVOCATION)
    with pytest.raises(CaseworkError, match="Widerrufsschreiben"):
        services.mark_posted(
            task=task, actor=clerk, sent_on=timezone.localdate() - datetime.timedelta(days=1)
        )


def test_an_electronic_delivery_case_gets_the_revocation_as_a_notice_in_the_mailbox(
    case: Case, clerk: User, citizen: User
) -> None:
    from rathaus.records.services import read_version

    issued = services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )
    revoke(notice=issued, reason="Irrtum", legal_basis="§ 49 Abs. 2 VwVfG NRW", actor=clerk)
    issued.refresh_from_db()
    assert not PostalDeliveryTask.objects.exists()
    assert not case.events.filter(kind=CaseEvent.Kind.REVOCATION_POSTAL).exists()
    message = issued.revocation_message
    assert message is not None and message.owner == citizen
    # delivered with legal effect: § 9 OZG announcement like the notice it revokes
    assert message.kind == Message.Kind.NOTICE and message.legal_effect
    assert message.announced_on is not None and message.case_number == case.number
    assert message.subject.startswith("Widerruf/Rücknahme des Bescheids vom")
    assert "Irrtum" in message.body
    attachment = message.attachments.get()
    pdf = attachment.file.read()
    assert pdf == read_version(issued.revocation_letter)
    assert issued.revocation_letter.document.file == case.file
    status = validate_seal(pdf, trust_roots=seal_trust_roots())
    assert status.valid, status.problem
    text = " ".join(_pdf_text(pdf).split())
    assert "§ 49 Abs. 2 VwVfG NRW" in text and "Rechtsbehelfsbelehrung" in text
    assert format_code(issued.revocation_ledger_code) in text
    logged = Entry.objects.get(document_sha256=hashlib.sha256(pdf).hexdigest())
    assert logged.document_type == "revocation" and logged.kind == Entry.Kind.ISSUE
    # only the notice itself and its revocation went to the mailbox, no extra information
    assert list(Message.objects.filter(owner=citizen).values_list("kind", flat=True)) == [
        Message.Kind.NOTICE,
        Message.Kind.NOTICE,
    ]


def test_a_revocation_keeps_the_remedy_of_the_notice_it_revokes(case: Case, clerk: User) -> None:
    notice = services.draft_notice(case=case, template_key="refused", actor=clerk)
    notice = services.update_notice(
        notice=notice, actor=clerk, remedy="Widerspruch beim Bürgeramt."
    )
    assert services.revocation_remedy(case, notice) == "Widerspruch beim Bürgeramt."


def test_a_notice_revoked_before_posting_gets_no_revocation_letter(
    make_case: Callable[..., Case], clerk: User
) -> None:
    case = make_case(electronic_delivery=False)
    issued = services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )
    revoke(notice=issued, reason="Irrtum", actor=clerk)
    assert list(PostalDeliveryTask.objects.values_list("kind", "status")) == [
        (PostalDeliveryTask.Kind.NOTICE, PostalDeliveryTask.Status.CANCELLED)
    ]
    assert not case.file.documents.filter(kind="correspondence").exists()
    issued.refresh_from_db()
    assert issued.revocation_ledger_code == "" and issued.revocation_letter is None
    assert not Entry.objects.filter(document_type="revocation").exists()


def test_a_case_is_not_closed_before_its_revocation_letter_has_been_posted(
    make_case: Callable[..., Case], clerk: User
) -> None:
    case, issued = _posted_notice(make_case, clerk)
    revoke(notice=issued, reason="Irrtum", actor=clerk)
    letter = PostalDeliveryTask.objects.get(kind=PostalDeliveryTask.Kind.REVOCATION)
    again = services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )
    services.mark_posted(task=PostalDeliveryTask.objects.get(notice=again), actor=clerk)
    with pytest.raises(TransitionError, match="Widerruf"):
        services.transition(case=case, to_status=S.CLOSED, actor=clerk)
    case.refresh_from_db()
    assert case.status == S.DECIDED and not case.file.is_closed
    services.mark_posted(task=letter, actor=clerk)
    services.transition(case=case, to_status=S.CLOSED, actor=clerk)
    case.refresh_from_db()
    assert case.status == S.CLOSED


def test_a_notice_that_cannot_be_logged_is_not_issued(
    case: Case, clerk: User, citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rathaus.ledger import services as ledger_services

    def taken(**kwargs: Any) -> None:
        raise ledger_services.CodeTakenError("taken")

    monkeypatch.setattr(ledger_services, "append", taken)  # every fresh code collides
    draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
    with pytest.raises(CaseworkError, match="nicht protokolliert"):
        services.issue_notice(notice=draft, actor=clerk)
    draft.refresh_from_db()
    assert draft.status == Notice.Status.DRAFT
    assert not Message.objects.filter(owner=citizen).exists()


def test_a_notice_that_cannot_be_sealed_is_not_issued(
    case: Case,
    clerk: User,
    citizen: User,
    settings: Any,
    local_tsa: LocalTSA,  # noqa: F811
) -> None:
    from rathaus.records.services import read_version

    settings.DOCUMENTS_TSA_URL = local_tsa.url
    settings.DOCUMENTS_TSA_REQUIRED = True
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(local_tsa.ca_pem)
    local_tsa.answer = "refuse"
    draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
    with pytest.raises(CaseworkError, match="Zeitstempeldienst"):
        services.issue_notice(notice=draft, actor=clerk)
    draft.refresh_from_db()
    case.refresh_from_db()
    assert draft.status == Notice.Status.DRAFT and case.status == S.IN_REVIEW
    assert not Entry.objects.exists() and not Message.objects.filter(owner=citizen).exists()

    local_tsa.answer = "ok"
    issued = services.issue_notice(notice=draft, actor=clerk)
    assert issued.record_version is not None
    status = validate_seal(read_version(issued.record_version), trust_roots=seal_trust_roots())
    assert status.valid and status.timestamp is not None  # PAdES B-T


def test_a_notice_counts_as_provided_when_it_reaches_the_mailbox_not_when_rendering_began(
    case: Case, clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendering and sealing take a moment: a notice issued just before midnight is made
    available after it, and its Bekanntgabe counts from that day."""
    from freezegun import freeze_time

    from rathaus.casework import notice_pdf

    real = notice_pdf.render_notice_pdf
    with freeze_time("2026-11-23 22:59:59") as frozen:  # 23:59:59 in Berlin

        def slow(**kwargs: Any) -> bytes:
            pdf = real(**kwargs)
            frozen.tick(datetime.timedelta(seconds=2))  # past midnight in Berlin
            return pdf

        monkeypatch.setattr(notice_pdf, "render_notice_pdf", slow)
        notice = services.draft_notice(case=case, template_key="granted", actor=clerk)
        issued = services.issue_notice(notice=notice, actor=clerk)
    message = Message.objects.get(pk=issued.mailbox_message_id)
    assert timezone.localtime(message.provided_at).date() == datetime.date(2026, 11, 24)
    assert message.announced_on == datetime.date(2026, 11, 27)


def test_a_revocation_counts_as_provided_when_it_reaches_the_mailbox(
    case: Case, clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for the notice: the Aufhebungsbescheid rendered across midnight is provided after."""
    from freezegun import freeze_time

    from rathaus.casework import notice_pdf

    real = notice_pdf.render_revocation_pdf
    with freeze_time("2026-11-23 22:59:59") as frozen:  # 23:59:59 in Berlin
        issued = services.issue_notice(
            notice=services.draft_notice(case=case, template_key="granted", actor=clerk),
            actor=clerk,
        )

        def slow(**kwargs: Any) -> bytes:
            pdf = real(**kwargs)
            frozen.tick(datetime.timedelta(seconds=2))  # past midnight in Berlin
            return pdf

        monkeypatch.setattr(notice_pdf, "render_revocation_pdf", slow)
        revoke(notice=issued, reason="Irrtum", legal_basis="§ 49 Abs. 2 VwVfG NRW", actor=clerk)
    issued.refresh_from_db()
    message = issued.revocation_message
    assert message is not None
    assert timezone.localtime(message.provided_at).date() == datetime.date(2026, 11, 24)


def test_the_polling_card_notice_names_whom_it_is_for() -> None:
    """Applied for another voter (§ 27 Abs. 3 BWahlO), the notice reaches the authorised
    person's mailbox and must not address them as the voter."""
    granted = notice_templates.templates_for("briefwahl")["granted"]
    values = {
        "opened_on": "01.09.2029",
        "case_number": "2029-000001",
        "applicant_name": "Max Mustermann",
        "authority_name": "Wahlamt",
    }
    for_self = granted.fill({**values, "particulars": {"applies_for": "self"}})["body"]
    for_other = granted.fill({**values, "particulars": {"applies_for": "other"}})["body"]
    assert "wird Ihnen, Max Mustermann, ein Wahlschein erteilt" in for_self
    assert "der wahlberechtigten Person Max Mustermann, für die Sie" in for_other
    assert "Ihnen, Max Mustermann" not in for_other


def test_the_audit_trail_records_the_outcome_a_case_had_before_its_decision(
    case: Case, clerk: User
) -> None:
    services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )
    decided = AuditEvent.objects.get(
        action="case.status_changed", object_id=str(case.pk), after__status="decided"
    )
    assert decided.before["outcome"] == ""
    assert decided.after["outcome"] == Case.Outcome.GRANTED


def test_the_certificate_states_the_register_on_the_day_it_is_issued(
    case: Case, clerk: User
) -> None:
    from freezegun import freeze_time

    drafted_on = timezone.localdate()
    draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
    assert "Stand des Melderegisters am {{ decided_on }} wieder" in draft.body
    with freeze_time(timezone.now() + datetime.timedelta(days=3)):
        issued = services.issue_notice(notice=draft, actor=clerk)
    issued_on = timezone.localdate(issued.issued_at)
    assert issued_on != drafted_on
    assert f"Stand des Melderegisters am {issued_on:%d.%m.%Y}" in issued.body
    assert f"am {issued_on:%d.%m.%Y}" in _pdf_text(issued.pdf.read())


def test_an_approved_text_gets_the_date_of_its_issue_and_nothing_else_changes(
    case: Case, clerk: User, second_clerk: User, tmp_path: Path
) -> None:
    from freezegun import freeze_time

    folder = _meldebescheinigung_with(tmp_path, "four_eyes = true\nprocessing_days = 3\n")
    with override_settings(CASEWORK_SERVICES_DIR=folder):
        notice_templates.clear_caches()
        draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
        services.submit_for_approval(notice=draft, actor=clerk)
        approved = services.approve_notice(notice=draft, actor=second_clerk)
        with freeze_time(timezone.now() + datetime.timedelta(days=3)):
            issued = services.issue_notice(notice=draft, actor=clerk)
    issued_on = f"{timezone.localdate(issued.issued_at):%d.%m.%Y}"
    assert f"Stand des Melderegisters am {issued_on} wieder" in issued.body
    assert issued.body == approved.body.replace("{{ decided_on }}", issued_on)
    assert issued.approved_text_sha256 == approved.approved_text_sha256


def test_a_draft_keeps_the_decision_date_as_a_placeholder_it_may_be_saved_with(
    case: Case, clerk: User
) -> None:
    draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
    with pytest.raises(NoticeTemplateError, match="applicant_name"):
        services.update_notice(notice=draft, body="{{ applicant_name }}", actor=clerk)
    saved = services.update_notice(
        notice=draft, body=draft.body + "\nAusgestellt am {{decided_on}}.", actor=clerk
    )
    services.submit_for_approval(notice=saved, actor=clerk)  # not a placeholder left over
    issued = services.issue_notice(notice=saved, actor=clerk)
    assert f"Ausgestellt am {timezone.localdate(issued.issued_at):%d.%m.%Y}." in issued.body


# --- revocations under the four-eyes rule ------------------------------------------------------


def _issued_grant(case: Case, clerk: User) -> Notice:
    return services.issue_notice(
        notice=services.draft_notice(case=case, template_key="granted", actor=clerk), actor=clerk
    )


def test_a_service_with_four_eyes_for_every_notice_needs_them_for_a_revocation_too(
    case: Case, clerk: User, second_clerk: User, tmp_path: Path
) -> None:
    folder = _meldebescheinigung_with(tmp_path, "four_eyes = true\nprocessing_days = 3\n")
    with override_settings(CASEWORK_SERVICES_DIR=folder):
        notice_templates.clear_caches()
        draft = services.draft_notice(case=case, template_key="granted", actor=clerk)
        services.submit_for_approval(notice=draft, actor=clerk)
        services.approve_notice(notice=draft, actor=second_clerk)
        issued = services.issue_notice(notice=draft, actor=clerk)
        with pytest.raises(CaseworkError, match="zweite"):
            services.revoke_notice(
                notice=issued, reason="Versehen", legal_basis="§ 49 VwVfG NRW", actor=clerk
            )
    issued.refresh_from_db()
    assert issued.status == Notice.Status.ISSUED


def test_revoking_a_grant_needs_four_eyes_where_a_refusal_does(
    case: Case, clerk: User, tmp_path: Path
) -> None:
    """The shipped Meldebescheinigung: grants need one clerk, refusals two. Taking back a grant
    burdens the citizen like a refusal."""
    issued = _issued_grant(case, clerk)
    assert not issued.four_eyes
    assert notice_templates.four_eyes_for_outcome("meldebescheinigung", "refused")
    assert services.revocation_needs_four_eyes(issued)
    with pytest.raises(CaseworkError):
        services.revoke_notice(notice=issued, reason="Versehen", actor=clerk)
    # a service that needs no second clerk for anything: one clerk revokes
    folder = _meldebescheinigung_with(tmp_path, "four_eyes = false\nprocessing_days = 3\n")
    with override_settings(CASEWORK_SERVICES_DIR=folder):
        notice_templates.clear_caches()
        assert not services.revocation_needs_four_eyes(issued)
        revoked = services.revoke_notice(notice=issued, reason="Versehen", actor=clerk)
    assert revoked.status == Notice.Status.REVOKED and revoked.revoked_by == clerk


def test_a_requested_revocation_is_carried_out_when_a_second_clerk_confirms_it(
    case: Case, clerk: User, second_clerk: User, citizen: User
) -> None:
    issued = _issued_grant(case, clerk)
    requested = services.request_revocation(
        notice=issued,
        reason="Falsche Anschrift",
        legal_basis="§ 48 Abs. 1 VwVfG NRW",
        ledger_reason="annulled",
        actor=clerk,
    )
    assert requested.status == Notice.Status.ISSUED and requested.revocation_pending
    case.refresh_from_db()
    assert case.status == S.DECIDED  # nothing revoked yet
    assert not Entry.objects.filter(kind=Entry.Kind.REVOKE).exists()
    assert not Message.objects.filter(owner=citizen, subject__startswith="Aufhebung").exists()
    with pytest.raises(CaseworkError, match="zweite"):
        services.confirm_revocation(notice=issued, actor=clerk)  # not the one who asked
    with pytest.raises(CaseworkError, match="Bestätigung"):
        services.request_revocation(notice=issued, reason="Noch einmal", actor=second_clerk)
    assert permissions.can_confirm_revocation(second_clerk, requested)
    assert not permissions.can_confirm_revocation(clerk, requested)

    revoked = services.confirm_revocation(
        notice=issued, actor=second_clerk, version=requested.version
    )
    assert revoked.status == Notice.Status.REVOKED
    assert revoked.revocation_requested_by == clerk
    assert revoked.revocation_confirmed_by == second_clerk
    assert revoked.revoked_by == second_clerk
    assert revoked.revocation_reason == "Falsche Anschrift"
    assert revoked.revocation_legal_basis == "§ 48 Abs. 1 VwVfG NRW"
    entry = Entry.objects.get(kind=Entry.Kind.REVOKE, document_sha256=issued.sha256)
    assert entry.reason == "annulled"
    assert revoked.revocation_message is not None  # the Aufhebungsbescheid, as before
    case.refresh_from_db()
    assert case.status == S.IN_REVIEW and case.outcome == ""
    audit = {
        event.action: event
        for event in AuditEvent.objects.filter(
            action__in=("case.notice_revocation_requested", "case.notice_revoked")
        )
    }
    assert audit["case.notice_revocation_requested"].actor == clerk
    assert audit["case.notice_revoked"].actor == second_clerk
    assert audit["case.notice_revoked"].after["requested_by"] == clerk.pk
    assert audit["case.notice_revoked"].after["confirmed_by"] == second_clerk.pk
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds.index(CaseEvent.Kind.REVOCATION_REQUESTED) < kinds.index(
        CaseEvent.Kind.NOTICE_REVOKED
    )


def test_a_rejected_revocation_leaves_the_notice_issued(
    case: Case, clerk: User, second_clerk: User
) -> None:
    issued = _issued_grant(case, clerk)
    services.request_revocation(notice=issued, reason="Versehen", actor=clerk)
    with pytest.raises(TransitionError, match="Bestätigung"):
        services.transition(case=case, to_status=S.CLOSED, actor=clerk)
    rejected = services.reject_revocation(
        notice=issued, actor=second_clerk, reason="Die Anschrift stimmt."
    )
    assert rejected.status == Notice.Status.ISSUED and not rejected.revocation_pending
    assert rejected.revocation_reason == "" and rejected.revocation_requested_by is None
    case.refresh_from_db()
    assert case.status == S.DECIDED and case.outcome == Case.Outcome.GRANTED
    assert not Entry.objects.filter(kind=Entry.Kind.REVOKE).exists()
    with pytest.raises(CaseworkError):
        services.confirm_revocation(notice=issued, actor=second_clerk)
    event = case.events.get(kind=CaseEvent.Kind.REVOCATION_REJECTED)
    assert event.actor == second_clerk and event.note == "Die Anschrift stimmt."
    audit = AuditEvent.objects.get(action="case.notice_revocation_rejected")
    assert audit.before["reason"] == "Versehen" and audit.before["requested_by"] == clerk.pk
    services.transition(case=case, to_status=S.CLOSED, actor=clerk)  # nothing pending now


def test_a_revocation_request_changed_since_the_page_was_read_is_not_confirmed(
    case: Case, clerk: User, second_clerk: User, make_staff: Callable[..., User]
) -> None:
    issued = _issued_grant(case, clerk)
    first = services.request_revocation(notice=issued, reason="Versehen", actor=clerk)
    services.reject_revocation(notice=issued, actor=clerk)  # the requester withdraws it
    services.request_revocation(notice=issued, reason="Ganz anderer Grund", actor=clerk)
    with pytest.raises(ChangedMeanwhileError):
        services.confirm_revocation(notice=issued, actor=second_clerk, version=first.version)
    issued.refresh_from_db()
    assert issued.status == Notice.Status.ISSUED


def test_the_applicant_cannot_request_or_confirm_the_revocation_of_their_own_notice(
    case: Case, clerk: User, citizen: User
) -> None:
    issued = _issued_grant(case, clerk)
    with pytest.raises(PartyToCaseError):
        services.request_revocation(notice=issued, reason="Versehen", actor=citizen)
    services.request_revocation(notice=issued, reason="Versehen", actor=clerk)
    with pytest.raises(PartyToCaseError):
        services.confirm_revocation(notice=issued, actor=citizen)
