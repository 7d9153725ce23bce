"""Disposal (Aussonderung): legal holds, runs, the xdomea messages 0501/0502/0503/0506, the
receipts 0504/0505/0507, and the destruction that leaves a tombstone and a proof."""

from __future__ import annotations

import datetime
import hashlib
import io
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree as SafeET
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.utils import timezone, translation

from rathaus.core.models import AuditEvent, Authority
from rathaus.records import xdomea
from rathaus.records.disposal import (
    DISPOSED_TITLE,
    approve_destruction,
    cancel_run,
    carry_out_destruction,
    destroy,
    import_archive_receipt,
    import_confirmation,
    import_evaluation,
    place_hold,
    release_hold,
    start_run,
    write_evaluation_receipt,
    write_offer,
    write_transfer_package,
)
from rathaus.records.errors import DisposalError, RecordsError
from rathaus.records.models import (
    DisposalItem,
    DisposalOutcome,
    DisposalRecord,
    DisposalRun,
    DocumentVersion,
    File,
    FilePlan,
    PendingContentDeletion,
    PlanEntry,
    RecordDocument,
)
from rathaus.records.selectors import files_due_for_disposal, files_ready_for_disposal
from rathaus.records.services import add_document, add_version, close_file, open_file, reopen_file
from rathaus.records.signals import file_disposed
from rathaus.records.tasks import carry_out_disposal_job, purge_pending_contents_job

NS = xdomea.NS
Q = xdomea.q
OPENED = datetime.datetime(2015, 3, 2, 9, 0, tzinfo=datetime.UTC)
CLOSED = datetime.date(2015, 6, 30)


def _file(authority: Authority, plan_key: str, title: str, documents: int = 1) -> File:
    """A file closed in 2015: due long ago (5 years evaluate, 1 year destroy)."""
    file = open_file(
        authority=authority, plan_key=plan_key, title=title, actor=None, opened_at=OPENED
    )
    for n in range(documents):
        version = add_document(
            file=file,
            title=f"Antrag {n} von Erika Mustermann",
            kind="application",
            content=f"%PDF-1.7 Antrag {n} {title}".encode(),
            original_name=f"antrag-{n}.pdf",
            content_type="application/pdf",
            actor=None,
        )
    if documents:
        add_version(
            document=version.document,
            content=b"%PDF-1.7 corrected",
            original_name="antrag-korrigiert.pdf",
            content_type="application/pdf",
            actor=None,
        )
    return close_file(file=file, actor=None, closed_on=CLOSED)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are matched in English here; the German catalogue is checked once below."""
    with translation.override("en"):
        yield


@pytest.fixture
def evaluate_files(authority: Authority, plan: FilePlan) -> list[File]:
    return [
        _file(authority, "11.30.01", "Anmeldung Erika Mustermann", documents=2),
        _file(authority, "11.30.01", "Anmeldung Max Mustermann"),
    ]


@pytest.fixture
def destroy_file(authority: Authority, plan: FilePlan) -> File:
    return _file(authority, "11.20.01", "Briefwahl Erika Mustermann")


@pytest.fixture
def admin_user(db: None, django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser(
        email="archivar@example.org", password="x" * 12
    )


@pytest.fixture
def disposed_signals() -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    file_disposed.connect(receiver, dispatch_uid="test_disposal")
    yield received
    file_disposed.disconnect(dispatch_uid="test_disposal")


def _head(run: DisposalRun, code: str, process: uuid.UUID | None = None) -> str:
    return (
        f"<x:Kopf><x:ProzessID>{process or run.process_id}</x:ProzessID>"
        f'<x:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp">'
        f"<code>{code}</code></x:Nachrichtentyp>"
        f"<x:Erstellungszeitpunkt>2030-01-02T10:00:00+01:00</x:Erstellungszeitpunkt></x:Kopf>"
    )


def evaluation_xml(
    run: DisposalRun,
    decisions: dict[uuid.UUID, str],
    *,
    root: str = "Aussonderung.Bewertungsverzeichnis.0502",
    code: str = "0502",
    process: uuid.UUID | None = None,
) -> bytes:
    objects = "".join(
        f"<x:BewertetesObjekt><x:ID>{file_id}</x:ID><x:Aussonderungsart>"
        f"<x:Aussonderungsart><code>{decision}</code></x:Aussonderungsart>"
        f"</x:Aussonderungsart></x:BewertetesObjekt>"
        for file_id, decision in decisions.items()
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><x:{root} xmlns:x="{NS}">'
        f"{_head(run, code, process)}{objects}</x:{root}>"
    ).encode()


def confirmation_xml(
    run: DisposalRun,
    results: dict[uuid.UUID, str | None],
    *,
    root: str = "Aussonderung.AussonderungImportBestaetigen.0506",
    code: str = "0506",
) -> bytes:
    """``results``: file id → archive signature, or ``None`` for a failed import."""
    objects = "".join(
        f"<x:AusgesondertesSGO><x:IDSGO>{file_id}</x:IDSGO>"
        + (
            f"<x:Erfolgreich>true</x:Erfolgreich><x:Archivkennung>{sig}</x:Archivkennung>"
            if sig is not None
            else "<x:Erfolgreich>false</x:Erfolgreich><x:Fehlermeldung>defekt</x:Fehlermeldung>"
        )
        + "</x:AusgesondertesSGO>"
        for file_id, sig in results.items()
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><x:{root} xmlns:x="{NS}">'
        f"{_head(run, code)}{objects}</x:{root}>"
    ).encode()


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<x:Aussonderung.Bewertungsverzeichnis.0502 xmlns:x="urn:xoev-de:xdomea:schema:3.1.0">
&lol3;</x:Aussonderung.Bewertungsverzeichnis.0502>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<x:Aussonderung.Bewertungsverzeichnis.0502 xmlns:x="urn:xoev-de:xdomea:schema:3.1.0">
&xxe;</x:Aussonderung.Bewertungsverzeichnis.0502>"""


def _evaluated(run: DisposalRun, files: list[File], decision: str = "A") -> None:
    write_offer(run=run, actor=None)
    import_evaluation(
        run=run, data=evaluation_xml(run, {f.xdomea_id: decision for f in files}), actor=None
    )


# --- legal hold -------------------------------------------------------------------------------


