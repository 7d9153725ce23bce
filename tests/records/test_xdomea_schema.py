"""The xdomea messages of a disposal run against the official xdomea 3.1.0 schemas.

The schemas are vendored in ``src/rathaus/records/xsd/xdomea-3.1.0`` (see its README). This
module compiles them itself with lxml, independently of the writer's own check, and resolves
only those files: the XÖV code type the xdomea schemas import by URL is the vendored copy, any
other location is refused, so nothing is ever fetched.
"""

from __future__ import annotations

import datetime
import functools
import http.server
import io
import logging
import threading
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from lxml import etree

from rathaus.core.models import Authority
from rathaus.records import disposal, xdomea
from rathaus.records.disposal import (
    start_run,
    write_evaluation_receipt,
    write_offer,
    write_transfer_package,
)
from rathaus.records.errors import DisposalError
from rathaus.records.models import DisposalRun, File, FilePlan
from rathaus.records.services import add_document, add_version, close_file, open_file

SCHEMA_DIR = Path(xdomea.__file__).resolve().parent / "xsd" / "xdomea-3.1.0"
ENTRY = SCHEMA_DIR / "xdomea-Nachrichten-AussonderungDurchfuehren.xsd"
XOEV_CODE_URL = "http://xoev.de/schemata/code/1_0/xoev-code.xsd"
NS = xdomea.NS
OPENED = datetime.datetime(2015, 3, 2, 9, 0, tzinfo=datetime.UTC)
CLOSED = datetime.date(2015, 6, 30)


class _OnlyTheVendoredFiles(etree.Resolver):
    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        path = SCHEMA_DIR / "xoev-code.xsd" if system_url == XOEV_CODE_URL else Path(system_url)
        if path.parent != SCHEMA_DIR or not path.is_file():
            raise AssertionError(f"the schema asked for {system_url}, which is not vendored")
        return self.resolve_filename(str(path), context)


@functools.cache
def official_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_OnlyTheVendoredFiles())
    return etree.XMLSchema(etree.parse(str(ENTRY), parser))


def schema_errors(message: bytes) -> list[str]:
    schema = official_schema()
    document = etree.fromstring(message, etree.XMLParser(no_network=True, resolve_entities=False))
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def assert_valid(message: bytes) -> None:
    errors = schema_errors(message)
    assert errors == [], "\n".join(errors)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def archive(settings: Any) -> dict[str, str]:
    """A receiving archive addressed in the DVDV, as an authority configures it."""
    settings.RECORDS_XDOMEA_ARCHIVE = {
        "name": "Landesarchiv Nordrhein-Westfalen, Abteilung Rheinland",
        "prefix": "dbs:",
        "key": "0512400099",
    }
    return settings.RECORDS_XDOMEA_ARCHIVE


def _closed_file(authority: Authority, title: str, documents: list[list[tuple[str, str]]]) -> File:
    """A file due long ago; ``documents``: per document its versions (original name, type)."""
    file = open_file(
        authority=authority, plan_key="11.30.01", title=title, actor=None, opened_at=OPENED
    )
    for n, versions in enumerate(documents):
        (first_name, first_type), *later = versions
        version = add_document(
            file=file,
            title=f"Anlage {n + 1} zur Anmeldung - Größe, Straße, Übersicht",
            kind="application",
            content=f"Inhalt {n} von {title}".encode(),
            original_name=first_name,
            content_type=first_type,
            actor=None,
        )
        for m, (name, content_type) in enumerate(later):
            add_version(
                document=version.document,
                content=f"Fassung {m + 2}".encode(),
                original_name=name,
                content_type=content_type,
                actor=None,
            )
    return close_file(file=file, actor=None, closed_on=CLOSED)


