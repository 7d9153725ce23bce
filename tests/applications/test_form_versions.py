"""A submitted declaration is shown with the form version it was submitted with (§ 9a OZG)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.receipts import render_receipt
from rathaus.applications.services import start_application, submit_application
from rathaus.catalog import form_schemas
from rathaus.catalog.models import FormVersion, Service
from rathaus.core.models import Municipality
from tests.applications.meldebescheinigung import answer_all

OLD_LABEL = "Welche Meldebescheinigung brauchen Sie?"
NEW_LABEL = "Welche Art von Bescheinigung brauchen Sie?"


def _submitted(citizen: User, service: Service, municipality: Municipality) -> Application:
    application = start_application(
        applicant=citizen, service=service, municipality=municipality, trust_level="high"
    )
    answer_all(application, {"kind": "extended", "purpose": "Heirat"})
    return submit_application(
        application=application,
        idempotency_key=application.public_id.hex,
        confirmed=True,
        actor=citizen,
    )


@pytest.fixture
def change_form(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Deploy a changed Meldebescheinigung form: a label rephrased and the "person" step gone.

    Returns the new form's digest. The real form file stays untouched.
    """

    def change() -> str:
        original = form_schemas.schema_path("meldebescheinigung").read_text(encoding="utf-8")
        header, rest = original.split("[[steps]]", 1)
        certificate = "[[steps]]" + rest.split("[[steps]]", 1)[1]
        assert f'"{OLD_LABEL}"' in certificate
        changed = header + certificate.replace(f'"{OLD_LABEL}"', f'"{NEW_LABEL}"')
        path = tmp_path / "meldebescheinigung" / form_schemas.FORM_FILE
        path.parent.mkdir()
        path.write_text(changed, encoding="utf-8")
        monkeypatch.setattr(form_schemas, "schema_path", lambda slug: tmp_path / slug / path.name)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    form_schemas._load.cache_clear()
    yield change
    form_schemas._load.cache_clear()


def _logged_in(client: Client, citizen: User) -> Client:
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


def test_submission_stores_the_form_version_it_was_checked_against(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _submitted(citizen, meldebescheinigung, wuppertal)
    path = form_schemas.schema_path("meldebescheinigung")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert application.schema_hash == digest
    version = FormVersion.objects.get()
    assert version.digest == digest
    assert version.slug == "meldebescheinigung"
    assert version.text == path.read_text(encoding="utf-8")


def test_detail_page_shows_the_declaration_with_the_form_it_was_submitted_with(
    client: Client,
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    change_form: Callable[[], str],
) -> None:
    application = _submitted(citizen, meldebescheinigung, wuppertal)
    new_digest = change_form()
    assert new_digest != application.schema_hash

    page = _logged_in(client, citizen).get(f"/antraege/{application.public_id}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert OLD_LABEL in body
    assert NEW_LABEL not in body
    assert "Ihre Angaben" in body  # the removed step, with its answers
    assert "Mustermann" in body
    assert "Heirat" in body


def test_receipt_rendered_after_a_form_change_shows_the_submitted_form(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    change_form: Callable[[], str],
) -> None:
    application = _submitted(citizen, meldebescheinigung, wuppertal)
    change_form()

    assert render_receipt.call(application.pk) == "stored"
    application.refresh_from_db()
    pdf = application.receipt.read()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert OLD_LABEL in text
    assert NEW_LABEL not in text
    assert "Mustermann" in text  # answers of the removed step
    assert "Geburtsdatum" in text


def test_a_new_draft_after_a_form_change_uses_the_new_form(
    client: Client,
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    change_form: Callable[[], str],
) -> None:
    _submitted(citizen, meldebescheinigung, wuppertal)
    new_digest = change_form()

    logged_in = _logged_in(client, citizen)
    started = logged_in.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    assert started.status_code == 302
    assert started["Location"].endswith("/schritt/certificate/")  # the person step is gone
    draft = Application.objects.get(status=Application.Status.DRAFT)
    assert draft.schema_hash == new_digest
    body = logged_in.get(started["Location"]).content.decode()
    assert NEW_LABEL in body
    assert OLD_LABEL not in body


def _form_version_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "catalog_formversion" in q["sql"]]


def test_the_form_version_is_written_once_per_process(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Submissions are a hot path: only the first one of a process writes the version row."""
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as q:
        first = _submitted(citizen, meldebescheinigung, wuppertal)
    assert len(_form_version_queries(q)) == 1
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as q:
        second = _submitted(citizen, meldebescheinigung, wuppertal)
    assert _form_version_queries(q) == []
    assert second.schema_hash == first.schema_hash
    assert FormVersion.objects.get().digest == first.schema_hash


def test_a_rolled_back_submission_does_not_count_its_form_version_as_stored(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _submitted(citizen, meldebescheinigung, wuppertal)
        raise RuntimeError("the transaction fails after the version row was written")
    assert not FormVersion.objects.exists()
    assert not form_schemas._stored_digests

    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as q:
        application = _submitted(citizen, meldebescheinigung, wuppertal)
    assert len(_form_version_queries(q)) == 1
    assert FormVersion.objects.get().digest == application.schema_hash


def test_back_office_shows_the_declaration_with_the_form_it_was_submitted_with(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    change_form: Callable[[], str],
) -> None:
    from rathaus.backoffice.case_page import _application_sections

    application = _submitted(citizen, meldebescheinigung, wuppertal)
    change_form()
    assert application.case is not None
    _application, sections = _application_sections(application.case)
    assert [section.step_id for section in sections] == ["person", "certificate"]
    labels = [row.label for section in sections for row in section.rows]
    assert OLD_LABEL in labels
    assert NEW_LABEL not in labels