def test_a_held_file_is_not_taken_into_a_run_and_release_makes_it_due_again(
    authority: Authority, evaluate_files: list[File], admin_user: Any
) -> None:
    held, other = evaluate_files
    hold = place_hold(file=held, reason="lawsuit", note="VG Düsseldorf 1 K 1/30", actor=admin_user)
    today = datetime.date.today()
    assert list(files_ready_for_disposal(authority=authority, on=today)) == [other]
    listed = {f.reference: f.held for f in files_due_for_disposal(authority=authority)}
    assert listed == {held.reference: True, other.reference: False}
    run = start_run(authority=authority, actor=admin_user)
    assert [i.file for i in run.items.all()] == [other]

    release_hold(hold=hold, actor=admin_user)
    assert list(files_ready_for_disposal(authority=authority, on=today)) == [held]
    actions = list(
        AuditEvent.objects.filter(action__startswith="records.hold").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["records.hold_placed", "records.hold_released"]
    with pytest.raises(RecordsError, match="already been released"):
        release_hold(hold=hold, actor=admin_user)


def test_a_hold_placed_during_a_run_withdraws_the_file_before_it_is_handed_over(
    authority: Authority, evaluate_files: list[File], admin_user: Any
) -> None:
    run = start_run(authority=authority, actor=None)
    _evaluated(run, evaluate_files)
    place_hold(file=evaluate_files[0], reason="objection", actor=admin_user)
    out = io.BytesIO()
    assert write_transfer_package(run=run, out=out, actor=None) == 1
    with zipfile.ZipFile(out) as package:
        xml_name = next(n for n in package.namelist() if n.endswith(".xml"))
        ids = [e.text for e in SafeET.fromstring(package.read(xml_name)).iter(Q("ID"))]
    assert str(evaluate_files[0].xdomea_id) not in ids
    assert str(evaluate_files[1].xdomea_id) in ids
    import_confirmation(
        run=run, data=confirmation_xml(run, {evaluate_files[1].xdomea_id: "A-1"}), actor=None
    )
    destroy(run=run, approver=admin_user)
    evaluate_files[0].refresh_from_db()
    assert not evaluate_files[0].is_disposed
    assert evaluate_files[0].documents.count() == 2


def test_a_run_that_cannot_go_on_is_cancelled_and_frees_its_files(
    authority: Authority,
    evaluate_files: list[File],
    destroy_file: File,
    admin_user: Any,
    tmp_path: Path,
) -> None:
    run = start_run(authority=authority, actor=None)
    for held in evaluate_files:  # every file for the archive is put on hold before the offer
        place_hold(file=held, reason="objection", actor=admin_user)
    with pytest.raises(DisposalError, match=r"no files to offer.*disposal_cancel"):
        write_offer(run=run, actor=None)
    with pytest.raises(DisposalError, match="no files due"):
        start_run(authority=authority, actor=None)  # the file to destroy is still in the run
    with pytest.raises(DisposalError, match="Say why"):
        cancel_run(run=run, reason="  ", actor=admin_user)
    with pytest.raises(DisposalError, match="at most 500"):
        cancel_run(run=run, reason="x" * 501, actor=admin_user)

    out = io.StringIO()
    call_command("disposal_cancel", str(run.pk), "--reason", "Alle Akten gesperrt", stdout=out)
    assert destroy_file.reference in out.getvalue()
    run.refresh_from_db()
    assert run.state == DisposalRun.State.CANCELLED
    item = DisposalItem.objects.get(run=run, file=destroy_file)
    assert not item.active and item.note == "Alle Akten gesperrt"
    event = AuditEvent.objects.get(action="records.disposal_cancelled", object_id=str(run.pk))
    assert event.after["files_released"] == [destroy_file.reference]
    with pytest.raises(DisposalError, match="cancelling it is not possible"):
        cancel_run(run=run, reason="again", actor=admin_user)
    with pytest.raises(DisposalError, match="is not possible now"):
        destroy(run=run, approver=admin_user)
    with pytest.raises(CommandError, match="cancelling it is not possible"):
        call_command("disposal_cancel", str(run.pk), "--reason", "again")

    again = start_run(authority=authority, actor=None)  # the file to destroy is free again
    assert [i.file for i in again.items.all()] == [destroy_file]
    assert destroy(run=again, approver=admin_user).disposed == [destroy_file.reference]


# --- a whole run ------------------------------------------------------------------------------


def test_a_run_offers_hands_over_and_disposes_of_evaluated_files(
    authority: Authority,
    evaluate_files: list[File],
    destroy_file: File,
    admin_user: Any,
    disposed_signals: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    kept, dropped = evaluate_files
    storage = DocumentVersion._meta.get_field("content").storage
    contents = {
        f.pk: list(
            DocumentVersion.objects.filter(document__file=f).values_list("content", flat=True)
        )
        for f in (kept, dropped, destroy_file)
    }
    assert all(storage.exists(name) for names in contents.values() for name in names)

    run = start_run(authority=authority, actor=admin_user)
    assert run.state == DisposalRun.State.STARTED
    assert {(i.file_id, i.offered, i.decision) for i in run.items.all()} == {
        (kept.pk, True, ""),
        (dropped.pk, True, ""),
        (destroy_file.pk, False, "V"),
    }

    # 0501: the offered files with their metadata, not the file to destroy
    offer = SafeET.fromstring(write_offer(run=run, actor=admin_user))
    assert offer.tag == Q("Aussonderung.Anbieteverzeichnis.0501")
    head = offer.find(Q("Kopf"))
    assert head is not None
    assert head.findtext(Q("ProzessID")) == str(run.process_id)
    assert head.find(Q("Nachrichtentyp")).findtext("code") == "0501"  # type: ignore[union-attr]
    assert head.findtext(
        f"{Q('Absender')}/{Q('Behoerdenkennung')}/{Q('Behoerdenschluessel')}/code"
    ) == ("05124000")
    files = offer.findall(f"{Q('Schriftgutobjekt')}/{Q('Akte')}")
    assert len(files) == 2
    first = files[0]
    assert first.findtext(f"{Q('Identifikation')}/{Q('ID')}") == str(kept.xdomea_id)
    meta = first.find(Q("AllgemeineMetadaten"))
    assert meta is not None
    assert meta.findtext(Q("Kennzeichen")) == kept.reference
    assert meta.findtext(Q("Betreff")) == "Anmeldung Erika Mustermann"
    assert meta.findtext(f"{Q('Aktenplaneinheit')}/{Q('Kennzeichen')}") == "11.30.01"
    assert first.findtext(f"{Q('Laufzeit')}/{Q('Beginn')}") == "2015-03-02"
    assert first.findtext(f"{Q('Laufzeit')}/{Q('Ende')}") == "2015-06-30"
    archival = first.find(Q("ArchivspezifischeMetadaten"))
    assert archival is not None
    assert archival.findtext(f"{Q('Aussonderungsart')}/{Q('Aussonderungsart')}/code") == "B"
    assert archival.findtext(f"{Q('Aufbewahrungsdauer')}/{Q('AnzahlJahre')}") == "5"
    assert first.find(Q("Akteninhalt")) is None  # the offer carries no documents
    run.refresh_from_db()
    assert run.state == DisposalRun.State.OFFERED

    # 0502: the archive takes one, the other is destroyed
    import_evaluation(
        run=run,
        data=evaluation_xml(run, {kept.xdomea_id: "A", dropped.xdomea_id: "V"}),
        actor=admin_user,
    )
    assert run.state == DisposalRun.State.EVALUATED
    with pytest.raises(DisposalError, match="hand them over"):
        destroy(run=run, approver=admin_user)

    # 0503: ZIP with the message and every version, checked by SHA-256
    out = io.BytesIO()
    assert write_transfer_package(run=run, out=out, actor=admin_user) == 1
    with zipfile.ZipFile(out) as package:
        names = package.namelist()
        xml_name = f"{run.process_id}_Aussonderung.Aussonderung.0503.xml"
        assert xml_name in names
        message = SafeET.fromstring(package.read(xml_name))
        assert message.tag == Q("Aussonderung.Aussonderung.0503")
        record = message.find(f"{Q('Schriftgutobjekt')}/{Q('Akte')}")
        assert record is not None
        assert record.findtext(f"{Q('Identifikation')}/{Q('ID')}") == str(kept.xdomea_id)
        documents = record.findall(f"{Q('Akteninhalt')}/{Q('Dokument')}")
        assert len(documents) == 2
        versions = DocumentVersion.objects.filter(document__file=kept)
        assert versions.count() == 3
        primaries = {p.findtext(Q("Dateiname")): p for p in record.iter(Q("Primaerdokument"))}
        assert len(primaries) == 3
        checksums = {f.findtext(Q("Name")): f.findtext(Q("Wert")) for f in record.iter(Q("Feld"))}
        for name, primary in primaries.items():
            assert name in names
            content = package.read(name)
            assert checksums[f"{name}:SHA-256"] == hashlib.sha256(content).hexdigest()
            assert checksums[f"{name}:MIME-Typ"] == "application/pdf"
            assert primary.findtext(Q("DateinameOriginal")) in {
                "antrag-0.pdf",
                "antrag-1.pdf",
                "antrag-korrigiert.pdf",
            }
        assert {v.sha256 for v in versions} == {
            hashlib.sha256(package.read(n)).hexdigest() for n in primaries
        }
        sums = package.read("SHA256SUMS").decode().splitlines()
        assert len(sums) == 3
        assert not any(str(dropped.xdomea_id) in n for n in names)
    assert run.state == DisposalRun.State.TRANSFERRED

    # 0506 and destruction
    import_confirmation(
        run=run, data=confirmation_xml(run, {kept.xdomea_id: "StAW 1/2030-17"}), actor=None
    )
    assert run.state == DisposalRun.State.CONFIRMED
    with django_capture_on_commit_callbacks(execute=True):
        result = destroy(run=run, approver=admin_user)
    assert sorted(result.disposed) == sorted(
        [kept.reference, dropped.reference, destroy_file.reference]
    )
    assert result.kept == [] and result.contents_pending == 0
    run.refresh_from_db()
    assert run.state == DisposalRun.State.COMPLETED
    assert run.approved_by == admin_user

    for file in (kept, dropped, destroy_file):
        file.refresh_from_db()
        assert file.title == DISPOSED_TITLE  # the tombstone names nobody
        assert file.disposed_on is not None
        assert not RecordDocument.objects.filter(file=file).exists()
        assert not DocumentVersion.objects.filter(document__file=file).exists()
        assert not any(storage.exists(name) for name in contents[file.pk])
    assert kept.disposal_outcome == DisposalOutcome.ARCHIVED
    assert dropped.disposal_outcome == DisposalOutcome.DESTROYED
    assert destroy_file.disposal_outcome == DisposalOutcome.DESTROYED

    proof = DisposalRecord.objects.get(file=kept)
    assert proof.reference == kept.reference
    assert proof.plan_key == "11.30.01"
    assert proof.archive_signature == "StAW 1/2030-17"
    assert proof.outcome == DisposalOutcome.ARCHIVED
    assert proof.run == run and proof.approved_by_label == str(admin_user)
    assert (proof.documents, proof.versions) == (2, 3)
    assert proof.closed_on == CLOSED
    assert "Mustermann" not in str([getattr(proof, f.attname) for f in proof._meta.fields])
    with pytest.raises(PermissionError):
        proof.delete()
    assert not PendingContentDeletion.objects.exists()

    assert sorted((s["reference"], s["outcome"]) for s in disposed_signals) == sorted(
        [
            (kept.reference, "archived"),
            (dropped.reference, "destroyed"),
            (destroy_file.reference, "destroyed"),
        ]
    )
    assert {s["authority_id"] for s in disposed_signals} == {authority.pk}
    assert files_due_for_disposal(authority=authority).count() == 0


def test_files_to_destroy_skip_the_archive(
    authority: Authority,
    destroy_file: File,
    admin_user: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    run = start_run(authority=authority, actor=None)
    assert run.state == DisposalRun.State.EVALUATED  # nothing to offer
    with pytest.raises(DisposalError, match="not possible now"):
        write_offer(run=run, actor=None)
    with pytest.raises(DisposalError, match="no files for the archive"):
        write_transfer_package(run=run, out=io.BytesIO(), actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        result = destroy(run=run, approver=admin_user)
    assert result.disposed == [destroy_file.reference]
    destroy_file.refresh_from_db()
    assert destroy_file.disposal_outcome == DisposalOutcome.DESTROYED
    assert DisposalRecord.objects.get(file=destroy_file).archive_signature == ""


def test_destruction_needs_an_approver_with_the_permission(
    authority: Authority, destroy_file: File, django_user_model: Any
) -> None:
    clerk = django_user_model.objects.create_user(email="clerk@example.org", password="x" * 12)
    run = start_run(authority=authority, actor=None)
    with pytest.raises(DisposalError, match="may not approve"):
        destroy(run=run, approver=clerk)
    with pytest.raises(DisposalError, match="may not approve"):
        destroy(run=run, approver=None)
    assert RecordDocument.objects.filter(file=destroy_file).exists()


def test_contents_that_could_not_be_deleted_are_retried(
    authority: Authority,
    destroy_file: File,
    admin_user: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    storage = DocumentVersion._meta.get_field("content").storage
    names = list(
        DocumentVersion.objects.filter(document__file=destroy_file).values_list(
            "content", flat=True
        )
    )

    def broken(name: str) -> None:
        raise OSError("storage unavailable")

    run = start_run(authority=authority, actor=None)
    with monkeypatch.context() as patch:
        patch.setattr(storage, "delete", broken)
        with django_capture_on_commit_callbacks(execute=True):
            result = destroy(run=run, approver=admin_user)
    assert result.disposed == [destroy_file.reference]
    assert result.contents_pending == len(names) == 2
    pending = PendingContentDeletion.objects.filter(item__run=run)
    assert sorted(p.storage_name for p in pending) == sorted(names)
    assert all(p.attempts >= 1 and "storage unavailable" in p.last_error for p in pending)
    assert all(storage.exists(n) for n in names)
    run.refresh_from_db()
    assert run.state == DisposalRun.State.DESTROYING

    result = destroy(run=run, approver=admin_user)  # resumed
    assert result.disposed == [] and result.contents_pending == 0
    assert not any(storage.exists(n) for n in names)
    run.refresh_from_db()
    assert run.state == DisposalRun.State.COMPLETED
    assert DisposalRecord.objects.filter(file=destroy_file).count() == 1


def test_the_hourly_job_deletes_the_contents_left_pending(
    authority: Authority,
    destroy_file: File,
    admin_user: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    storage = DocumentVersion._meta.get_field("content").storage
    names = list(
        DocumentVersion.objects.filter(document__file=destroy_file).values_list(
            "content", flat=True
        )
    )
    run = start_run(authority=authority, actor=None)
    with monkeypatch.context() as patch:
        patch.setattr(storage, "delete", lambda name: (_ for _ in ()).throw(OSError("down")))
        with django_capture_on_commit_callbacks(execute=True):
            assert destroy(run=run, approver=admin_user).contents_pending == 2
    assert all(storage.exists(n) for n in names)
    job = "rathaus.records.tasks.purge_pending_contents_job"
    assert job in [path for path, _every in settings.PERIODIC_JOBS]

    assert purge_pending_contents_job.call() == 0
    assert not any(storage.exists(n) for n in names)
    assert not PendingContentDeletion.objects.filter(item__run=run).exists()


def test_a_disposed_file_takes_no_documents_and_cannot_be_reopened(
    authority: Authority, destroy_file: File, admin_user: Any
) -> None:
    destroy(run=start_run(authority=authority, actor=None), approver=admin_user)
    with pytest.raises(RecordsError, match="disposed of and cannot be reopened"):
        reopen_file(file=destroy_file, actor=None)
    with pytest.raises(RecordsError, match="disposed of; it takes no documents"):
        add_document(
            file=destroy_file,
            title="Nachtrag",
            kind="note",
            content=b"x",
            original_name="x.txt",
            content_type="text/plain",
            actor=None,
        )
    with pytest.raises(RecordsError, match="already been disposed"):
        place_hold(file=destroy_file, reason="audit", actor=admin_user)
    with pytest.raises(DisposalError, match="no files due"):
        start_run(authority=authority, actor=None)


def test_a_reopened_file_leaves_its_run(
    authority: Authority, destroy_file: File, admin_user: Any
) -> None:
    run = start_run(authority=authority, actor=None)
    reopen_file(file=destroy_file, actor=None)
    item = DisposalItem.objects.get(run=run)
    assert not item.active
    assert destroy(run=run, approver=admin_user).disposed == []
    assert destroy_file.documents.count() == 1


def test_existing_files_have_distinct_xdomea_ids(evaluate_files: list[File]) -> None:
    ids = {f.xdomea_id for f in evaluate_files}
    assert len(ids) == 2 and all(isinstance(i, uuid.UUID) for i in ids)


# --- bad archive messages ---------------------------------------------------------------------


@pytest.fixture
def offered_run(authority: Authority, evaluate_files: list[File]) -> DisposalRun:
    run = start_run(authority=authority, actor=None)
    write_offer(run=run, actor=None)
    return run


def _unchanged(run: DisposalRun, state: str) -> None:
    run.refresh_from_db()
    assert run.state == state
    assert not run.items.filter(offered=True).exclude(decision="").exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong_root", "not a “Aussonderung.Bewertungsverzeichnis.0502”"),
        ("wrong_code", "message type in the head is “0506”"),
        ("wrong_namespace", "uses the namespace"),
        ("wrong_process", "belongs to the process"),
        ("unknown_id", "unknown file"),
        ("not_a_uuid", "is not an xdomea ID"),
        ("missing", "no decision for"),
        ("bad_decision", "expected A or V"),
        ("malformed", "not well-formed XML"),
        ("entity_bomb", "DTD or entity"),
        ("external_entity", "DTD or entity"),
        ("too_large", "larger than"),
    ],
)
def test_a_bad_evaluation_is_refused_and_changes_nothing(
    offered_run: DisposalRun, evaluate_files: list[File], case: str, message: str
) -> None:
    run = offered_run
    ids = {f.xdomea_id: "A" for f in evaluate_files}
    data = {
        "wrong_root": evaluation_xml(
            run, ids, root="Aussonderung.AussonderungImportBestaetigen.0506"
        ),
        "wrong_code": evaluation_xml(run, ids, code="0506"),
        "wrong_namespace": evaluation_xml(run, ids).replace(
            NS.encode(), b"urn:xoev-de:xdomea:schema:2.4.0"
        ),
        "wrong_process": evaluation_xml(run, ids, process=uuid.uuid4()),
        "unknown_id": evaluation_xml(run, {**ids, uuid.uuid4(): "V"}),
        "not_a_uuid": evaluation_xml(run, ids).replace(
            str(evaluate_files[0].xdomea_id).encode(), b"4711"
        ),
        "missing": evaluation_xml(run, {evaluate_files[0].xdomea_id: "A"}),
        "bad_decision": evaluation_xml(run, {f.xdomea_id: "B" for f in evaluate_files}),
        "malformed": evaluation_xml(run, ids)[:-20],
        "entity_bomb": ENTITY_BOMB,
        "external_entity": EXTERNAL_ENTITY,
        "too_large": b" " * (xdomea.MAX_MESSAGE_BYTES + 1),
    }[case]
    with pytest.raises(DisposalError, match=message):
        import_evaluation(run=run, data=data, actor=None)
    _unchanged(run, DisposalRun.State.OFFERED)


def test_an_evaluation_naming_a_file_of_another_run_is_refused(
    authority: Authority, offered_run: DisposalRun, evaluate_files: list[File]
) -> None:
    late = _file(authority, "11.30.01", "Anmeldung später")
    second = start_run(authority=authority, actor=None)
    assert [i.file for i in second.items.all()] == [late]  # the others are in the first run
    data = evaluation_xml(
        offered_run, {**{f.xdomea_id: "A" for f in evaluate_files}, late.xdomea_id: "V"}
    )
    with pytest.raises(DisposalError, match=f"belongs to disposal run {second.pk}"):
        import_evaluation(run=offered_run, data=data, actor=None)
    _unchanged(offered_run, DisposalRun.State.OFFERED)


def test_the_errors_are_german_for_german_users(offered_run: DisposalRun) -> None:
    with translation.override("de"), pytest.raises(DisposalError) as error:
        import_evaluation(run=offered_run, data=b"<kaputt", actor=None)
    assert "kein wohlgeformtes XML" in str(error.value)
    with translation.override("de"), pytest.raises(DisposalError) as error:
        import_confirmation(run=offered_run, data=b"<kaputt", actor=None)
    assert "das Einlesen der Importbestätigung ist jetzt nicht möglich" in str(error.value)


def test_an_evaluation_for_a_run_in_the_wrong_state_is_refused(
    authority: Authority, evaluate_files: list[File]
) -> None:
    run = start_run(authority=authority, actor=None)  # not offered yet
    data = evaluation_xml(run, {f.xdomea_id: "A" for f in evaluate_files})
    with pytest.raises(DisposalError, match="not possible now"):
        import_evaluation(run=run, data=data, actor=None)
    write_offer(run=run, actor=None)
    import_evaluation(run=run, data=data, actor=None)
    with pytest.raises(DisposalError, match="not possible now"):
        import_evaluation(run=run, data=data, actor=None)


@pytest.fixture
def transferred_run(offered_run: DisposalRun, evaluate_files: list[File]) -> DisposalRun:
    import_evaluation(
        run=offered_run,
        data=evaluation_xml(offered_run, {f.xdomea_id: "A" for f in evaluate_files}),
        actor=None,
    )
    write_transfer_package(run=offered_run, out=io.BytesIO(), actor=None)
    return offered_run


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong_root", "not a “Aussonderung.AussonderungImportBestaetigen.0506”"),
        ("wrong_code", "message type in the head is “0502”"),
        ("unknown_id", "unknown file"),
        ("missing", "no result for"),
        ("no_signature", "archive signature"),
        ("malformed", "not well-formed XML"),
        ("entity_bomb", "DTD or entity"),
        ("external_entity", "DTD or entity"),
        ("bad_flag", "expected true or false"),
    ],
)
def test_a_bad_import_confirmation_is_refused_and_changes_nothing(
    transferred_run: DisposalRun, evaluate_files: list[File], case: str, message: str
) -> None:
    run = transferred_run
    sigs: dict[uuid.UUID, str | None] = {f.xdomea_id: f"A-{f.pk}" for f in evaluate_files}
    data = {
        "wrong_root": confirmation_xml(run, sigs, root="Aussonderung.Bewertungsverzeichnis.0502"),
        "wrong_code": confirmation_xml(run, sigs, code="0502"),
        "unknown_id": confirmation_xml(run, {**sigs, uuid.uuid4(): "X"}),
        "missing": confirmation_xml(run, {evaluate_files[0].xdomea_id: "A-1"}),
        "no_signature": confirmation_xml(run, sigs).replace(
            f"<x:Archivkennung>A-{evaluate_files[0].pk}</x:Archivkennung>".encode(), b""
        ),
        "malformed": b"<x:Aussonderung",
        "entity_bomb": ENTITY_BOMB,
        "external_entity": EXTERNAL_ENTITY,
        "bad_flag": confirmation_xml(run, sigs).replace(b">true<", b">vielleicht<", 1),
    }[case]
    with pytest.raises(DisposalError, match=message):
        import_confirmation(run=run, data=data, actor=None)
    run.refresh_from_db()
    assert run.state == DisposalRun.State.TRANSFERRED
    assert not run.items.filter(confirmed_at__isnull=False).exists()
    assert run.items.filter(active=True).count() == 2


def test_a_file_the_archive_could_not_import_is_kept(
    transferred_run: DisposalRun,
    evaluate_files: list[File],
    admin_user: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    good, bad = evaluate_files
    run = transferred_run
    import_confirmation(
        run=run,
        data=confirmation_xml(run, {good.xdomea_id: "A-1", bad.xdomea_id: None}),
        actor=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = destroy(run=run, approver=admin_user)
    assert result.disposed == [good.reference]
    bad.refresh_from_db()
    assert not bad.is_disposed and bad.documents.count() == 1
    assert "defekt" in DisposalItem.objects.get(run=run, file=bad).note
    run.refresh_from_db()
    assert run.state == DisposalRun.State.COMPLETED


def test_a_legal_hold_placed_while_the_confirmation_is_imported_stays(
    transferred_run: DisposalRun,
    evaluate_files: list[File],
    admin_user: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hold locks the file, not the run: the import must not write back the item's
    "active" from its earlier read."""
    from rathaus.records import disposal

    good, held = evaluate_files
    run = transferred_run
    real_now = disposal.timezone.now
    placed: list[bool] = []

    def now_after_a_hold() -> datetime.datetime:  # the import's items are read by now
        if not placed:
            placed.append(True)
            place_hold(file=held, reason="lawsuit", note="VG 1 K 2/30", actor=admin_user)
        return real_now()

    monkeypatch.setattr(disposal.timezone, "now", now_after_a_hold)
    import_confirmation(
        run=run,
        data=confirmation_xml(run, {good.xdomea_id: "A-1", held.xdomea_id: "A-2"}),
        actor=None,
    )
    monkeypatch.setattr(disposal.timezone, "now", real_now)
    item = DisposalItem.objects.get(run=run, file=held)
    assert not item.active  # withdrawn by the hold, and stays so


def test_a_confirmation_before_the_hand_over_is_refused(
    offered_run: DisposalRun, evaluate_files: list[File]
) -> None:
    data = confirmation_xml(offered_run, {f.xdomea_id: "A" for f in evaluate_files})
    with pytest.raises(DisposalError, match="not possible now"):
        import_confirmation(run=offered_run, data=data, actor=None)


OFFER_RECEIPT = "Aussonderung.AnbietungEmpfangBestaetigen.0504"
TRANSFER_RECEIPT = "Aussonderung.AussonderungEmpfangBestaetigen.0507"


def receipt_xml(
    run: DisposalRun,
    root: str = OFFER_RECEIPT,
    code: str = "0504",
    *,
    process: uuid.UUID | None = None,
) -> bytes:
    """An archive's receipt: the head only."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><x:{root} xmlns:x="{NS}">'
        f"{_head(run, code, process)}</x:{root}>"
    ).encode()


def _receipt_events(run: DisposalRun) -> list[tuple[str, Any]]:
    return list(
        AuditEvent.objects.filter(
            object_id=str(run.pk),
            action__in=[
                "records.disposal_offer_received",
                "records.disposal_evaluation_receipt",
                "records.disposal_transfer_received",
            ],
        )
        .order_by("pk")
        .values_list("action", "after")
    )


def test_the_receipts_of_a_run_are_recorded_and_written(
    authority: Authority, evaluate_files: list[File], admin_user: Any
) -> None:
    run = start_run(authority=authority, actor=None)
    offer = SafeET.fromstring(write_offer(run=run, actor=None))
    # the offer asks the archive for its receipt
    assert offer.findtext(f"{Q('Kopf')}/{Q('Empfangsbestaetigung')}") == "true"

    # 0504: the archive received the offer; a repeated receipt changes nothing
    assert import_archive_receipt(run=run, data=receipt_xml(run), actor=admin_user) == "0504"
    run.refresh_from_db()
    first = run.offer_receipt_at
    assert first is not None and run.state == DisposalRun.State.OFFERED
    assert import_archive_receipt(run=run, data=receipt_xml(run), actor=admin_user) == "0504"
    run.refresh_from_db()
    assert run.offer_receipt_at == first
    [(action, after)] = _receipt_events(run)
    assert action == "records.disposal_offer_received"
    assert after == {"message": "0504", "written_by_archive": "2030-01-02T10:00:00+01:00"}

    # a receipt of a package not sent yet is refused
    with pytest.raises(DisposalError, match="has not written one yet"):
        import_archive_receipt(run=run, data=receipt_xml(run, TRANSFER_RECEIPT, "0507"), actor=None)
    with pytest.raises(DisposalError, match="needs an imported evaluation"):
        write_evaluation_receipt(run=run, actor=None)
    run.refresh_from_db()
    assert run.transfer_receipt_at is None and run.evaluation_receipt_at is None

    # 0502 asking for a receipt, then 0505 written for the archive
    evaluation = evaluation_xml(run, {f.xdomea_id: "A" for f in evaluate_files}).replace(
        b"</x:Kopf>", b"<x:Empfangsbestaetigung>true</x:Empfangsbestaetigung></x:Kopf>"
    )
    import_evaluation(run=run, data=evaluation, actor=None)
    assert run.evaluation_receipt_requested
    message = SafeET.fromstring(write_evaluation_receipt(run=run, actor=admin_user))
    assert message.tag == Q("Aussonderung.BewertungEmpfangBestaetigen.0505")
    head = message.find(Q("Kopf"))
    assert head is not None
    assert head.findtext(Q("ProzessID")) == str(run.process_id)
    assert head.findtext(f"{Q('Nachrichtentyp')}/code") == "0505"
    assert head.findtext(f"{Q('Absender')}/{Q('Institution')}/{Q('Name')}") == authority.name
    assert head.find(Q("Empfangsbestaetigung")) is None  # no receipt for a receipt
    assert list(message) == [head]
    written = run.evaluation_receipt_at
    assert written is not None and run.state == DisposalRun.State.EVALUATED
    write_evaluation_receipt(run=run, actor=admin_user)  # may be written again
    run.refresh_from_db()
    assert run.evaluation_receipt_at == written

    # 0503 asks for a receipt too; the archive's 0507 is recorded
    package = io.BytesIO()
    write_transfer_package(run=run, out=package, actor=None)
    with zipfile.ZipFile(package) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".xml")]
        transfer = SafeET.fromstring(archive.read(name))
    assert transfer.findtext(f"{Q('Kopf')}/{Q('Empfangsbestaetigung')}") == "true"
    receipt = receipt_xml(run, TRANSFER_RECEIPT, "0507").replace(
        b"2030-01-02T10:00:00+01:00", b"gestern"
    )
    assert import_archive_receipt(run=run, data=receipt, actor=None) == "0507"
    run.refresh_from_db()
    assert run.transfer_receipt_at is not None and run.state == DisposalRun.State.TRANSFERRED
    assert _receipt_events(run)[1:] == [
        ("records.disposal_evaluation_receipt", {"message": "0505", "first": True}),
        ("records.disposal_evaluation_receipt", {"message": "0505", "first": False}),
        ("records.disposal_transfer_received", {"message": "0507", "written_by_archive": None}),
    ]


def test_an_evaluation_without_the_request_asks_for_no_receipt(
    offered_run: DisposalRun, evaluate_files: list[File]
) -> None:
    evaluation = evaluation_xml(offered_run, {f.xdomea_id: "V" for f in evaluate_files})
    import_evaluation(run=offered_run, data=evaluation, actor=None)
    offered_run.refresh_from_db()
    assert offered_run.evaluation_receipt_requested is False


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("evaluation", "neither the archive's receipt of an offer"),
        ("wrong_code", "message type in the head is “0507”"),
        ("wrong_namespace", "uses the namespace"),
        ("wrong_process", "belongs to the process"),
        ("malformed", "not well-formed XML"),
        ("entity_bomb", "DTD or entity"),
        ("too_large", "larger than"),
        ("cancelled_before_offer", "has not written one yet"),
    ],
)
def test_a_bad_archive_receipt_is_refused_and_changes_nothing(
    authority: Authority, evaluate_files: list[File], case: str, message: str
) -> None:
    run = start_run(authority=authority, actor=None)
    if case != "cancelled_before_offer":
        write_offer(run=run, actor=None)
    else:
        cancel_run(run=run, reason="Akten fehlen", actor=None)
    data = {
        "evaluation": evaluation_xml(run, {f.xdomea_id: "A" for f in evaluate_files}),
        "wrong_code": receipt_xml(run, code="0507"),
        "wrong_namespace": receipt_xml(run).replace(
            NS.encode(), b"urn:xoev-de:xdomea:schema:2.4.0"
        ),
        "wrong_process": receipt_xml(run, process=uuid.uuid4()),
        "malformed": receipt_xml(run)[:-20],
        "entity_bomb": ENTITY_BOMB,
        "too_large": b" " * (xdomea.MAX_MESSAGE_BYTES + 1),
        "cancelled_before_offer": receipt_xml(run),
    }[case]
    with pytest.raises(DisposalError, match=message):
        import_archive_receipt(run=run, data=data, actor=None)
    run.refresh_from_db()
    assert run.offer_receipt_at is None
    assert _receipt_events(run) == []