@pytest.fixture
def files(authority: Authority, plan: FilePlan) -> list[File]:
    """Several files with documents in many formats, several versions and German names."""
    return [
        _closed_file(
            authority,
            "Anmeldung Jürgen Müller-Lüdenscheidt, Ölbergstraße 3",
            [
                [
                    ("Anmeldebestätigung.pdf", "application/pdf"),
                    ("Korrektur.PDF", "application/pdf"),
                ],
                [("Ausweis Rückseite.png", "image/png")],
                [("Vermerk.odt", "application/vnd.oasis.opendocument.text")],
            ],
        ),
        _closed_file(
            authority,
            "Ummeldung Zoë Söhnke",
            [
                [("Notiz ohne Endung", "application/octet-stream")],
                [("Daten.xyz", "application/x-unbekannt"), ("Daten.txt", "text/plain")],
            ],
        ),
        _closed_file(authority, "Abmeldung ohne Unterlagen", []),
    ]


@pytest.fixture
def destroy_file(authority: Authority, plan: FilePlan) -> File:
    file = open_file(
        authority=authority, plan_key="11.20.01", title="Briefwahl", actor=None, opened_at=OPENED
    )
    return close_file(file=file, actor=None, closed_on=CLOSED)


def _package_message(package: io.BytesIO) -> bytes:
    with zipfile.ZipFile(package) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".xml")]
        return archive.read(name)


def _evaluation(run: DisposalRun, decisions: dict[uuid.UUID, str], receipt: bool) -> bytes:
    return valid_evaluation(run.process_id, decisions, receipt=receipt)


@pytest.fixture
def evaluated_run(
    authority: Authority, files: list[File], destroy_file: File, archive: dict[str, str]
) -> DisposalRun:
    run = start_run(authority=authority, actor=None)
    write_offer(run=run, actor=None)
    disposal.import_evaluation(
        run=run,
        data=_evaluation(run, {f.xdomea_id: "A" for f in files}, receipt=True),
        actor=None,
    )
    return run


# --- what Rathaus writes ----------------------------------------------------------------------


@pytest.mark.parametrize("configured", [True, False], ids=["archive in the DVDV", "default"])
def test_the_offer_0501_conforms_to_the_schema(
    authority: Authority,
    files: list[File],
    destroy_file: File,
    settings: Any,
    configured: bool,
) -> None:
    if configured:
        settings.RECORDS_XDOMEA_ARCHIVE = {"name": "Stadtarchiv", "prefix": "ags:", "key": "1"}
    run = start_run(authority=authority, actor=None)
    offer = write_offer(run=run, actor=None)
    assert_valid(offer)
    root = etree.fromstring(offer)
    assert len(root.findall(f"{{{NS}}}Schriftgutobjekt")) == 3  # not the file to destroy


def test_the_transfer_0503_conforms_to_the_schema(
    evaluated_run: DisposalRun, files: list[File]
) -> None:
    package = io.BytesIO()
    assert write_transfer_package(run=evaluated_run, out=package, actor=None) == 3
    message = _package_message(package)
    assert_valid(message)
    root = etree.fromstring(message)
    assert len(root.findall(f".//{{{NS}}}Dokument")) == 5
    assert len(root.findall(f".//{{{NS}}}Primaerdokument")) == 7


def test_the_evaluation_receipt_0505_conforms_to_the_schema(evaluated_run: DisposalRun) -> None:
    assert_valid(write_evaluation_receipt(run=evaluated_run, actor=None))


def _entry(**changes: Any) -> xdomea.FileEntry:
    document_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "reference": "11.30.01-0001/2015",
        "title": "Akte",
        "plan_key": "11.30.01",
        "plan_title": "An-, Um- und Abmeldungen",
        "opened_on": CLOSED,
        "closed_on": CLOSED,
        "retention_years": 5,
        "disposal_due_on": datetime.date(2020, 7, 1),
        "disposal_type": "B",
        "documents": [
            xdomea.DocumentEntry(
                id=document_id,
                position=1,
                title="Vermerk",
                kind="Antrag",
                created_at=OPENED,
                versions=[
                    xdomea.VersionEntry(
                        number=1,
                        package_name=f"{document_id}_1.pdf",
                        original_name="vermerk.pdf",
                        content_type="application/pdf",
                        sha256="0" * 64,
                        created_at=OPENED,
                    )
                ],
            ),
            xdomea.DocumentEntry(
                id=uuid.uuid4(), position=2, title="Leer", kind="Notiz", created_at=OPENED
            ),
        ],
    }
    values.update(changes)
    return xdomea.FileEntry(**values)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"retention_years": None, "disposal_due_on": None, "disposal_type": "A"},
        {"retention_years": 0, "disposal_type": "V", "documents": []},
    ],
    ids=["due", "kept for ever", "no documents"],
)
def test_every_shape_of_a_file_conforms_to_the_schema(
    authority: Authority, changes: dict[str, Any]
) -> None:
    entry = _entry(**changes)
    process = uuid.uuid4()
    assert_valid(xdomea.offer_message(process_id=process, authority=authority, files=[entry]))
    assert_valid(xdomea.transfer_message(process_id=process, authority=authority, files=[entry]))


