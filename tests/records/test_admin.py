"""Django admin: the file plan is editable and importable; files and documents are read-only.

The admin site itself demands a second factor (accounts middleware); like tests/catalog, these
tests call the model admins directly, as the admin site does after that check.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import RequestFactory

from rathaus.core.models import AuditEvent, Authority
from rathaus.records.models import DocumentVersion, File, FilePlan, PlanEntry, RecordDocument
from rathaus.records.services import add_document, open_file
from tests.records.conftest import PLAN_CSV


@pytest.fixture
def superuser(db: None, django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser(email="admin@example.org", password="x" * 12)


@pytest.fixture
def file(authority: Authority, plan: FilePlan) -> File:
    file = open_file(authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None)
    add_document(
        file=file,
        title="Antrag",
        kind="application",
        content=b"%PDF-1.7",
        original_name="antrag.pdf",
        content_type="application/pdf",
        actor=None,
    )
    return file


def _request(user: Any, method: str = "get", path: str = "/admin/", **data: Any) -> Any:
    factory = RequestFactory()
    request = factory.post(path, data) if method == "post" else factory.get(path)
    request._dont_enforce_csrf_checks = True
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize("model", [FilePlan, File, RecordDocument])
def test_admin_changelists_render(superuser: Any, file: File, model: type[Model]) -> None:
    response = site._registry[model].changelist_view(_request(superuser))
    html = response.render().content.decode()
    assert response.status_code == 200
    if model is FilePlan:
        assert "/admin/records/fileplan/import/" in html


def test_the_plan_page_shows_its_entries_for_editing(superuser: Any, plan: FilePlan) -> None:
    response = site._registry[FilePlan].change_view(_request(superuser), str(plan.pk))
    html = response.render().content.decode()
    assert 'name="entries-TOTAL_FORMS"' in html
    assert 'value="11.30.01"' in html


@pytest.mark.parametrize("model", [File, RecordDocument])
def test_files_and_documents_are_read_only(superuser: Any, file: File, model: type[Model]) -> None:
    model_admin = site._registry[model]
    request = _request(superuser)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    obj = model.objects.first()
    assert obj is not None
    response = model_admin.change_view(request, str(obj.pk))
    assert response.render().status_code == 200
    assert DocumentVersion not in site._registry


def _inline_data(plan: FilePlan, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The plan's change form as the browser submits it, with ``rows`` as extra entries."""
    entries = list(plan.entries.all())
    data: dict[str, Any] = {
        "name": plan.name,
        "reference_format": plan.reference_format,
        "unit_reference_format": plan.unit_reference_format,
        "entries-TOTAL_FORMS": str(len(entries) + len(rows)),
        "entries-INITIAL_FORMS": str(len(entries)),
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    for i, entry in enumerate(entries):
        data |= {
            f"entries-{i}-id": str(entry.pk),
            f"entries-{i}-plan": str(plan.pk),
            f"entries-{i}-key": entry.key,
            f"entries-{i}-title": entry.title,
            f"entries-{i}-retention_years": (
                "" if entry.retention_years is None else str(entry.retention_years)
            ),
            f"entries-{i}-retention_trigger": entry.retention_trigger,
            f"entries-{i}-disposal_action": entry.disposal_action,
        }
        if entry.retention_permanent:
            data[f"entries-{i}-retention_permanent"] = "on"
        if entry.is_active:
            data[f"entries-{i}-is_active"] = "on"
    for j, row in enumerate(rows, start=len(entries)):
        for key, value in row.items():
            data[f"entries-{j}-{key}"] = value
    return data


def _new(key: str, title: str, years: str = "") -> dict[str, Any]:
    return {
        "key": key,
        "title": title,
        "retention_years": years,
        "retention_trigger": "closed_year_end",
        "disposal_action": "evaluate",
        "is_active": "on",
    }


def test_a_group_and_its_entry_can_be_added_in_one_go(superuser: Any, plan: FilePlan) -> None:
    data = _inline_data(plan, [_new("11.40.01", "Geburten", "110"), _new("11.40", "Personenstand")])
    response = site._registry[FilePlan].change_view(
        _request(superuser, "post", **data), str(plan.pk)
    )
    assert response.status_code == 302, response.render().content.decode()[:3000]
    entry = plan.entries.get(key="11.40.01")
    assert entry.parent == plan.entries.get(key="11.40")
    assert entry.retention_years == 110
    assert AuditEvent.objects.filter(action="records.plan_entry_saved").count() == 2


def test_an_entry_without_its_group_is_refused_next_to_the_key(
    superuser: Any, plan: FilePlan
) -> None:
    data = _inline_data(plan, [_new("11.40.01", "Geburten", "110")])
    response = site._registry[FilePlan].change_view(
        _request(superuser, "post", **data), str(plan.pk)
    )
    html = response.render().content.decode()
    assert response.status_code == 200
    assert "Die Gruppe 11.40 über 11.40.01 gibt es in diesem Aktenplan nicht." in html
    assert 'value="Geburten"' in html  # what was typed is kept
    assert not plan.entries.filter(key="11.40.01").exists()


def test_a_retention_period_beyond_the_maximum_is_refused_next_to_the_field(
    superuser: Any, plan: FilePlan
) -> None:
    """As the CSV import: closing a file under 9000 years would have no due date to set."""
    data = _inline_data(plan, [_new("11.30.03", "Meldedaten", "9000")])
    response = site._registry[FilePlan].change_view(
        _request(superuser, "post", **data), str(plan.pk)
    )
    html = response.render().content.decode()
    assert response.status_code == 200
    assert "kleiner oder gleich 200" in html
    [formset] = response.context_data["inline_admin_formsets"]
    assert "kleiner oder gleich 200" in str(formset.formset.forms[-1].errors["retention_years"])
    assert 'value="9000"' in html  # what was typed is kept
    assert not plan.entries.filter(key="11.30.03").exists()
    data = _inline_data(plan, [_new("11.30.03", "Meldedaten", "200")])
    response = site._registry[FilePlan].change_view(
        _request(superuser, "post", **data), str(plan.pk)
    )
    assert response.status_code == 302
    assert plan.entries.get(key="11.30.03").retention_years == 200


def test_an_entry_with_files_cannot_be_deleted(superuser: Any, file: File) -> None:
    plan = file.plan_entry.plan
    data = _inline_data(plan, [])
    index = list(plan.entries.all()).index(file.plan_entry)
    data[f"entries-{index}-DELETE"] = "on"
    response = site._registry[FilePlan].change_view(
        _request(superuser, "post", **data), str(plan.pk)
    )
    html = response.render().content.decode()
    assert response.status_code == 200
    assert "geschützten verwandten Objekte" in html
    assert "Akte 11.30.01-0001/2026 Anmeldung" in html
    assert PlanEntry.objects.filter(pk=file.plan_entry_id).exists()


def test_the_import_page_imports_a_plan(superuser: Any, authority: Authority) -> None:
    model_admin = site._registry[FilePlan]
    assert model_admin.import_view(_request(superuser)).render().status_code == 200
    upload = SimpleUploadedFile("plan.csv", PLAN_CSV.encode(), content_type="text/csv")
    request = _request(
        superuser, "post", authority=str(authority.pk), name="Aktenplan", csv_file=upload
    )
    response = model_admin.import_view(request)
    assert response.status_code == 302
    assert authority.file_plan.entries.count() == 9
    assert AuditEvent.objects.get(action="records.file_plan_imported").actor == superuser


def test_the_import_page_names_the_malformed_rows(superuser: Any, authority: Authority) -> None:
    text = PLAN_CSV + "11.x;Falsch;5;;;\n11.60.01;Zulassung;10;;;\n"
    upload = SimpleUploadedFile("plan.csv", text.encode(), content_type="text/csv")
    request = _request(
        superuser, "post", authority=str(authority.pk), name="Mein Plan", csv_file=upload
    )
    response = site._registry[FilePlan].import_view(request)
    html = response.render().content.decode()
    assert response.status_code == 200
    assert "Zeile 11: „11.x“ ist kein Aktenplankennzeichen" in html
    assert "Zeile 12: Die Gruppe 11.60 über 11.60.01 fehlt in der Datei." in html
    assert 'value="Mein Plan"' in html
    assert not FilePlan.objects.exists()


def test_deleting_plans_from_the_list_is_audited(
    superuser: Any, other_authority: Authority
) -> None:
    # "Delete selected" calls delete_queryset, not delete_model (a plan with entries is protected)
    plan = FilePlan.objects.create(authority=other_authority, name="Leerer Plan")
    site._registry[FilePlan].delete_queryset(
        _request(superuser), FilePlan.objects.filter(pk=plan.pk)
    )
    assert not FilePlan.objects.filter(pk=plan.pk).exists()
    event = AuditEvent.objects.get(action="records.file_plan_deleted")
    assert event.object_id == str(plan.pk) and event.actor == superuser