def test_a_changed_content_stops_the_hand_over(
    offered_run: DisposalRun, evaluate_files: list[File]
) -> None:
    import_evaluation(
        run=offered_run,
        data=evaluation_xml(offered_run, {f.xdomea_id: "A" for f in evaluate_files}),
        actor=None,
    )
    version = DocumentVersion.objects.filter(document__file=evaluate_files[0]).first()
    assert version is not None
    storage = DocumentVersion._meta.get_field("content").storage
    storage.delete(version.content.name)
    storage.save(version.content.name, io.BytesIO(b"tampered"))
    with pytest.raises(RecordsError, match="does not match"):
        write_transfer_package(run=offered_run, out=io.BytesIO(), actor=None)
    offered_run.refresh_from_db()
    assert offered_run.state == DisposalRun.State.EVALUATED
    assert not offered_run.items.filter(transferred=True).exists()


# --- commands ---------------------------------------------------------------------------------


def test_the_commands_run_a_disposal_end_to_end(
    authority: Authority,
    evaluate_files: list[File],
    admin_user: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    out = io.StringIO()
    call_command("disposal_start", "--authority", "wuppertal/buergeramt", stdout=out)
    run = DisposalRun.objects.get()
    assert f"Disposal run {run.pk}" in out.getvalue()
    offer = tmp_path / "0501.xml"
    call_command("disposal_offer", str(run.pk), "--output", str(offer), stdout=out)
    assert SafeET.parse(offer).getroot().tag == Q("Aussonderung.Anbieteverzeichnis.0501")
    evaluation = tmp_path / "0502.xml"
    evaluation.write_bytes(evaluation_xml(run, {f.xdomea_id: "A" for f in evaluate_files}))
    call_command("disposal_import_evaluation", str(run.pk), str(evaluation), stdout=out)
    package = tmp_path / "0503.zip"
    call_command("disposal_transfer", str(run.pk), "--output", str(package), stdout=out)
    assert zipfile.is_zipfile(package)
    confirmation = tmp_path / "0506.xml"
    confirmation.write_bytes(
        confirmation_xml(run, {f.xdomea_id: f"A-{f.pk}" for f in evaluate_files})
    )
    call_command("disposal_import_confirmation", str(run.pk), str(confirmation), stdout=out)
    receipt = tmp_path / "0507.xml"
    receipt.write_bytes(receipt_xml(run, TRANSFER_RECEIPT, "0507"))
    call_command("disposal_import_receipt", str(run.pk), str(receipt), stdout=out)
    assert "receipt 0507 of the Aussonderung.Aussonderung.0503 is recorded" in out.getvalue()
    evaluation_receipt = tmp_path / "0505.xml"
    call_command(
        "disposal_evaluation_receipt", str(run.pk), "--output", str(evaluation_receipt), stdout=out
    )
    assert SafeET.parse(evaluation_receipt).getroot().tag == Q(
        "Aussonderung.BewertungEmpfangBestaetigen.0505"
    )
    run.refresh_from_db()
    assert run.transfer_receipt_at is not None and run.evaluation_receipt_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        call_command("disposal_destroy", str(run.pk), "--approve-by", admin_user.email, stdout=out)
    run.refresh_from_db()
    assert run.state == DisposalRun.State.COMPLETED
    assert DisposalRecord.objects.count() == 2


def test_the_commands_refuse_bad_input_with_a_message(
    authority: Authority, evaluate_files: list[File], admin_user: Any, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="No authority"):
        call_command("disposal_start", "--authority", "nirgendwo/amt")
    run = start_run(authority=authority, actor=None)
    with pytest.raises(CommandError, match="not the number"):
        call_command("disposal_offer", "eins", "--output", str(tmp_path / "x.xml"))
    with pytest.raises(CommandError, match="no disposal run 999"):
        call_command("disposal_offer", "999", "--output", str(tmp_path / "x.xml"))
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("disposal_offer", str(run.pk), "--output", str(tmp_path / "no/such/x.xml"))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("disposal_import_evaluation", str(run.pk), str(tmp_path / "missing.xml"))
    with pytest.raises(CommandError, match="not possible now"):
        call_command("disposal_transfer", str(run.pk), "--output", str(tmp_path / "x.zip"))
    assert not (tmp_path / "x.zip").exists()
    assert list(tmp_path.iterdir()) == []  # no half-written output left behind
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"\x00\x01 not xml")
    call_command("disposal_offer", str(run.pk), "--output", str(tmp_path / "0501.xml"))
    with pytest.raises(CommandError, match="not well-formed"):
        call_command("disposal_import_evaluation", str(run.pk), str(garbage))
    with pytest.raises(CommandError, match="not well-formed"):
        call_command("disposal_import_receipt", str(run.pk), str(garbage))
    with pytest.raises(CommandError, match="no disposal run 999"):
        call_command("disposal_import_receipt", "999", str(garbage))
    with pytest.raises(CommandError, match="needs an imported evaluation"):
        call_command(
            "disposal_evaluation_receipt", str(run.pk), "--output", str(tmp_path / "0505.xml")
        )
    assert not (tmp_path / "0505.xml").exists()
    with pytest.raises(CommandError, match="There is no user"):
        call_command("disposal_destroy", str(run.pk), "--approve-by", "nobody@example.org")
    with pytest.raises(CommandError, match="not possible now"):
        call_command("disposal_destroy", str(run.pk), "--approve-by", admin_user.email)


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_runs_started_at_once_do_not_share_a_file(authority: Authority, plan: FilePlan) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with real row locks and concurrent connections (PostgreSQL)")
    files = [_file(authority, "11.30.01", f"Anmeldung {n}", documents=0) for n in range(6)]
    barrier = threading.Barrier(4)
    runs: list[int] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait(timeout=10)
            runs.append(start_run(authority=authority, actor=None).pk)
        except DisposalError as exc:
            errors.append(exc)
        except BaseException as exc:  # anything else fails the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(runs) == 1
    assert len(errors) == 3 and all(isinstance(e, DisposalError) for e in errors)
    items = list(DisposalItem.objects.values_list("file_id", flat=True))
    assert sorted(items) == sorted(f.pk for f in files)