def test_the_head_identifies_sender_and_archive_by_their_authority_keys(
    authority: Authority, archive: dict[str, str]
) -> None:
    message = xdomea.evaluation_receipt_message(process_id=uuid.uuid4(), authority=authority)
    assert_valid(message)
    head = etree.fromstring(message).find(f"{{{NS}}}Kopf")
    assert head is not None
    key = f"{{{NS}}}Behoerdenkennung/{{{NS}}}Behoerdenschluessel/code"
    prefix = f"{{{NS}}}Behoerdenkennung/{{{NS}}}Praefix/code"
    assert head.findtext(f"{{{NS}}}Absender/{key}") == "05124000"
    assert head.findtext(f"{{{NS}}}Absender/{prefix}") == "ags:"
    assert head.findtext(f"{{{NS}}}Empfaenger/{key}") == "0512400099"
    assert head.findtext(f"{{{NS}}}Empfaenger/{prefix}") == "dbs:"
    # a receipt asks for no receipt: NkBasisType has no such element at all
    assert head.find(f"{{{NS}}}Empfangsbestaetigung") is None


def test_the_transfer_asks_for_the_import_confirmation_and_the_archive_signatures(
    evaluated_run: DisposalRun,
) -> None:
    package = io.BytesIO()
    write_transfer_package(run=evaluated_run, out=package, actor=None)
    head = etree.fromstring(_package_message(package)).find(f"{{{NS}}}Kopf")
    assert head is not None
    assert [child.tag.split("}")[1] for child in head][-3:] == [
        "Importbestaetigung",
        "RueckmeldungArchivkennung",
        "Empfangsbestaetigung",
    ]
    assert head.findtext(f"{{{NS}}}Importbestaetigung") == "1"
    assert head.findtext(f"{{{NS}}}RueckmeldungArchivkennung") == "1"


def test_the_retention_is_described_in_the_order_and_terms_of_the_schema(
    authority: Authority,
) -> None:
    """``Aufbewahrungsende`` is the last day of the retention period: the day before the file
    is due for disposal (``disposal_due_on``)."""
    message = xdomea.offer_message(process_id=uuid.uuid4(), authority=authority, files=[_entry()])
    archival = etree.fromstring(message).find(f".//{{{NS}}}ArchivspezifischeMetadaten")
    assert archival is not None
    assert [child.tag.split("}")[1] for child in archival] == [
        "Aufbewahrungsdauer",
        "Aussonderungsart",
        "Aufbewahrungsende",
    ]
    assert archival.findtext(f"{{{NS}}}Aufbewahrungsende") == "2020-06-30"


def test_the_formats_are_codes_of_the_xdomea_file_format_list(
    evaluated_run: DisposalRun,
) -> None:
    """Dateiformat 2.0: known extensions by their code, anything else as "Sonstiges" (100) with
    the MIME type as its name."""
    package = io.BytesIO()
    write_transfer_package(run=evaluated_run, out=package, actor=None)
    root = etree.fromstring(_package_message(package))
    formats = {}
    for element in root.iter(f"{{{NS}}}Format"):
        name = element.find(f"{{{NS}}}Name")
        assert name is not None
        assert name.get("listURI") == "urn:xoev-de:xdomea:codeliste:dateiformat"
        assert name.get("listVersionID") == "2.0"
        original = element.findtext(f"{{{NS}}}Primaerdokument/{{{NS}}}DateinameOriginal")
        formats[original] = (name.findtext("code"), element.findtext(f"{{{NS}}}SonstigerName"))
    assert formats == {
        "Anmeldebestätigung.pdf": ("018", None),
        "Korrektur.PDF": ("018", None),
        "Ausweis Rückseite.png": ("019", None),
        "Vermerk.odt": ("015", None),
        "Notiz ohne Endung": ("100", "application/octet-stream"),
        "Daten.xyz": ("100", "application/x-unbekannt"),
        "Daten.txt": ("045", None),
    }


