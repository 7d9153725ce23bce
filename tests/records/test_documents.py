"""Documents in a file: versions with SHA-256, author and time; nothing is ever overwritten."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile
from freezegun import freeze_time

from rathaus.core.models import AuditEvent, Authority
from rathaus.records.errors import IntegrityError, RecordsError
from rathaus.records.models import DocumentVersion, File, FilePlan, RecordDocument
from rathaus.records.selectors import documents_of, latest_version
from rathaus.records.services import (
    add_document,
    add_version,
    close_file,
    open_file,
    read_version,
    reopen_file,
)
from tests.accounts.factories import StaffFactory


@pytest.fixture
def file(authority: Authority, plan: FilePlan) -> File:
    return open_file(authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None)


def _add(file: File, content: bytes = b"%PDF-1.7 Antrag", **kwargs: object) -> DocumentVersion:
    values: dict[object, object] = {
        "title": "Antrag",
        "kind": "application",
        "content": content,
        "original_name": "antrag.pdf",
        "content_type": "application/pdf",
        "actor": None,
        **kwargs,
    }
    return add_document(file=file, **values)  # type: ignore[arg-type]


@freeze_time("2026-03-02 09:00")
def test_a_document_is_stored_with_hash_size_author_and_time(file: File) -> None:
    clerk = StaffFactory()
    version = _add(file, actor=clerk)
    assert version.number == 1
    assert version.sha256 == hashlib.sha256(b"%PDF-1.7 Antrag").hexdigest()
    assert version.size == len(b"%PDF-1.7 Antrag")
    assert version.author == clerk
    assert version.author_label == str(clerk)
    assert version.created_at.isoformat().startswith("2026-03-02T09:00")
    assert version.content_type == "application/pdf"
    assert version.original_name == "antrag.pdf"
    assert version.document.file == file
    assert version.document.kind == "application"
    assert version.content.storage.exists(version.content.name)
    assert read_version(version) == b"%PDF-1.7 Antrag"


def test_a_new_version_leaves_the_earlier_ones_as_they_were(file: File) -> None:
    first = _add(file, content=b"Fassung 1")
    second = add_version(
        document=first.document,
        content=b"Fassung 2",
        original_name="antrag-neu.pdf",
        content_type="application/pdf",
        actor=None,
    )
    third = add_version(
        document=first.document,
        content=b"Fassung 1",  # the same bytes again: still a version of its own
        original_name="antrag.pdf",
        content_type="application/pdf",
        actor=None,
    )
    assert [v.number for v in first.document.versions.all()] == [1, 2, 3]
    assert len({first.content.name, second.content.name, third.content.name}) == 3
    assert read_version(DocumentVersion.objects.get(pk=first.pk)) == b"Fassung 1"
    assert read_version(second) == b"Fassung 2"
    assert latest_version(first.document) == third
    assert list(documents_of(file)) == [first.document]


def test_versions_and_documents_cannot_be_changed_or_deleted(file: File) -> None:
    version = _add(file)
    version.sha256 = "0" * 64
    with pytest.raises(PermissionError):
        version.save()
    with pytest.raises(PermissionError):
        version.delete()
    with pytest.raises(PermissionError):
        DocumentVersion.objects.filter(pk=version.pk).update(size=1)
    with pytest.raises(PermissionError):
        DocumentVersion.objects.all().delete()
    with pytest.raises(PermissionError):
        RecordDocument.objects.filter(pk=version.document_id).update(title="Anders")
    with pytest.raises(PermissionError):
        version.document.delete()
    assert DocumentVersion.objects.get(pk=version.pk).sha256 != "0" * 64


def test_reading_a_version_whose_stored_bytes_were_changed_fails(file: File) -> None:
    version = _add(file)
    storage = version.content.storage
    storage.delete(version.content.name)
    storage.save(version.content.name, ContentFile(b"%PDF-1.7 Gefaelscht"))
    with pytest.raises(IntegrityError, match="stimmt nicht mit seinem SHA-256-Hashwert"):
        read_version(version)


def test_reading_a_version_whose_content_is_gone_fails(file: File) -> None:
    version = _add(file)
    version.content.storage.delete(version.content.name)
    with pytest.raises(IntegrityError, match="fehlt"):
        read_version(version)


def test_the_stored_name_does_not_carry_the_uploaded_path(file: File) -> None:
    version = _add(file, original_name="C:\\Users\\erika\\..\\Meldeschein.PDF")
    assert version.original_name == "Meldeschein.PDF"
    assert version.content.name.startswith(f"records/{file.authority_id}/{file.pk}/")
    assert version.content.name.endswith(".pdf")
    assert "erika" not in version.content.name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"content": b""}, "Das Dokument ist leer"),
        ({"kind": "gossip"}, "„gossip“ ist keine Dokumentart"),
        ({"title": " "}, "Ein Dokument braucht einen Titel"),
    ],
)
def test_invalid_documents_are_refused(file: File, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(RecordsError, match=message):
        _add(file, **kwargs)
    assert not RecordDocument.objects.exists()


def test_control_characters_in_a_document_title_become_spaces(file: File) -> None:
    version = _add(file, title="Vermerk\x0cSeite 2\x00\n")
    assert RecordDocument.objects.get(pk=version.document_id).title == "Vermerk Seite 2"
    with pytest.raises(RecordsError, match="Ein Dokument braucht einen Titel"):
        _add(file, title="\x0c\x1f")


def test_a_closed_file_takes_no_documents_until_it_is_reopened(file: File) -> None:
    version = _add(file)
    close_file(file=file, actor=None)
    with pytest.raises(RecordsError, match="ist geschlossen"):
        _add(file)
    with pytest.raises(RecordsError, match="ist geschlossen"):
        add_version(
            document=version.document,
            content=b"x",
            original_name="x.pdf",
            content_type="application/pdf",
            actor=None,
        )
    reopen_file(file=file, actor=None)
    assert _add(file).number == 1


def test_every_document_and_version_is_audited(file: File) -> None:
    clerk = StaffFactory()
    version = _add(file, actor=clerk)
    add_version(
        document=version.document,
        content=b"neu",
        original_name="a.pdf",
        content_type="application/pdf",
        actor=clerk,
    )
    assert AuditEvent.objects.filter(action="records.document_added", actor=clerk).count() == 1
    events = AuditEvent.objects.filter(action="records.version_added").order_by("id")
    assert [e.after["number"] for e in events] == [1, 2]
    assert events[0].after["sha256"] == version.sha256
    assert events[0].after["file"] == file.reference