@contextmanager
def _another_transaction(
    lock: Callable[[], Any], then: Callable[[], Any] = lambda: None
) -> Iterator[None]:
    """In another connection's transaction: ``lock`` (take its row locks), a second's pause while
    the ``with`` block runs into them, then ``then`` and the commit. The block starts once the
    locks are held; leaving it waits for the commit and fails on any error over there."""
    locked = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with transaction.atomic():
                lock()
                locked.set()
                time.sleep(1)
                then()
        except BaseException as exc:  # fails the test below
            errors.append(exc)
        finally:
            locked.set()
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    assert locked.wait(timeout=30)
    yield
    thread.join(timeout=60)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_a_hold_placed_while_the_file_is_destroyed_waits_instead_of_deadlocking(
    authority: Authority, destroy_file: File, admin_user: Any
) -> None:
    """place_hold locks the file, then withdraws its run item; destroy locks in the same order,
    so the two wait for each other instead of deadlocking (PostgreSQL would abort one)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with real row locks and concurrent connections (PostgreSQL)")
    run = start_run(authority=authority, actor=None)
    with _another_transaction(
        lambda: File.objects.select_for_update().get(pk=destroy_file.pk),  # place_hold's order
        then=lambda: place_hold(file=destroy_file, reason="objection", actor=admin_user),
    ):
        result = destroy(run=run, approver=admin_user)  # reaches the file meanwhile
    assert result.disposed == []  # the hold came first: the file left the run
    destroy_file.refresh_from_db()
    assert not destroy_file.is_disposed and destroy_file.documents.exists()


@pytest.mark.django_db(transaction=True)
def test_a_file_disposed_of_while_its_run_is_cancelled_is_not_released(
    authority: Authority, destroy_file: File
) -> None:
    """The background job disposes of an item while a clerk cancels the run: the cancellation
    waits for it and lists only the files that really leave the run."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with real row locks and concurrent connections (PostgreSQL)")
    run = start_run(authority=authority, actor=None)

    def dispose() -> None:
        item = DisposalItem.objects.select_for_update().get(run=run, file=destroy_file)
        DisposalItem.objects.filter(pk=item.pk).update(disposed_at=timezone.now())

    with _another_transaction(dispose):
        released = cancel_run(run=run, reason="Archiv antwortet nicht", actor=None)
    assert released == []
    item = DisposalItem.objects.get(run=run, file=destroy_file)
    assert item.active and item.disposed_at is not None


