"""Drafts, prefill, idempotent submission, reference numbers, expiry."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import (
    ApplicationError,
    SubmissionIncomplete,
    TrustLevelTooLow,
    delete_draft,
    delete_expired_drafts,
    save_step,
    start_application,
    submit_application,
)
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import AuditEvent, Municipality
from rathaus.forms.engine import validate_step
from tests.applications.meldebescheinigung import answer_all


def _start(citizen: User, service: Service, municipality: Municipality) -> Application:
    return start_application(
        applicant=citizen, service=service, municipality=municipality, trust_level="high"
    )


def test_draft_is_prefilled_from_the_profile(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(citizen, meldebescheinigung, wuppertal)
    assert application.answers["name"] == {"given_names": "Erika", "family_name": "Mustermann"}
    assert application.answers["birth_date"] == "1985-03-27"
    assert application.answers["address"]["postal_code"] == "42103"
    assert application.current_step == "person"


def test_a_lower_trust_level_cannot_start_the_service(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    with pytest.raises(TrustLevelTooLow) as raised:
        start_application(
            applicant=citizen,
            service=meldebescheinigung,
            municipality=wuppertal,
            trust_level="low",
        )
    assert raised.value.required == "high"


def test_submission_freezes_the_answers_and_goes_to_remscheid(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(citizen, meldebescheinigung, wuppertal)
    answer_all(application)
    submitted = submit_application(
        application=application, idempotency_key="k1", confirmed=True, actor=citizen
    )
    assert submitted.status == Application.Status.SUBMITTED
    assert submitted.reference is not None
    assert submitted.reference.startswith(f"A-{timezone.localdate().year}-")
    assert submitted.submitted_data == submitted.answers
    # "Einer für Alle": Remscheid's Bürgeramt registers for all three cities.
    assert submitted.authority is not None
    assert submitted.authority.municipality.ags == "05120000"
    assert AuditEvent.objects.filter(action="application.submitted").count() == 1
    with pytest.raises(ApplicationError):
        schema, _ = form_schema(meldebescheinigung)
        step = validate_step(schema, "certificate", {"kind": "extended"}, answers={})
        save_step(application=submitted, result=step)


def test_submitting_twice_gives_one_application(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(citizen, meldebescheinigung, wuppertal)
    answer_all(application)
    first = submit_application(
        application=application, idempotency_key="k2", confirmed=True, actor=citizen
    )
    second = submit_application(
        application=application, idempotency_key="k2", confirmed=True, actor=citizen
    )
    assert first.reference == second.reference
    assert Application.objects.filter(status="submitted").count() == 1


def test_submission_needs_the_confirmed_declaration(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(citizen, meldebescheinigung, wuppertal)
    answer_all(application)
    with pytest.raises(ApplicationError):
        submit_application(
            application=application, idempotency_key="k3", confirmed=False, actor=citizen
        )
    application.refresh_from_db()
    assert application.is_draft


def test_incomplete_draft_is_sent_back_to_the_missing_step(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _start(citizen, meldebescheinigung, wuppertal)
    with pytest.raises(SubmissionIncomplete) as raised:
        submit_application(
            application=application, idempotency_key="k4", confirmed=True, actor=citizen
        )
    assert raised.value.step_id == "certificate"


def test_reference_numbers_are_unique_and_increasing(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    references = []
    for key in ("a", "b", "c"):
        application = _start(citizen, meldebescheinigung, wuppertal)
        answer_all(application)
        submitted = submit_application(
            application=application, idempotency_key=key, confirmed=True, actor=citizen
        )
        references.append(submitted.reference)
    assert references == sorted(set(references))


def test_drafts_expire_after_thirty_days(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    with freeze_time("2026-05-01 12:00"):
        old = _start(citizen, meldebescheinigung, wuppertal)
    with freeze_time("2026-05-20 12:00"):
        recent = _start(citizen, meldebescheinigung, wuppertal)
    now = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)
    assert delete_expired_drafts(now=now) == 1
    assert not Application.objects.filter(pk=old.pk).exists()
    assert Application.objects.filter(pk=recent.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_file_the_storage_fails_to_delete_holds_up_no_other_expired_draft(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The files go after each draft's deletion commits: one the storage refuses is logged by its
    name and kept for the next run, and the other drafts are deleted all the same."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import InMemoryStorage

    from rathaus.applications.models import Attachment, PendingFileDeletion
    from rathaus.applications.tasks import delete_expired_drafts_job

    names = []
    with freeze_time("2026-05-01 12:00"):
        for _draft in range(2):
            application = _start(citizen, meldebescheinigung, wuppertal)
            attachment = Attachment(
                application=application, field_id="x", original_name="a.pdf", size=4
            )
            attachment.file.save("a.pdf", ContentFile(b"%PDF"), save=True)
            names.append(attachment.file.name)
    storage = Attachment._meta.get_field("file").storage
    original = InMemoryStorage.delete

    def refuse_the_first(self: InMemoryStorage, name: str) -> None:
        if name == names[0]:
            raise OSError("permission denied")
        original(self, name)

    monkeypatch.setattr(InMemoryStorage, "delete", refuse_the_first)
    now = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)
    assert delete_expired_drafts(now=now) == 2
    assert not Application.objects.exists()
    assert storage.exists(names[0]) and not storage.exists(names[1])
    assert [r.storage_name for r in PendingFileDeletion.objects.all()] == [names[0]]
    [logged] = [r for r in caplog.records if r.getMessage().startswith("stored file not deleted")]
    assert logged.levelname == "ERROR"
    assert logged.storage_name == names[0]  # type: ignore[attr-defined]

    monkeypatch.setattr(InMemoryStorage, "delete", original)
    delete_expired_drafts_job.call()  # the next hourly run deletes it
    assert not storage.exists(names[0])
    assert not PendingFileDeletion.objects.exists()


# A request that read the draft before a submission in another tab committed (the step POST or
# the "delete draft" button in tab B, the submit in tab A) must find it frozen under the lock.


def _read_then_submitted(
    citizen: User, service: Service, municipality: Municipality
) -> Application:
    application = _start(citizen, service, municipality)
    answer_all(application)
    stale = Application.objects.get(pk=application.pk)  # tab B has read it
    submit_application(application=application, idempotency_key="a", confirmed=True, actor=citizen)
    return stale


def test_a_draft_submitted_meanwhile_cannot_be_deleted(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    stale = _read_then_submitted(citizen, meldebescheinigung, wuppertal)
    with pytest.raises(ApplicationError, match="kann nicht gelöscht werden"):
        delete_draft(application=stale, actor=citizen)
    assert Application.objects.get(pk=stale.pk).status == Application.Status.SUBMITTED
    assert not AuditEvent.objects.filter(action="application.draft_deleted").exists()


def test_a_draft_submitted_meanwhile_keeps_its_frozen_answers(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    stale = _read_then_submitted(citizen, meldebescheinigung, wuppertal)
    schema, _digest = form_schema(meldebescheinigung)
    result = validate_step(
        schema, "certificate", {"kind": "extended", "purpose": "Heirat"}, answers=stale.answers
    )
    assert result.is_valid, result.errors
    with pytest.raises(ApplicationError, match="kann nicht mehr geändert werden"):
        save_step(application=stale, result=result)
    fresh = Application.objects.get(pk=stale.pk)
    assert fresh.answers == fresh.submitted_data


def test_deleting_a_draft_removes_its_files_once_the_deletion_commits(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.core.files.base import ContentFile

    from rathaus.applications.models import Attachment

    application = _start(citizen, meldebescheinigung, wuppertal)
    attachment = Attachment(application=application, field_id="x", original_name="a.pdf", size=4)
    attachment.file.save("a.pdf", ContentFile(b"%PDF"), save=True)
    storage, name = attachment.file.storage, attachment.file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delete_draft(application=application, actor=citizen)
    assert not Application.objects.filter(pk=application.pk).exists()
    assert storage.exists(name)  # not before the commit
    for callback in callbacks:
        callback()
    assert not storage.exists(name)


def test_a_step_saved_in_another_tab_meanwhile_is_kept(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """Tab B read the draft before tab A saved a step (a slow upload, say): B's step is applied
    to the answers as stored under the lock, not to what B read."""
    app = _start(citizen, meldebescheinigung, wuppertal)
    schema, _digest = form_schema(meldebescheinigung)
    tab_b = Application.objects.get(pk=app.pk)
    a = validate_step(schema, "certificate", {"kind": "simple"}, answers=app.answers)
    save_step(application=app, result=a)
    b = validate_step(
        schema,
        "person",
        {
            "name__given_names": "Erika",
            "name__family_name": "Mustermann",
            "birth_date__day": "27",
            "birth_date__month": "3",
            "birth_date__year": "1985",
            "address__street": "Hofaue",
            "address__house_number": "5",
            "address__postal_code": "42103",
            "address__place": "Wuppertal",
        },
        answers=tab_b.answers,
    )
    assert b.is_valid, b.errors
    save_step(application=tab_b, result=b)
    stored = Application.objects.get(pk=app.pk).answers
    assert stored.get("kind") == "simple"
    assert stored["address"]["street"] == "Hofaue"


def test_a_submission_of_a_form_without_files_reads_no_attachments(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """Submission is a hot path (the postal-vote rush): a form that asks for no file costs no
    query for attachments, neither to drop unused ones nor to file them in the case."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    application = _start(citizen, meldebescheinigung, wuppertal)
    answer_all(application)
    with CaptureQueriesContext(connection) as queries:
        sent = submit_application(
            application=application, idempotency_key="k", confirmed=True, actor=citizen
        )
    assert sent.status == Application.Status.SUBMITTED
    assert not [q["sql"] for q in queries.captured_queries if "applications_attachment" in q["sql"]]
