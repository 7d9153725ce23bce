"""Every saved step of a draft leaves an audit event: which step, which files came and went."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import keep_uploads, save_step, start_application
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import AuditEvent, Municipality
from rathaus.forms.engine import validate_step
from tests.applications.test_uploads import MOVE, PDF, PEOPLE

pytestmark = pytest.mark.django_db


def _events(application: Application) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type="applications.Application", object_id=str(application.pk)
        )
        .exclude(action="application.started")
        .order_by("pk")
    )


def _answer(application: Application, step: str, data: dict[str, Any], files: Any = None) -> None:
    schema, _digest = form_schema(application.service)
    result = validate_step(schema, step, data, files, answers=application.answers)
    assert result.is_valid, result.errors
    save_step(application=application, result=result)


def test_a_saved_step_is_audited_without_the_answers(
    citizen: User, demo: None, wuppertal: Municipality, django_capture_on_commit_callbacks: Any
) -> None:
    service = Service.objects.get(slug="wohnsitz-anmelden")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    _answer(application, "move", MOVE)
    (saved,) = _events(application)
    assert saved.action == "application.step_saved"
    assert saved.actor == citizen
    assert saved.municipality == wuppertal
    assert saved.after == {"step": "move", "files_added": [], "files_removed": []}
    assert "Friedrich-Engels-Allee" not in str(saved.after)

    _answer(application, "previous", {"previous_kept": "no"})
    _answer(application, "people", PEOPLE)
    _answer(application, "landlord", {"landlord_way": "upload"})
    _answer(
        application,
        "landlord_upload",
        {},
        {"landlord_confirmation": SimpleUploadedFile("bestaetigung.pdf", PDF)},
    )
    digest = hashlib.sha256(PDF).hexdigest()
    assert _events(application)[-1].after == {
        "step": "landlord_upload",
        "files_added": [digest],
        "files_removed": [],
    }
    # another way of confirming: the file no longer applies and goes, which the trail says
    with django_capture_on_commit_callbacks(execute=True):
        _answer(application, "landlord", {"landlord_way": "landlord_data"})
    assert _events(application)[-1].after == {
        "step": "landlord",
        "files_added": [],
        "files_removed": [digest],
    }
    assert [e.action for e in _events(application)] == ["application.step_saved"] * 6


def test_files_kept_on_a_step_shown_again_are_audited(
    citizen: User, demo: None, wuppertal: Municipality
) -> None:
    service = Service.objects.get(slug="bewohnerparkausweis")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    schema, _digest = form_schema(service)
    result = validate_step(
        schema,
        "vehicle",
        {"plate": "", "holder": "self"},  # the plate is missing: the step is shown again
        {"registration_document": [SimpleUploadedFile("schein.pdf", PDF)]},
        answers=application.answers,
    )
    assert not result.is_valid
    keep_uploads(application=application, result=result)
    (kept,) = _events(application)
    assert kept.action == "application.files_kept"
    assert kept.actor == citizen
    assert kept.after == {
        "step": "vehicle",
        "files_added": [hashlib.sha256(PDF).hexdigest()],
        "files_removed": [],
    }