# --- the writer checks every message against the schema before it goes out --------------------


def test_a_message_the_schema_rejects_is_not_written_and_the_error_is_logged(
    authority: Authority, caplog: pytest.LogCaptureFixture
) -> None:
    too_long = _entry(retention_years=70_000)  # AnzahlJahre is an xs:unsignedShort
    with (
        caplog.at_level(logging.ERROR, logger="rathaus.records.xdomea"),
        pytest.raises(DisposalError, match=r"0501 .* xdomea 3\.1\.0 schema .* 'AnzahlJahre'"),
    ):
        xdomea.offer_message(process_id=uuid.uuid4(), authority=authority, files=[too_long])
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert "AnzahlJahre" in record.getMessage()


def test_an_offer_the_schema_rejects_leaves_the_run_as_it_was(
    authority: Authority,
    files: list[File],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A writer bug (here: a wrong code list URI) stops the hand-over loudly, in the run and in
    the log, instead of giving the archive a message it cannot read."""
    monkeypatch.setattr(xdomea, "DISPOSAL_TYPE_LIST", ("urn:falsch", "1.0"))
    run = start_run(authority=authority, actor=None)
    with caplog.at_level(logging.ERROR), pytest.raises(DisposalError, match="schema"):
        write_offer(run=run, actor=None)
    run.refresh_from_db()
    assert run.state == DisposalRun.State.STARTED and run.offered_at is None
    assert any("urn:falsch" in r.getMessage() for r in caplog.records)


def test_a_transfer_package_the_schema_rejects_is_not_handed_over(
    evaluated_run: DisposalRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xdomea, "FILE_FORMAT_LIST", ("urn:falsch", "2.0"))
    with pytest.raises(DisposalError, match="0503 does not conform"):
        write_transfer_package(run=evaluated_run, out=io.BytesIO(), actor=None)
    evaluated_run.refresh_from_db()
    assert evaluated_run.state == DisposalRun.State.EVALUATED
    assert not evaluated_run.items.filter(transferred=True).exists()


def test_the_schema_check_never_reaches_the_network(tmp_path: Path) -> None:
    """A schema location outside the vendored files is refused, not fetched."""
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/other.xsd"
        schema = tmp_path / "entry.xsd"
        schema.write_text(
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:a">'
            f'<xs:import namespace="urn:b" schemaLocation="{url}"/>'
            '<xs:element name="a" type="xs:string"/></xs:schema>'
        )
        with pytest.raises(etree.XMLSchemaParseError, match="Failed to parse"):
            xdomea.load_schema(schema, directory=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert requests == []


# --- what the archive sends: realistic messages are schema-valid and read ---------------------


def _archive_head(process: uuid.UUID, code: str) -> str:
    return (
        f"<x:Kopf><x:ProzessID>{process}</x:ProzessID>"
        '<x:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" '
        f'listVersionID="2.0"><code>{code}</code></x:Nachrichtentyp>'
        "<x:Erstellungszeitpunkt>2030-01-02T10:00:00+01:00</x:Erstellungszeitpunkt>"
        "<x:Absender><x:Institution><x:Name>Landesarchiv NRW</x:Name></x:Institution>"
        "</x:Absender>"
        "<x:Empfaenger><x:Behoerdenkennung><x:Behoerdenschluessel><code>05124000</code>"
        "</x:Behoerdenschluessel><x:Praefix><code>ags:</code></x:Praefix></x:Behoerdenkennung>"
        "<x:Institution><x:Name>Bürgerbüro Wuppertal</x:Name></x:Institution></x:Empfaenger>"
        "<x:SendendesSystem><x:Produktname>Archivsystem</x:Produktname></x:SendendesSystem>"
    )


def _message(root: str, body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><x:{root} xmlns:x="{NS}">{body}</x:{root}>'
    ).encode()


def valid_evaluation(process: uuid.UUID, decisions: dict[uuid.UUID, str], receipt: bool) -> bytes:
    objects = "".join(
        f"<x:BewertetesObjekt><x:ID>{file_id}</x:ID><x:Aussonderungsart>"
        '<x:Aussonderungsart listURI="urn:xoev-de:xdomea:codeliste:aussonderungsart" '
        f'listVersionID="1.0"><code>{decision}</code></x:Aussonderungsart>'
        "</x:Aussonderungsart></x:BewertetesObjekt>"
        for file_id, decision in decisions.items()
    )
    head = _archive_head(process, "0502")
    flag = "1" if receipt else "0"
    return _message(
        "Aussonderung.Bewertungsverzeichnis.0502",
        f"{head}<x:Empfangsbestaetigung>{flag}</x:Empfangsbestaetigung></x:Kopf>{objects}",
    )


def test_an_evaluation_0502_as_the_schema_has_it_is_read() -> None:
    process, taken, dropped = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    message = valid_evaluation(process, {taken: "A", dropped: "V"}, receipt=True)
    assert_valid(message)
    evaluation = xdomea.read_evaluation(message, process_id=process)
    assert evaluation.decisions == {taken: "A", dropped: "V"}
    assert evaluation.receipt_requested is True
    quiet = valid_evaluation(process, {taken: "A"}, receipt=False)
    assert_valid(quiet)
    assert xdomea.read_evaluation(quiet, process_id=process).receipt_requested is False


@pytest.mark.parametrize(
    ("root", "code"),
    [
        ("Aussonderung.AnbietungEmpfangBestaetigen.0504", "0504"),
        ("Aussonderung.AussonderungEmpfangBestaetigen.0507", "0507"),
    ],
)
def test_an_archive_receipt_as_the_schema_has_it_is_read(root: str, code: str) -> None:
    process = uuid.uuid4()
    message = _message(root, f"{_archive_head(process, code)}</x:Kopf>")
    assert_valid(message)
    found, written = xdomea.read_receipt(message, process_id=process)
    assert found == code
    assert written == datetime.datetime(
        2030, 1, 2, 10, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )


def test_an_import_confirmation_0506_as_the_schema_has_it_is_read() -> None:
    process, archived, failed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    objects = (
        f"<x:AusgesondertesSGO><x:IDSGO>{archived}</x:IDSGO><x:Erfolgreich>1</x:Erfolgreich>"
        "<x:Archivkennung>LAV NRW R, BR 3012 Nr. 17</x:Archivkennung></x:AusgesondertesSGO>"
        f"<x:AusgesondertesSGO><x:IDSGO>{failed}</x:IDSGO><x:Erfolgreich>0</x:Erfolgreich>"
        "<x:Fehlermeldung>Primärdokument fehlt</x:Fehlermeldung>"
        "<x:Fehlermeldung>Prüfsumme falsch</x:Fehlermeldung>"
        '<x:FehlermeldungCode listURI="urn:example:fehler" listVersionID="1">'
        "<code>42</code></x:FehlermeldungCode></x:AusgesondertesSGO>"
    )
    message = _message(
        "Aussonderung.AussonderungImportBestaetigen.0506",
        f"{_archive_head(process, '0506')}</x:Kopf>{objects}",
    )
    assert_valid(message)
    assert xdomea.read_import_confirmation(message, process_id=process) == [
        xdomea.ImportResult(
            file_id=archived, success=True, signature="LAV NRW R, BR 3012 Nr. 17", error=""
        ),
        xdomea.ImportResult(
            file_id=failed,
            success=False,
            signature="",
            error="Primärdokument fehlt; Prüfsumme falsch",
        ),
    ]
