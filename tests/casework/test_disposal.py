"""Disposal (Aussonderung) of a case's file: casework releases the notices' links to the filed
PDFs or keeps the file, and afterwards the case and its application lose their personal data.

Driven end to end through the records service functions (``start_run``, ``destroy``), with the
clock moved to the day the file is due."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, transaction
from django.db import utils as db_utils
from django.db.models import Q
from django.test import Client
from django.utils import timezone, translation
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.accounts.personal_data import ErasureBlocked
from rathaus.accounts.services import delete_account
from rathaus.applications.disposal import on_file_disposed as application_purge_receiver
from rathaus.applications.disposal import purge_application, purge_disposed_applications
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application, Attachment
from rathaus.applications.receipts import render_receipt
from rathaus.applications.services import start_application, submit_application
from rathaus.applications.tasks import purge_disposed_job
from rathaus.casework import services as casework
from rathaus.casework.disposal import (
    PURGED_NOTICE_TITLE,
    purge_case,
    purge_disposed_cases,
)
from rathaus.casework.disposal import on_file_disposed as case_purge_receiver
from rathaus.casework.errors import CaseworkError
from rathaus.casework.models import (
    Case,
    CaseEvent,
    CaseNote,
    Notice,
    PostalDeliveryTask,
)
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import AuditEvent, Municipality
from rathaus.core.purge import APPLICANT_LABEL, purging, unguarded
from rathaus.ledger.models import Entry
from rathaus.ledger.selectors import verify_code
from rathaus.mailbox.models import Message
from rathaus.records.disposal import DestroyResult, destroy, start_run
from rathaus.records.models import DisposalItem, DisposalOutcome, DocumentVersion, File
from rathaus.records.services import close_file
from rathaus.records.signals import file_disposed
from tests.applications.meldebescheinigung import answer_all
from tests.backoffice.conftest import staff_login
from tests.casework.revocations import revoke

S = Case.Status
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def archivist(db: None, django_user_model: Any) -> Any:
    """Approves destruction (``records.approve_destruction``: superusers have it)."""
    return django_user_model.objects.create_superuser(
        email="archivar@example.org", password="x" * 12
    )


@pytest.fixture
def dispose(
    archivist: Any, django_capture_on_commit_callbacks: Any
) -> Callable[[File], DestroyResult]:
    """Run a disposal of the file's authority on the day the file is due, with the after-commit
    work (stored contents, ``file_disposed``, the purges) carried out."""

    def run(file: File) -> DestroyResult:
        file.refresh_from_db()
        assert file.disposal_due_on is not None, "the file is not closed"
        with freeze_time(file.disposal_due_on), django_capture_on_commit_callbacks(execute=True):
            disposal = start_run(authority=file.authority, actor=None)
            return destroy(run=disposal, approver=archivist)

    return run


def _stored(name: str) -> bool:
    return bool(name) and default_storage.exists(name)


def _issue(case: Case, clerk: User) -> Notice:
    notice = casework.draft_notice(case=case, template_key="granted", actor=clerk)
    return casework.issue_notice(notice=notice, actor=clerk)


# --- the whole way: application, case, notices, disposal, purge, pages -----------------------


@pytest.fixture
def service(full_demo: None) -> Service:
    service = Service.objects.get(slug="meldebescheinigung")
    Responsibility.objects.filter(service=service).update(local_fee=None)
    return service


@pytest.fixture
def home(full_demo: None) -> Municipality:
    return Municipality.objects.get(ags="05124000")


def _submitted(citizen: User, service: Service, home: Municipality) -> Application:
    application = start_application(
        applicant=citizen, service=service, municipality=home, trust_level="high"
    )
    answer_all(application)
    attachment = Attachment(
        application=application,
        field_id="evidence",
        original_name="Ausweis Erika Mustermann.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
    )
    attachment.file.save("ausweis.pdf", ContentFile(PDF), save=True)
    submit_application(application=application, idempotency_key="k1", confirmed=True, actor=citizen)
    assert render_receipt.call(application.pk) == "stored"
    application.refresh_from_db()
    return application


def test_disposing_of_a_decided_case_releases_its_notices_and_purges_case_and_application(
    citizen: User,
    service: Service,
    home: Municipality,
    make_staff: Callable[..., User],
    dispose: Callable[[File], DestroyResult],
) -> None:
    application = _submitted(citizen, service, home)
    case = application.case
    assert case is not None and case.file is not None
    clerk = make_staff(case.org_unit)
    casework.add_note(case=case, text="Rückruf bei Frau Mustermann", actor=clerk)
    request = casework.request_documents(
        case=case,
        description="Bitte senden Sie den Ausweis von Erika Mustermann.",
        due_on=timezone.localdate() + datetime.timedelta(days=10),
        actor=clerk,
    )
    casework.receive_documents(
        request=request,
        files=[("Ausweis Mustermann.pdf", "application/pdf", PDF)],
        actor=citizen,
        note="Anbei mein Ausweis, Erika Mustermann",
    )
    revoked = _issue(case, clerk)
    revoke(notice=revoked, reason="Falsche Anschrift Mustermann", actor=clerk)
    revoked.refresh_from_db()
    assert revoked.revocation_letter is not None  # the Aufhebungsbescheid went to the mailbox
    issued = _issue(case, clerk)
    casework.transition(case=case, to_status=S.CLOSED, actor=clerk)
    pdfs = [revoked.pdf.name, issued.pdf.name]
    receipt = application.receipt.name
    attachment_file = application.attachments.get().file.name
    assert all(_stored(name) for name in [*pdfs, receipt, attachment_file])
    contents = list(
        DocumentVersion.objects.filter(document__file=case.file).values_list("content", flat=True)
    )
    messages = Message.objects.filter(owner=citizen).count()

    result = dispose(case.file)

    # the file is destroyed, not kept as "still referenced"
    assert result.kept == [] and result.disposed == [case.file.reference]
    file = File.objects.get(pk=case.file.pk)
    assert file.disposal_outcome == DisposalOutcome.DESTROYED
    assert not DocumentVersion.objects.filter(document__file=file).exists()
    assert not any(_stored(name) for name in contents)
    # links released, GovChain codes and hashes kept: a citizen's copy is still provably genuine
    for notice, before in ((revoked, revoked), (issued, issued)):
        notice.refresh_from_db()
        assert notice.record_version is None and notice.revocation_letter is None
        assert notice.sha256 == before.sha256 and notice.ledger_code == before.ledger_code
        verification = verify_code(notice.ledger_code)
        assert verification is not None and verification.document_sha256 == notice.sha256
    assert verify_code(revoked.revocation_ledger_code) is not None
    assert verify_code(revoked.ledger_code).revocation is not None  # type: ignore[union-attr]
    assert Entry.objects.filter(document_sha256=issued.sha256).exists()
    # the case is purged and kept for statistics
    case.refresh_from_db()
    assert case.purged_on == file.disposed_on
    assert case.number and case.status == S.CLOSED and case.outcome == Case.Outcome.GRANTED
    assert case.applicant_name == "" and case.particulars == {} and case.applicant is None
    assert Case.objects.filter(applicant_name__icontains="Mustermann").count() == 0
    for notice in Notice.objects.filter(case=case):
        assert notice.title == PURGED_NOTICE_TITLE
        assert notice.body == notice.legal_basis == notice.remedy == ""
        assert notice.revocation_reason == notice.revocation_legal_basis == ""
        assert not notice.pdf
    assert not any(_stored(name) for name in pdfs)
    assert list(CaseNote.objects.filter(case=case).values_list("text", flat=True)) == [""]
    request.refresh_from_db()
    assert request.description == "" and request.answer_note == ""
    for event in CaseEvent.objects.filter(case=case):
        assert "Mustermann" not in event.note + str(event.data), event.kind
        assert citizen.email not in event.actor_label and event.actor_id != citizen.pk
    received = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.DOCUMENTS_RECEIVED)
    assert received.data["files"] == [{"sha256": received.data["files"][0]["sha256"]}]
    assert received.actor_label == APPLICANT_LABEL  # the role, not the account
    assert CaseEvent.objects.filter(case=case, actor=clerk, actor_label=str(clerk)).exists()
    assert AuditEvent.objects.filter(
        action="case.file_released_for_disposal", object_id=str(case.pk)
    ).exists()
    assert AuditEvent.objects.get(action="case.purged", object_id=str(case.pk)).after["pdfs"] == 2
    # the application is purged; the citizen's mailbox is the citizen's and stays
    application.refresh_from_db()
    assert application.purged_on == file.disposed_on
    assert application.answers == {} and application.submitted_data == {}
    assert not application.receipt and application.receipt_sha256
    assert not application.attachments.exists()
    assert not _stored(receipt) and not _stored(attachment_file)
    assert application.reference and application.status == Application.Status.SUBMITTED
    assert Message.objects.filter(owner=citizen).count() == messages
    assert AuditEvent.objects.filter(
        action="application.purged", object_id=str(application.pk)
    ).exists()
    # the audit trail of the case, its notices, application and file keeps who did what when,
    # without the values (titles, names, reasons) or the citizen's account
    trail = AuditEvent.objects.filter(
        Q(object_type="casework.Case", object_id=str(case.pk))
        | Q(object_type="casework.Notice", object_id__in=[str(revoked.pk), str(issued.pk)])
        | Q(object_type="applications.Application", object_id=str(application.pk))
        | Q(object_type="records.File", object_id=str(file.pk))
    )
    assert trail.filter(action="case.notice_revoked").exists()
    assert trail.filter(action="records.file_opened").exists()
    for event in trail:
        text = f"{event.before} {event.after} {event.actor_label}"
        assert "Mustermann" not in text and citizen.email not in text, event.action
        assert event.actor_id != citizen.pk
    assert trail.filter(actor_label=APPLICANT_LABEL).exists()
    assert trail.filter(actor=clerk, actor_label=str(clerk)).exists()
    opened = trail.get(action="records.file_opened")
    assert opened.after == {"redacted_on": file.disposed_on.isoformat()}
    # the purges' own records keep their counts
    assert trail.get(action="case.purged").after["notices"] == 2

    # the pages of the purged case and application still work
    citizen_client = Client()
    citizen_client.force_login(citizen)
    page = citizen_client.get(f"/antraege/{application.public_id}/")
    assert page.status_code == 200
    shown = page.content.decode()
    assert "Bitte senden Sie den Ausweis" not in shown and "Falsche Anschrift" not in shown
    assert "Anbei mein Ausweis" not in shown and PURGED_NOTICE_TITLE in shown
    assert revoked.revocation_message is not None  # the citizen's copy in the mailbox stays
    assert f"/postfach/{revoked.revocation_message.public_id}/" in shown
    receipt_page = citizen_client.get(f"/antraege/{application.public_id}/eingangsbestaetigung.pdf")
    assert receipt_page.status_code == 302
    assert citizen_client.get("/antraege/").status_code == 200
    TOTP.activate(clerk, secret := generate_totp_secret())
    clerk.secret = secret  # type: ignore[attr-defined]
    clerk_client = staff_login(Client(), clerk)
    page = clerk_client.get(f"/backoffice/vorgaenge/{case.pk}/")
    assert page.status_code == 200
    assert case.number in page.content.decode()
    assert "Mustermann" not in page.content.decode()
    pdf = clerk_client.get(f"/backoffice/vorgaenge/{case.pk}/bescheide/{issued.pk}/bescheid.pdf")
    assert pdf.status_code == 404
    assert clerk_client.get(f"/backoffice/vorgaenge/{case.pk}/protokoll/").status_code == 200


def test_a_purged_application_says_so_and_no_longer_holds_up_the_account_deletion(
    citizen: User,
    service: Service,
    home: Municipality,
    dispose: Callable[[File], DestroyResult],
) -> None:
    application = _submitted(citizen, service, home)
    case = application.case
    assert case is not None and case.file is not None
    with pytest.raises(ErasureBlocked):  # within its retention period, the application is kept
        delete_account(user=citizen)
    casework.withdraw_case(case=case, actor=citizen)
    dispose(case.file)
    application.refresh_from_db()
    assert application.purged_on is not None and not application.receipt

    # a late or repeated receipt job does not render the deleted declaration again
    assert render_receipt.call(application.pk) == "gone"
    application.refresh_from_db()
    assert not application.receipt

    client = Client()
    client.force_login(citizen)
    with translation.override("de"):
        page = client.get(f"/antraege/{application.public_id}/", HTTP_ACCEPT_LANGUAGE="de")
        shown = page.content.decode()
        assert "Ihre Angaben, Ihre hochgeladenen Dateien und Ihre Eingangsbestätigung" in shown
        assert "Eingangsbestätigung wird erstellt" not in shown
        receipt = client.get(
            f"/antraege/{application.public_id}/eingangsbestaetigung.pdf",
            HTTP_ACCEPT_LANGUAGE="de",
            follow=True,
        )
        assert "mit Ihren Angaben gelöscht" in receipt.content.decode()

    delete_account(user=citizen)
    assert not User.objects.filter(pk=citizen.pk).exists()
    assert not Application.objects.filter(pk=application.pk).exists()
    case.refresh_from_db()  # the purged case stays for statistics
    assert case.purged_on is not None and case.applicant is None
    assert AuditEvent.objects.filter(
        action="application.deleted_with_account", object_id=str(application.pk)
    ).exists()


# --- casework only ----------------------------------------------------------------------------


def test_a_posted_and_revoked_notice_lets_go_of_its_revocation_letter(
    make_case: Callable[..., Case], clerk: User, dispose: Callable[[File], DestroyResult]
) -> None:
    case = make_case(electronic_delivery=False)
    revoked = _issue(case, clerk)
    casework.mark_posted(task=PostalDeliveryTask.objects.get(notice=revoked), actor=clerk)
    revoke(notice=revoked, reason="Irrtum", actor=clerk)
    letter = PostalDeliveryTask.objects.get(kind=PostalDeliveryTask.Kind.REVOCATION)
    assert letter.letter_id is not None
    casework.mark_posted(task=letter, actor=clerk)
    issued = _issue(case, clerk)
    casework.mark_posted(task=PostalDeliveryTask.objects.get(notice=issued), actor=clerk)
    casework.transition(case=case, to_status=S.CLOSED, actor=clerk)
    assert case.file is not None

    result = dispose(case.file)

    assert result.disposed == [case.file.reference], result.kept
    # the revocation task needs its letter (postaltask_letter_for_revocation): it goes; the
    # notice tasks hold no document and stay with their posting dates
    assert not PostalDeliveryTask.objects.filter(kind=PostalDeliveryTask.Kind.REVOCATION).exists()
    kept = PostalDeliveryTask.objects.filter(case=case).order_by("pk")
    assert [(t.kind, t.status) for t in kept] == [("notice", "sent"), ("notice", "sent")]
    assert all(t.sent_on for t in kept)
    released = AuditEvent.objects.get(action="case.file_released_for_disposal")
    assert released.after["postal_tasks_deleted"] == [letter.pk]
    assert sorted(released.after["notices"]) == sorted([revoked.pk, issued.pk])


def test_the_file_of_a_case_still_being_worked_on_is_kept(
    case: Case, clerk: User, dispose: Callable[[File], DestroyResult]
) -> None:
    _issue(case, clerk)  # decided, not closed; the file closed in the E-Akte directly
    assert case.file is not None
    close_file(file=case.file, actor=None)

    result = dispose(case.file)

    assert result.disposed == []
    [(reference, reason)] = result.kept
    assert reference == case.file.reference
    assert case.number in reason and "closed or withdrawn" in reason
    item = DisposalItem.objects.get(file=case.file)
    assert case.number in item.note and item.disposed_at is None
    case.file.refresh_from_db()
    assert not case.file.is_disposed
    assert DocumentVersion.objects.filter(document__file=case.file).exists()
    notice = Notice.objects.get(case=case, status=Notice.Status.ISSUED)
    assert notice.record_version is not None and notice.pdf
    case.refresh_from_db()
    assert case.purged_on is None and case.applicant_name
    assert not AuditEvent.objects.filter(action__startswith="case.file_released").exists()


def test_a_withdrawn_case_keeps_its_file_until_the_revocation_letter_is_posted(
    make_case: Callable[..., Case],
    clerk: User,
    citizen: User,
    dispose: Callable[[File], DestroyResult],
    archivist: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = make_case(electronic_delivery=False)
    notice = _issue(case, clerk)
    casework.mark_posted(task=PostalDeliveryTask.objects.get(notice=notice), actor=clerk)
    revoke(notice=notice, reason="Irrtum", actor=clerk)
    casework.withdraw_case(case=case, actor=citizen)  # the revocation letter is not posted yet
    assert case.file is not None

    result = dispose(case.file)

    [(_reference, reason)] = result.kept
    assert case.number in reason and "by post" in reason
    item = DisposalItem.objects.get(file=case.file)
    assert item.note == reason and item.disposed_at is None
    letter = PostalDeliveryTask.objects.get(kind=PostalDeliveryTask.Kind.REVOCATION)
    casework.mark_posted(task=letter, actor=clerk)
    case.file.refresh_from_db()
    assert case.file.disposal_due_on is not None
    with (
        freeze_time(case.file.disposal_due_on),
        django_capture_on_commit_callbacks(execute=True),
    ):
        again = destroy(run=item.run, approver=archivist)  # the same run, resumed
    assert again.disposed == [case.file.reference]
    case.refresh_from_db()
    assert case.purged_on is not None and case.status == S.WITHDRAWN


def test_the_refusal_is_german_for_german_users(
    case: Case, clerk: User, dispose: Callable[[File], DestroyResult]
) -> None:
    assert case.file is not None
    close_file(file=case.file, actor=None)
    with translation.override("de"):
        [(_reference, reason)] = dispose(case.file).kept
    assert case.number in reason and "abgeschlossen" in reason


def test_purging_twice_changes_nothing_the_second_time(
    case: Case,
    clerk: User,
    citizen: User,
    dispose: Callable[[File], DestroyResult],
    django_capture_on_commit_callbacks: Any,
) -> None:
    casework.add_note(case=case, text="Vermerk zu Mustermann", actor=clerk)
    _issue(case, clerk)
    casework.transition(case=case, to_status=S.CLOSED, actor=clerk)
    assert case.file is not None
    dispose(case.file)
    case.refresh_from_db()
    purged_on = case.purged_on
    assert purged_on is not None
    audits = AuditEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        again = purge_case(case=case)
        catch_up = purge_disposed_cases()

    assert not again and catch_up == 0
    assert AuditEvent.objects.count() == audits
    case.refresh_from_db()
    assert case.purged_on == purged_on


def test_a_notice_pdf_the_storage_could_not_delete_is_deleted_by_the_catch_up(
    case: Case,
    clerk: User,
    dispose: Callable[[File], DestroyResult],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    notice = _issue(case, clerk)
    casework.transition(case=case, to_status=S.CLOSED, actor=clerk)
    assert case.file is not None
    storage = Notice._meta.get_field("pdf").storage

    def broken(name: str) -> None:
        raise OSError("storage unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(storage, "delete", broken)
        dispose(case.file)
    notice.refresh_from_db()
    assert notice.pdf and _stored(notice.pdf.name) and notice.body == ""

    with django_capture_on_commit_callbacks(execute=True):
        assert purge_disposed_cases() == 1
    name = notice.pdf.name
    notice.refresh_from_db()
    assert not notice.pdf and not _stored(name)


def test_the_hourly_job_and_the_command_purge_what_the_receivers_missed(
    citizen: User,
    service: Service,
    home: Municipality,
    dispose: Callable[[File], DestroyResult],
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = _submitted(citizen, service, home)
    case = application.case
    assert case is not None and case.file is not None
    casework.withdraw_case(case=case, actor=citizen)
    # the purges did not run (a worker died after the disposal committed): only the releasing
    # receiver, which runs inside the disposal, is left connected
    uids = ("casework.file_disposed", "applications.file_disposed")
    for uid in uids:
        assert file_disposed.disconnect(dispatch_uid=uid)
    try:
        dispose(case.file)
    finally:
        file_disposed.connect(case_purge_receiver, dispatch_uid=uids[0])
        file_disposed.connect(application_purge_receiver, dispatch_uid=uids[1])
    case.refresh_from_db()
    application.refresh_from_db()
    assert case.purged_on is None and application.purged_on is None
    assert case.file is not None and case.file.is_disposed

    with django_capture_on_commit_callbacks(execute=True):  # the stored files go after commit
        assert purge_disposed_job.call() == 2  # the hourly job: one case, one application
    case.refresh_from_db()
    application.refresh_from_db()
    assert case.purged_on is not None and case.particulars == {}
    assert application.purged_on is not None and application.submitted_data == {}
    assert not application.receipt and not application.attachments.exists()
    out = io.StringIO()
    call_command("purge_disposed", stdout=out)
    assert out.getvalue().strip() == "Purged: 0 case(s), 0 application(s)."


def test_a_case_is_not_purged_before_its_file_is_disposed_of(
    case: Case, clerk: User, citizen: User
) -> None:
    with pytest.raises(CaseworkError, match=case.number):
        purge_case(case=case)
    casework.withdraw_case(case=case, actor=citizen)  # closed, but within its retention period
    with pytest.raises(CaseworkError, match="until its file has been disposed of"):
        purge_case(case=case)
    case.refresh_from_db()
    assert case.purged_on is None and case.particulars


def test_an_application_is_not_purged_before_its_file_is_disposed_of(
    citizen: User, service: Service, home: Municipality
) -> None:
    application = _submitted(citizen, service, home)
    with pytest.raises(ApplicationError, match=str(application.reference)):
        purge_application(application=application)
    assert purge_disposed_applications() == 0
    application.refresh_from_db()
    assert application.purged_on is None and application.submitted_data


# --- the database's own guard (PostgreSQL) ----------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only triggers exist on PostgreSQL only"
)


@postgres_only
def test_the_history_stays_append_only_outside_the_purge(case: Case, clerk: User) -> None:
    casework.add_note(case=case, text="Vermerk", actor=clerk)
    event = CaseEvent.objects.filter(case=case).first()
    assert event is not None
    for change in (
        lambda: unguarded(CaseEvent).filter(pk=event.pk).update(note="geändert"),
        lambda: unguarded(CaseNote).filter(case=case).update(text=""),
        lambda: unguarded(CaseEvent).filter(pk=event.pk).delete(),
    ):
        with pytest.raises(db_utils.DatabaseError, match="append-only"), transaction.atomic():
            change()
    # during the purge: only the personal text, and only to empty
    for change in (
        lambda: unguarded(CaseEvent).filter(pk=event.pk).update(kind="assigned"),
        lambda: unguarded(CaseEvent).filter(pk=event.pk).update(note="anders"),
        lambda: unguarded(CaseNote).filter(case=case).update(text="anders"),
        lambda: unguarded(CaseNote).filter(case=case).delete(),
    ):
        with (
            pytest.raises(db_utils.DatabaseError, match="append-only"),
            transaction.atomic(),
            purging(),
        ):
            change()
    with pytest.raises(db_utils.DatabaseError, match="append-only"), transaction.atomic():
        # the setting is switched off again after the purge's block
        with purging():
            pass
        unguarded(CaseNote).filter(case=case).update(text="")
    with transaction.atomic(), purging():
        assert unguarded(CaseNote).filter(case=case).update(text="") == 1
    assert CaseNote.objects.get(case=case).text == ""