# --- admin ------------------------------------------------------------------------------------


def test_the_admin_places_and_releases_holds_and_shows_runs_and_proofs(
    authority: Authority, destroy_file: File, admin_user: Any
) -> None:
    with translation.override("en"):  # the admin views switch the language
        from django.contrib.admin.sites import site

        from rathaus.records.models import LegalHold
        from tests.records.test_admin import _request

        hold_admin = site._registry[LegalHold]
        response = hold_admin.add_view(
            _request(
                admin_user,
                "post",
                "/admin/records/legalhold/add/",
                file=destroy_file.pk,
                reason="audit",
                note="Rechnungsprüfung 2030",
            )
        )
        assert response.status_code == 302
        hold = LegalHold.objects.get()
        assert hold.is_active and hold.placed_by == admin_user
        assert AuditEvent.objects.filter(action="records.hold_placed").count() == 1
        with pytest.raises(DisposalError, match="no files due"):
            start_run(authority=authority, actor=None)

        request = _request(admin_user, "post", "/admin/records/legalhold/")
        hold_admin.release(request, LegalHold.objects.all())
        hold.refresh_from_db()
        assert not hold.is_active and hold.released_by == admin_user
        assert not hold_admin.has_delete_permission(request, hold)

        run = start_run(authority=authority, actor=None)
        destroy(run=run, approver=admin_user)
        for model in (DisposalRun, DisposalRecord, LegalHold, File):
            response = site._registry[model].changelist_view(_request(admin_user))
            assert response.render().status_code == 200
        record_admin = site._registry[DisposalRecord]
        proof = DisposalRecord.objects.get()
        assert not record_admin.has_change_permission(_request(admin_user), proof)
        assert not record_admin.has_delete_permission(_request(admin_user), proof)
        response = site._registry[DisposalRun].change_view(_request(admin_user), str(run.pk))
        assert destroy_file.reference in response.render().content.decode()


def test_the_admin_drives_a_run_through_every_step(
    authority: Authority,
    evaluate_files: list[File],
    destroy_file: File,
    admin_user: Any,
    django_user_model: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.contrib.admin.sites import site
    from django.contrib.messages import get_messages
    from django.core.exceptions import PermissionDenied
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.records.test_admin import _request

    runs = site._registry[DisposalRun]
    with translation.override("en"):
        page = runs.changelist_view(_request(admin_user)).render().content.decode()
        assert "/admin/records/disposalrun/start/" in page

        response = runs.start_view(_request(admin_user, "post", authority=authority.pk))
        assert response.status_code == 302
        run = DisposalRun.objects.get()
        assert run.started_by == admin_user and run.items.count() == 3
        again = runs.start_view(_request(admin_user, "post", authority=authority.pk))
        assert again.status_code == 200 and "no files due" in again.render().content.decode()
        unknown = runs.start_view(_request(admin_user, "post", authority=999999))
        assert unknown.status_code == 200 and DisposalRun.objects.count() == 1

        page = runs.change_view(_request(admin_user), str(run.pk)).render().content.decode()
        assert "Write the offer (0501)" in page and "Import the confirmation" not in page
        assert runs.offer_view(_request(admin_user), run.pk).status_code == 405
        offer = runs.offer_view(_request(admin_user, "post"), run.pk)
        assert offer["Content-Type"] == "application/xml"
        assert str(run.process_id).encode() in offer.content
        run.refresh_from_db()
        assert run.state == DisposalRun.State.OFFERED

        def upload(view: Any, data: bytes) -> Any:
            message = SimpleUploadedFile("m.xml", data, content_type="application/xml")
            return view(_request(admin_user, "post", message=message), run.pk)

        broken = upload(runs.evaluation_view, b"<kein xml")
        assert broken.status_code == 200 and "well-formed" in broken.render().content.decode()
        monkeypatch.setattr(xdomea, "MAX_MESSAGE_BYTES", 10)
        big = upload(runs.evaluation_view, evaluation_xml(run, {}))
        assert big.status_code == 200 and "larger than" in big.render().content.decode()
        monkeypatch.undo()
        run.refresh_from_db()
        assert run.state == DisposalRun.State.OFFERED
        evaluation = evaluation_xml(run, {f.xdomea_id: "A" for f in evaluate_files})
        assert upload(runs.evaluation_view, evaluation).status_code == 302
        package = runs.transfer_view(_request(admin_user, "post"), run.pk)
        assert package["Content-Type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(b"".join(package.streaming_content))) as archive:
            assert any(name.endswith(".xml") for name in archive.namelist())
        confirmation = confirmation_xml(run, {f.xdomea_id: "A-1" for f in evaluate_files})
        assert upload(runs.confirmation_view, confirmation).status_code == 302

        clerk = django_user_model.objects.create_user(email="sb@example.org", password="x" * 12)
        clerk.is_staff = True
        clerk.save()
        with pytest.raises(PermissionDenied):
            runs.start_view(_request(clerk, "post", authority=authority.pk))
        with pytest.raises(PermissionDenied):
            runs.destroy_view(_request(clerk, "post"), run.pk)
        assert runs.destroy_view(_request(admin_user), run.pk).status_code == 200
        request = _request(admin_user, "post")
        with django_capture_on_commit_callbacks(execute=True):
            assert runs.destroy_view(request, run.pk).status_code == 302
        assert "is approved" in " ".join(str(m) for m in get_messages(request))
        # approved in the request, disposed of by the queued job
        run.refresh_from_db()
        assert run.state == DisposalRun.State.DESTROYING and run.approved_by == admin_user
        destroy_file.refresh_from_db()
        assert not destroy_file.is_disposed
        page = runs.change_view(_request(admin_user), str(run.pk)).render().content.decode()
        assert "0 of 3 files disposed of" in page and "Continue the disposal" in page
        assert (
            "approved by"
            in runs.destroy_view(_request(admin_user), run.pk).render().content.decode()
        )
        # the queued job, run as the worker runs it (the worker itself would close this test's
        # transaction on PostgreSQL)
        from django_tasks_db.models import DBTaskResult

        [job] = DBTaskResult.objects.filter(task_path=carry_out_disposal_job.module_path)
        assert job.args_kwargs["args"] == [run.pk, admin_user.pk]
        carry_out_disposal_job.call(*job.args_kwargs["args"])
        run.refresh_from_db()
        assert run.state == DisposalRun.State.COMPLETED
        destroy_file.refresh_from_db()
        assert destroy_file.is_disposed
        page = runs.change_view(_request(admin_user), str(run.pk)).render().content.decode()
        assert "3 of 3 files disposed of, 0 kept" in page and "Continue the disposal" not in page

        refused = runs.cancel_view(_request(admin_user, "post", reason="zu spät"), run.pk)
        assert refused.status_code == 200
        assert "cancelling it is not possible" in refused.render().content.decode()
        page = runs.change_view(_request(admin_user), str(run.pk)).render().content.decode()
        assert "Cancel the run" not in page


def _run_page(run: DisposalRun, user: Any) -> str:
    from django.contrib.admin.sites import site

    from tests.records.test_admin import _request

    with translation.override("en"):
        response = site._registry[DisposalRun].change_view(_request(user), str(run.pk))
        return str(response.render().content.decode())


def test_the_admin_offers_no_import_or_hand_over_to_a_run_with_nothing_for_the_archive(
    authority: Authority, destroy_file: File, admin_user: Any
) -> None:
    run = start_run(authority=authority, actor=None)
    assert run.state == DisposalRun.State.EVALUATED  # nothing to offer: destroyed directly
    page = _run_page(run, admin_user)
    assert "Approve and carry out the disposal" in page
    assert "Import the evaluation (0502)" not in page
    assert "Write the transfer package (0503)" not in page


def test_the_admin_offers_the_import_once_offered_and_the_hand_over_once_a_file_goes_to_archive(
    authority: Authority, evaluate_files: list[File], admin_user: Any
) -> None:
    run = start_run(authority=authority, actor=None)
    write_offer(run=run, actor=None)
    page = _run_page(run, admin_user)
    assert "Import the evaluation (0502)" in page
    assert "Write the transfer package (0503)" not in page
    kept, destroyed = evaluate_files
    decisions = {kept.xdomea_id: "A", destroyed.xdomea_id: "V"}
    run = import_evaluation(run=run, data=evaluation_xml(run, decisions), actor=None)
    page = _run_page(run, admin_user)
    assert "Import the evaluation (0502)" not in page
    assert "Write the transfer package (0503)" in page
    place_hold(file=kept, reason="audit", actor=None)  # the one file for the archive leaves
    assert "Write the transfer package (0503)" not in _run_page(run, admin_user)


def test_the_admin_records_the_receipts_and_writes_the_0505(
    authority: Authority, evaluate_files: list[File], admin_user: Any
) -> None:
    from django.contrib.admin.sites import site
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.records.test_admin import _request

    runs = site._registry[DisposalRun]
    run = start_run(authority=authority, actor=None)

    def page() -> str:
        return str(runs.change_view(_request(admin_user), str(run.pk)).render().content.decode())

    def upload(data: bytes) -> Any:
        message = SimpleUploadedFile("m.xml", data, content_type="application/xml")
        return runs.archive_receipt_view(_request(admin_user, "post", message=message), run.pk)

    with translation.override("en"):
        assert "Import a receipt from the archive" not in page()
        write_offer(run=run, actor=None)
        assert "Import a receipt from the archive (0504, 0507)" in page()
        assert "receipt of the evaluation (0505)" not in page()
        form = runs.archive_receipt_view(_request(admin_user), run.pk).render().content.decode()
        assert 'type="file"' in form
        refused = upload(receipt_xml(run, process=uuid.uuid4()))
        assert refused.status_code == 200
        assert "belongs to the process" in refused.render().content.decode()
        assert upload(receipt_xml(run)).status_code == 302
        run.refresh_from_db()
        assert run.offer_receipt_at is not None
        assert "Import a receipt from the archive" not in page()  # nothing more to receive

        import_evaluation(
            run=run,
            data=evaluation_xml(run, {f.xdomea_id: "A" for f in evaluate_files}),
            actor=None,
        )
        assert "Write the receipt of the evaluation (0505)" in page()
        assert runs.evaluation_receipt_view(_request(admin_user), run.pk).status_code == 405
        receipt = runs.evaluation_receipt_view(_request(admin_user, "post"), run.pk)
        assert receipt["Content-Type"] == "application/xml"
        assert SafeET.fromstring(receipt.content).tag == Q(
            "Aussonderung.BewertungEmpfangBestaetigen.0505"
        )
        write_transfer_package(run=run, out=io.BytesIO(), actor=None)
        assert "Import a receipt from the archive (0504, 0507)" in page()
        assert upload(receipt_xml(run, TRANSFER_RECEIPT, "0507")).status_code == 302
        run.refresh_from_db()
        assert run.transfer_receipt_at is not None
        shown = page()
        assert "Transfer package received by the archive (0507)" in shown

        cancel_run(run=run, reason="Test", actor=None)
        assert "receipt of the evaluation (0505)" not in page()
        request = _request(admin_user, "post")
        assert runs.evaluation_receipt_view(request, run.pk).status_code == 302


def test_a_module_that_still_needs_the_documents_keeps_the_file(
    authority: Authority, destroy_file: File, admin_user: Any
) -> None:
    from rathaus.records.signals import file_disposing

    def veto(sender: Any, file: File, **kwargs: Any) -> None:
        raise RecordsError("casework still needs the notice")

    file_disposing.connect(veto, dispatch_uid="test_veto")
    try:
        run = start_run(authority=authority, actor=None)
        result = destroy(run=run, approver=admin_user)
    finally:
        file_disposing.disconnect(dispatch_uid="test_veto")
    assert result.disposed == []
    assert result.kept == [(destroy_file.reference, "casework still needs the notice")]
    destroy_file.refresh_from_db()
    assert not destroy_file.is_disposed and destroy_file.documents.count() == 1
    assert not DisposalRecord.objects.exists()
    run.refresh_from_db()
    assert run.state == DisposalRun.State.DESTROYING
    assert destroy(run=run, approver=admin_user).disposed == [destroy_file.reference]
    run.refresh_from_db()
    assert run.state == DisposalRun.State.COMPLETED


def test_the_disposal_job_carries_out_an_approved_run_and_can_be_run_again(
    authority: Authority, destroy_file: File, admin_user: Any
) -> None:
    from rathaus.records.signals import file_disposing

    run = start_run(authority=authority, actor=None)
    with pytest.raises(DisposalError, match="not possible now"):
        carry_out_destruction(run=run, actor=admin_user)  # not approved: nothing happens
    approve_destruction(run=run, approver=admin_user)

    def veto(sender: Any, file: File, **kwargs: Any) -> None:
        raise RecordsError("casework still needs the notice")

    file_disposing.connect(veto, dispatch_uid="test_veto")
    try:
        kept = carry_out_disposal_job.call(run.pk, admin_user.pk)
    finally:
        file_disposing.disconnect(dispatch_uid="test_veto")
    assert kept["state"] == DisposalRun.State.DESTROYING and kept["disposed"] == 0
    assert kept["kept"] == [f"{destroy_file.reference}: casework still needs the notice"]

    done = carry_out_disposal_job.call(run.pk, admin_user.pk)
    assert done["state"] == DisposalRun.State.COMPLETED and done["disposed"] == 1
    destroy_file.refresh_from_db()
    assert destroy_file.is_disposed
    event = AuditEvent.objects.filter(action="records.file_disposed").get()
    assert event.actor == admin_user
    again = carry_out_disposal_job.call(run.pk, admin_user.pk)  # a second job finds nothing
    assert again["disposed"] == 0 and again["state"] == DisposalRun.State.COMPLETED


# --- characters XML does not allow ------------------------------------------------------------


def test_offer_stays_well_formed_with_a_control_character_in_the_file_title(
    authority: Authority, plan: FilePlan
) -> None:
    file = open_file(
        authority=authority,
        plan_key="11.30.01",
        title="Anmeldung Erika\x0bMustermann",
        actor=None,
        opened_at=OPENED,
    )
    close_file(file=file, actor=None, closed_on=CLOSED)
    run = start_run(authority=authority, actor=None)
    offer = SafeET.fromstring(write_offer(run=run, actor=None))
    subject = offer.find(f"{Q('Schriftgutobjekt')}/{Q('Akte')}/{Q('AllgemeineMetadaten')}")
    assert subject is not None
    assert subject.findtext(Q("Betreff")) == "Anmeldung Erika Mustermann"


def _package_message(out: io.BytesIO) -> bytes:
    with zipfile.ZipFile(out) as package:
        name = next(n for n in package.namelist() if n.endswith(".xml"))
        return package.read(name)


def test_transfer_package_stays_well_formed_with_a_control_character_in_a_title(
    authority: Authority, plan: FilePlan
) -> None:
    file = open_file(
        authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None, opened_at=OPENED
    )
    add_document(
        file=file,
        title="Vermerk\x0cSeite 2",
        kind="internal",
        content=b"x",
        original_name="v.txt",
        content_type="text/plain",
        actor=None,
    )
    close_file(file=file, actor=None, closed_on=CLOSED)
    run = start_run(authority=authority, actor=None)
    _evaluated(run, [file], "A")
    out = io.BytesIO()
    write_transfer_package(run=run, out=out, actor=None)
    message = SafeET.fromstring(_package_message(out))
    titles = [e.text for e in message.iter(Q("Betreff"))]
    assert titles == ["Anmeldung", "Vermerk Seite 2"]


def test_the_xdomea_writer_leaves_out_characters_xml_does_not_allow(
    authority: Authority, evaluate_files: list[File]
) -> None:
    """Titles already stored with control characters (before open_file cleaned them), in the
    plan, the authority's name or a file name: the writer replaces them itself."""
    stored = "\x01\x08\x0b\x0c\x0e\x1b\x1f\ufffe\uffff"  # a database takes these
    file = evaluate_files[0]
    File.objects.filter(pk=file.pk).update(title=f"Anmeldung{stored}Erika")
    PlanEntry.objects.filter(pk=file.plan_entry_id).update(title=f"An- und{stored}Abmeldungen")
    Authority.objects.filter(pk=authority.pk).update(name="Bürgerbüro\x1bWuppertal")
    run = start_run(authority=authority, actor=None)
    offer = SafeET.fromstring(write_offer(run=run, actor=None))
    assert f"Anmeldung{' ' * len(stored)}Erika" in [e.text for e in offer.iter(Q("Betreff"))]

    _evaluated(run, evaluate_files, "A")
    out = io.BytesIO()
    write_transfer_package(run=run, out=out, actor=None)
    message = SafeET.fromstring(_package_message(out))
    assert "Bürgerbüro Wuppertal" in [e.text for e in message.iter(Q("Name"))]

    bad = stored + "\x00\ud800"  # and what only a string in memory can hold

    document_id = uuid.uuid4()
    entry = xdomea.FileEntry(
        id=uuid.uuid4(),
        reference=f"11.30.01{bad}-0001/2015",
        title="Akte",
        plan_key="11.30.01",
        plan_title="Meldewesen",
        opened_on=CLOSED,
        closed_on=CLOSED,
        retention_years=5,
        disposal_due_on=None,
        disposal_type="B",
        documents=[
            xdomea.DocumentEntry(
                id=document_id,
                position=1,
                title=f"Vermerk{bad}",
                kind="internal",
                created_at=OPENED,
                versions=[
                    xdomea.VersionEntry(
                        number=1,
                        package_name=f"{document_id}_1.txt",
                        original_name=f"v{bad}.txt",
                        content_type=f"text/plain{bad}",
                        sha256="0" * 64,
                        created_at=OPENED,
                    )
                ],
            )
        ],
    )
    written = xdomea.transfer_message(process_id=uuid.uuid4(), authority=authority, files=[entry])
    parsed = SafeET.fromstring(written)
    assert parsed.findtext(f".//{Q('DateinameOriginal')}") == f"v{' ' * len(bad)}.txt"


# --- archive messages in an encoding Python cannot decode --------------------------------------

UNKNOWN_ENCODING = b'<?xml version="1.0" encoding="x-unknown"?><a/>'
NOT_A_TEXT_ENCODING = b'<?xml version="1.0" encoding="rot13"?><a/>'
UNDECODABLE = b'<?xml version="1.0" encoding="punycode"?><a>\xff\xfe</a>'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (UNKNOWN_ENCODING, "encoding that is not supported"),
        (NOT_A_TEXT_ENCODING, "encoding that is not supported"),
        (UNDECODABLE, "not well-formed"),
    ],
)
def test_a_message_in_an_unknown_encoding_is_refused_with_a_message(
    offered_run: DisposalRun, data: bytes, message: str
) -> None:
    with pytest.raises(DisposalError, match=message):
        import_evaluation(run=offered_run, data=data, actor=None)
    _unchanged(offered_run, DisposalRun.State.OFFERED)
    with pytest.raises(DisposalError, match=message):
        import_archive_receipt(run=offered_run, data=data, actor=None)
    offered_run.refresh_from_db()
    assert offered_run.offer_receipt_at is None


def test_an_import_confirmation_in_an_unknown_encoding_is_refused(
    transferred_run: DisposalRun,
) -> None:
    with pytest.raises(DisposalError, match="encoding that is not supported"):
        import_confirmation(run=transferred_run, data=UNKNOWN_ENCODING, actor=None)
    transferred_run.refresh_from_db()
    assert transferred_run.state == DisposalRun.State.TRANSFERRED


def test_the_commands_refuse_a_message_in_an_unknown_encoding(
    offered_run: DisposalRun, tmp_path: Path
) -> None:
    message = tmp_path / "0502.xml"
    message.write_bytes(UNKNOWN_ENCODING)
    for command in ("disposal_import_evaluation", "disposal_import_receipt"):
        with pytest.raises(CommandError, match="encoding that is not supported"):
            call_command(command, str(offered_run.pk), str(message))


def test_the_admin_refuses_an_upload_in_an_unknown_encoding_beside_the_field(
    offered_run: DisposalRun, admin_user: Any
) -> None:
    from django.contrib.admin.sites import site
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.records.test_admin import _request

    runs = site._registry[DisposalRun]
    for view in (runs.evaluation_view, runs.archive_receipt_view):
        upload = SimpleUploadedFile("m.xml", UNKNOWN_ENCODING, content_type="application/xml")
        response = view(_request(admin_user, "post", message=upload), offered_run.pk)
        assert response.status_code == 200
        assert "encoding that is not supported" in response.render().content.decode()
    _unchanged(offered_run, DisposalRun.State.OFFERED)
