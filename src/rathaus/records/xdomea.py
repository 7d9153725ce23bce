"""xdomea messages of the Aussonderung: writing 0501, 0503 and 0505, reading 0502, 0504, 0506
and 0507.

The receipts (Empfangsbestätigungen) carry only the head: the archive's 0504 acknowledges the
offer, its 0507 the transfer package, and the authority's 0505 acknowledges the evaluation. The
messages 0501 and 0503 ask the archive for its receipt (``Kopf/Empfangsbestaetigung``).

Namespace ``urn:xoev-de:xdomea:schema:3.1.0`` (xdomea 3.1.0). Every message written is checked
against the official xdomea 3.1.0 schemas before it is handed out (:func:`conforming`); they are
vendored in ``xsd/xdomea-3.1.0`` and compiled from those files only, never from the network.
docs/modules/records.md lists the elements written and read. Reading is strict about what it
needs and ignores the rest (archive messages are not checked against the schema).

Archive messages come from outside: they are parsed with ``defusedxml`` with DTDs forbidden
(no entity expansion, no external entities, no network) and a size limit.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from rathaus.core.models import Authority
from rathaus.records.errors import DisposalError

logger = logging.getLogger(__name__)

NS = "urn:xoev-de:xdomea:schema:3.1.0"
VERSION = "3.1.0"
MAX_MESSAGE_BYTES = 20 * 1024 * 1024

OFFER = "0501"
EVALUATION = "0502"
TRANSFER = "0503"
OFFER_RECEIPT = "0504"
EVALUATION_RECEIPT = "0505"
IMPORT_CONFIRMATION = "0506"
TRANSFER_RECEIPT = "0507"

ROOTS = {
    OFFER: "Aussonderung.Anbieteverzeichnis.0501",
    EVALUATION: "Aussonderung.Bewertungsverzeichnis.0502",
    TRANSFER: "Aussonderung.Aussonderung.0503",
    OFFER_RECEIPT: "Aussonderung.AnbietungEmpfangBestaetigen.0504",
    EVALUATION_RECEIPT: "Aussonderung.BewertungEmpfangBestaetigen.0505",
    IMPORT_CONFIRMATION: "Aussonderung.AussonderungImportBestaetigen.0506",
    TRANSFER_RECEIPT: "Aussonderung.AussonderungEmpfangBestaetigen.0507",
}
#: The receipts an archive sends: the message each one acknowledges.
ARCHIVE_RECEIPTS = {OFFER_RECEIPT: OFFER, TRANSFER_RECEIPT: TRANSFER}

# Code lists (XÖV code types with an unqualified <code> child). The schema fixes URI and version
# of Nachrichtentyp (2.0) and Aussonderungsart (1.0); Dateiformat's version is left to the
# sender and 2.0 is the list valid since 2021-10-01 (xdomea 3.x).
MESSAGE_TYPE_LIST = ("urn:xoev-de:xdomea:codeliste:nachrichtentyp", "2.0")
DISPOSAL_TYPE_LIST = ("urn:xoev-de:xdomea:codeliste:aussonderungsart", "1.0")
FILE_FORMAT_LIST = ("urn:xoev-de:xdomea:codeliste:dateiformat", "2.0")
# Dateiformat 2.0 by file extension (where an extension has several entries, the general one:
# doc is Word for Windows, pdf is PDF rather than PDF/A, which Rathaus does not check).
FILE_FORMATS = {
    "bmp": "001", "csv": "002", "doc": "003", "eml": "006", "htm": "007", "html": "008",
    "jpe": "009", "jpeg": "010", "jpg": "011", "msg": "012", "odp": "013", "ods": "014",
    "odt": "015", "otp": "016", "ots": "017", "pdf": "018", "png": "019", "ppt": "020",
    "ps": "021", "rtf": "022", "tif": "023", "tiff": "024", "wps": "025", "xlc": "026",
    "xlm": "027", "xls": "028", "xlw": "029", "xml": "030", "xsd": "031", "dot": "032",
    "pot": "033", "xlt": "034", "docx": "035", "xlsx": "036", "pptx": "037", "dotx": "038",
    "xltx": "039", "potx": "040", "dtd": "041", "mpp": "042", "ott": "043", "txt": "045",
    "p7b": "046", "p7c": "047", "p7m": "048", "p7s": "049", "asics": "050", "scs": "051",
}  # fmt: skip
OTHER_FORMAT = "100"  # "Sonstiges": the format is named in SonstigerName
EXTENSION_ID = "urn:rathaus:records:xdomea:pruefsummen"

# The official schemas (KoSIT), vendored; README.md there names their source.
SCHEMA_DIR = Path(__file__).resolve().parent / "xsd" / "xdomea-3.1.0"
SCHEMA_ENTRY = "xdomea-Nachrichten-AussonderungDurchfuehren.xsd"
# The xdomea schemas import the XÖV code type by its published URL: the vendored copy stands in.
SCHEMA_URLS = {"http://xoev.de/schemata/code/1_0/xoev-code.xsd": "xoev-code.xsd"}

ET.register_namespace("xdomea", NS)


def q(name: str) -> str:
    """The qualified tag of an xdomea element."""
    return f"{{{NS}}}{name}"


# Characters XML 1.0 does not allow (§ 2.2 "Char"): the C0 controls except tab, line feed and
# carriage return, surrogates, U+FFFE and U+FFFF. ElementTree writes them unchanged, which makes
# the message not well-formed.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(value: str) -> str:
    """``value`` with every character XML 1.0 does not allow replaced by a space."""
    return _NOT_XML_CHAR.sub(" ", value)


def _sub(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, q(name))
    if text is not None:
        element.text = _xml_safe(text)
    return element


def _code(
    parent: ET.Element, name: str, code: str, code_list: tuple[str, str] | None = None
) -> ET.Element:
    """An XÖV code element; ``code_list`` ``None`` where the schema names no list (the DVDV
    authority key and its prefix: the list depends on the prefix)."""
    attributes = (
        {"listURI": _xml_safe(code_list[0]), "listVersionID": _xml_safe(code_list[1])}
        if code_list is not None
        else {}
    )
    element = ET.SubElement(parent, q(name), attributes)
    ET.SubElement(element, "code").text = _xml_safe(code)
    return element


# --- the data the messages carry --------------------------------------------------------------


@dataclass(frozen=True)
class VersionEntry:
    """One document version in the 0503 package."""

    number: int
    package_name: str
    original_name: str
    content_type: str
    sha256: str
    created_at: datetime.datetime


@dataclass(frozen=True)
class DocumentEntry:
    id: uuid.UUID
    position: int
    title: str
    kind: str
    created_at: datetime.datetime
    versions: list[VersionEntry] = field(default_factory=list)


@dataclass(frozen=True)
class FileEntry:
    """The metadata of one file (Akte) as the archive sees it."""

    id: uuid.UUID
    reference: str
    title: str
    plan_key: str
    plan_title: str
    opened_on: datetime.date
    closed_on: datetime.date
    retention_years: int | None
    disposal_due_on: datetime.date | None
    disposal_type: str  # A, B or V
    documents: list[DocumentEntry] = field(default_factory=list)


# --- writing ----------------------------------------------------------------------------------


def _archive() -> dict[str, str]:
    """The receiving archive, from ``settings.RECORDS_XDOMEA_ARCHIVE`` (name, prefix, key)."""
    configured: dict[str, Any] = getattr(settings, "RECORDS_XDOMEA_ARCHIVE", {})
    return {
        "name": str(configured.get("name", "Archiv")),
        "prefix": str(configured.get("prefix", "")),
        "key": str(configured.get("key", "")),
    }


def _contact(parent: ET.Element, name: str, *, label: str, prefix: str, key: str) -> None:
    contact = _sub(parent, name)
    if key:
        authority_id = _sub(contact, "Behoerdenkennung")
        _code(authority_id, "Behoerdenschluessel", key)
        if prefix:
            _code(authority_id, "Praefix", prefix)
    institution = _sub(contact, "Institution")
    _sub(institution, "Name", label)


def _head(
    root: ET.Element,
    *,
    process_id: uuid.UUID,
    code: str,
    authority: Authority,
    receipt_requested: bool | None = True,
    import_confirmation: bool = False,
) -> None:
    """``Kopf``: ``receipt_requested`` ``None`` for a head without ``Empfangsbestaetigung``
    (NkBasisType, the receipts); ``import_confirmation`` for the 0503 (NkAussonderungType), which
    asks for the archive's 0506 with the archive signatures."""
    head = _sub(root, "Kopf")
    _sub(head, "ProzessID", str(process_id))
    _code(head, "Nachrichtentyp", code, MESSAGE_TYPE_LIST)
    _sub(head, "Erstellungszeitpunkt", timezone.localtime().isoformat(timespec="seconds"))
    # The sending authority: identified by its municipality's key (AGS, DVDV prefix "ags:").
    _contact(
        head,
        "Absender",
        label=authority.name,
        prefix="ags:",
        key=authority.municipality.ags,
    )
    archive = _archive()
    _contact(
        head, "Empfaenger", label=archive["name"], prefix=archive["prefix"], key=archive["key"]
    )
    system = _sub(head, "SendendesSystem")
    _sub(system, "InstanzID", "rathaus")
    _sub(system, "Produktname", "Rathaus")
    if import_confirmation:
        _sub(head, "Importbestaetigung", "1")  # fixed="1" in the schema
        _sub(head, "RueckmeldungArchivkennung", "1")  # the 0506 must name the signatures
    if receipt_requested is not None:
        _sub(head, "Empfangsbestaetigung", "true" if receipt_requested else "false")


def _file_element(parent: ET.Element, entry: FileEntry, *, with_documents: bool) -> None:
    record = _sub(_sub(parent, "Schriftgutobjekt"), "Akte")
    _sub(_sub(record, "Identifikation"), "ID", str(entry.id))
    general = _sub(record, "AllgemeineMetadaten")
    _sub(general, "Betreff", entry.title)
    _sub(general, "Kennzeichen", entry.reference)
    plan_unit = _sub(general, "Aktenplaneinheit")
    _sub(plan_unit, "Kennzeichen", entry.plan_key)
    _sub(plan_unit, "Inhaltsangabe", entry.plan_title)
    archival = _sub(record, "ArchivspezifischeMetadaten")  # MetadatenAussonderungType
    retention = _sub(archival, "Aufbewahrungsdauer")
    if entry.retention_years is None:
        _sub(retention, "Unbefristet", "1")  # fixed="1" in the schema
    else:
        _sub(retention, "AnzahlJahre", str(entry.retention_years))
    disposal_type = _sub(archival, "Aussonderungsart")
    _code(disposal_type, "Aussonderungsart", entry.disposal_type, DISPOSAL_TYPE_LIST)
    if entry.disposal_due_on is not None:
        # the last day of the retention period; the file is due the day after
        last_day = entry.disposal_due_on - datetime.timedelta(days=1)
        _sub(archival, "Aufbewahrungsende", last_day.isoformat())
    runtime = _sub(record, "Laufzeit")
    _sub(runtime, "Beginn", entry.opened_on.isoformat())
    _sub(runtime, "Ende", entry.closed_on.isoformat())
    if with_documents and entry.documents:
        content = _sub(record, "Akteninhalt")
        for document in entry.documents:
            _document_element(content, document)
    _sub(record, "ZdA", "true")
    _sub(record, "ZdADatum", entry.closed_on.isoformat())


def _document_element(parent: ET.Element, document: DocumentEntry) -> None:
    element = _sub(parent, "Dokument")
    identification = _sub(element, "Identifikation")
    _sub(identification, "ID", str(document.id))
    _sub(identification, "NummerImUebergeordnetenContainer", str(document.position))
    _sub(_sub(element, "AllgemeineMetadaten"), "Betreff", document.title)
    _sub(element, "Typ", document.kind)
    for version in document.versions:
        version_element = _sub(element, "Version")
        _sub(version_element, "Nummer", str(version.number))
        format_element = _sub(version_element, "Format")
        suffix = (
            version.package_name.rsplit(".", 1)[-1].lower() if "." in version.package_name else ""
        )
        format_code = FILE_FORMATS.get(suffix, OTHER_FORMAT)
        _code(format_element, "Name", format_code, FILE_FORMAT_LIST)
        if format_code == OTHER_FORMAT:  # SonstigerName only with "Sonstiges"
            _sub(format_element, "SonstigerName", version.content_type)
        _sub(format_element, "Version", "")
        primary = _sub(format_element, "Primaerdokument")
        _sub(primary, "Dateiname", version.package_name)
        _sub(primary, "DateinameOriginal", version.original_name)
        _sub(
            primary,
            "DatumUhrzeit",
            timezone.localtime(version.created_at).isoformat("T", "seconds"),
        )
    # xdomea has no checksum element for a primary document: the SHA-256 and MIME type of every
    # version go into an application-specific extension (and SHA256SUMS in the package).
    extension = _sub(element, "AnwendungsspezifischeErweiterung")
    _sub(extension, "Kennung", EXTENSION_ID)
    _sub(extension, "Name", "Prüfsummen und MIME-Typen")
    for version in document.versions:
        for name, value in (
            (f"{version.package_name}:SHA-256", version.sha256),
            (f"{version.package_name}:MIME-Typ", version.content_type),
        ):
            feld = _sub(extension, "Feld")
            _sub(feld, "Name", name)
            _sub(feld, "Wert", value)


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="UTF-8", xml_declaration=True))


# --- the official schema ----------------------------------------------------------------------


class _VendoredSchemas(etree.Resolver):
    """Resolves the schema files in one directory (and the XÖV code type's URL to its copy
    there) and refuses everything else, so that compiling a schema never fetches anything."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory.resolve()

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        name = SCHEMA_URLS.get(system_url)
        path: Path | None
        if name is not None:
            path = self.directory / name
        elif system_url.startswith("file:"):
            path = Path(unquote(urlsplit(system_url).path)).resolve()
        elif "://" in system_url:
            path = None  # http, ftp, …: never fetched
        else:
            path = Path(system_url).resolve()
        if path is None or path.parent != self.directory or not path.is_file():
            raise etree.XMLSchemaParseError(
                f"{system_url} is not one of the vendored schema files in {self.directory}"
            )
        return self.resolve_filename(str(path), context)


def load_schema(entry: Path, *, directory: Path = SCHEMA_DIR) -> etree.XMLSchema:
    """The schema ``entry`` with everything it includes or imports, from ``directory`` only."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_VendoredSchemas(directory))
    return etree.XMLSchema(etree.parse(str(entry), parser))


@functools.cache
def _schema() -> etree.XMLSchema:
    return load_schema(SCHEMA_DIR / SCHEMA_ENTRY)


# A compiled schema keeps the errors of its last validation: one validation at a time.
_validating = threading.Lock()


def schema_errors(message: bytes) -> list[str]:
    """What the official xdomea 3.1.0 schema finds wrong with ``message``; empty if nothing."""
    document = etree.fromstring(
        message, etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    )
    schema = _schema()
    with _validating:
        if schema.validate(document):
            return []
        # the element names without the namespace, which every one of them has
        return [
            f"line {error.line}: {error.message.replace(q(''), '')}" for error in schema.error_log
        ]


def conforming(message: bytes, *, code: str) -> bytes:
    """``message`` if the official schema accepts it; else the error is logged and the message
    withheld (:class:`DisposalError`): the archive gets no message it cannot read."""
    errors = schema_errors(message)
    if not errors:
        return message
    logger.error(
        "xdomea %s message does not conform to the xdomea %s schema: %s",
        code,
        VERSION,
        "; ".join(errors),
    )
    raise DisposalError(
        _(
            "The xdomea message %(message)s does not conform to the xdomea %(version)s schema "
            "and was not written: %(errors)s"
        )
        % {"message": code, "version": VERSION, "errors": "; ".join(errors[:3])}
    )


def offer_message(
    *, process_id: uuid.UUID, authority: Authority, files: Iterable[FileEntry]
) -> bytes:
    """Aussonderung.Anbieteverzeichnis.0501: the files offered to the archive, metadata only."""
    root = ET.Element(q(ROOTS[OFFER]))
    _head(root, process_id=process_id, code=OFFER, authority=authority)
    for entry in files:
        _file_element(root, entry, with_documents=False)
    return conforming(_serialise(root), code=OFFER)


def transfer_message(
    *, process_id: uuid.UUID, authority: Authority, files: Iterable[FileEntry]
) -> bytes:
    """Aussonderung.Aussonderung.0503: the files handed over, with documents and versions."""
    root = ET.Element(q(ROOTS[TRANSFER]))
    _head(root, process_id=process_id, code=TRANSFER, authority=authority, import_confirmation=True)
    for entry in files:
        _file_element(root, entry, with_documents=True)
    return conforming(_serialise(root), code=TRANSFER)


def evaluation_receipt_message(*, process_id: uuid.UUID, authority: Authority) -> bytes:
    """Aussonderung.BewertungEmpfangBestaetigen.0505: the authority received the evaluation.
    A receipt asks for no receipt in turn (its head, NkBasisType, has no such element)."""
    root = ET.Element(q(ROOTS[EVALUATION_RECEIPT]))
    _head(
        root,
        process_id=process_id,
        code=EVALUATION_RECEIPT,
        authority=authority,
        receipt_requested=None,
    )
    return conforming(_serialise(root), code=EVALUATION_RECEIPT)


# --- reading ----------------------------------------------------------------------------------


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _code_of(element: ET.Element | None) -> str:
    """The value of an XÖV code element (``<code>`` child, qualified or not, or plain text)."""
    if element is None:
        return ""
    for tag in ("code", q("code")):
        child = element.find(tag)
        if child is not None:
            return _text(child)
    return _text(element)


def _root(data: bytes) -> ET.Element:
    """The root element of an archive message, parsed safely (see :func:`parse`)."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise DisposalError(_("The message is larger than %d MB.") % (MAX_MESSAGE_BYTES >> 20))
    try:
        root: ET.Element = SafeET.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise DisposalError(
            _("The message contains a DTD or entity declarations, which are not accepted (%s).")
            % type(exc).__name__
        ) from exc
    except LookupError as exc:  # an encoding Python does not know, or not a text encoding
        raise DisposalError(
            _("The message declares an encoding that is not supported: %s") % exc
        ) from exc
    except (ET.ParseError, ValueError) as exc:  # ValueError includes UnicodeDecodeError
        raise DisposalError(_("The message is not well-formed XML: %s") % exc) from exc
    return root


def parse(
    data: bytes, *, expected: str, process_id: uuid.UUID, root: ET.Element | None = None
) -> ET.Element:
    """The root of an archive message of type ``expected`` for the process ``process_id``.

    :class:`DisposalError` for anything else: too large, not well-formed, a DTD or entities
    (refused outright: entity bombs and external entities), another message type or process.
    ``root``: the message already parsed by :func:`_root`.
    """
    if root is None:
        root = _root(data)
    wanted = ROOTS[expected]
    if root.tag != q(wanted):
        found = root.tag.split("}", 1)[-1]
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        if found == wanted and namespace != NS:
            raise DisposalError(
                _("The message uses the namespace “%(found)s”; expected xdomea “%(ns)s”.")
                % {"found": namespace, "ns": NS}
            )
        raise DisposalError(
            _("The message is a “%(found)s”, not a “%(wanted)s”.")
            % {"found": found, "wanted": wanted}
        )
    head = root.find(q("Kopf"))
    code = _code_of(head.find(q("Nachrichtentyp")) if head is not None else None)
    if code != expected:
        raise DisposalError(
            _("The message type in the head is “%(found)s”, not %(wanted)s.")
            % {"found": code, "wanted": expected}
        )
    found_process = _text(head.find(q("ProzessID")) if head is not None else None)
    if found_process.lower() != str(process_id):
        raise DisposalError(
            _("The message belongs to the process %(found)s, not to this run's process %(ours)s.")
            % {"found": found_process or "—", "ours": process_id}
        )
    return root


def _uuid(value: str, *, where: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise DisposalError(
            _("%(where)s: “%(value)s” is not an xdomea ID (UUID).")
            % {"where": where, "value": value}
        ) from exc


def receipt_requested(root: ET.Element) -> bool:
    """Whether the sender asks for a receipt (``Kopf/Empfangsbestaetigung``, xs:boolean)."""
    head = root.find(q("Kopf"))
    flag = _text(head.find(q("Empfangsbestaetigung")) if head is not None else None)
    return flag.lower() in ("true", "1")


@dataclass(frozen=True)
class Evaluation:
    """A 0502: the archive's decision per file (``{file id: "A" | "V"}``), and whether it asks
    for the authority's receipt (0505)."""

    decisions: dict[uuid.UUID, str]
    receipt_requested: bool


def read_evaluation(data: bytes, *, process_id: uuid.UUID) -> Evaluation:
    """The archive's evaluation of the offered files (0502)."""
    root = parse(data, expected=EVALUATION, process_id=process_id)
    decisions: dict[uuid.UUID, str] = {}
    for index, element in enumerate(root.findall(q("BewertetesObjekt")), start=1):
        where = _("Evaluated object %d") % index
        file_id = _uuid(_text(element.find(q("ID"))), where=where)
        outer = element.find(q("Aussonderungsart"))
        inner = outer.find(q("Aussonderungsart")) if outer is not None else None
        decision = _code_of(inner if inner is not None else outer)
        if decision not in ("A", "V"):
            raise DisposalError(
                _("%(where)s (%(id)s): the decision is “%(decision)s”; expected A or V.")
                % {"where": where, "id": file_id, "decision": decision or "—"}
            )
        if file_id in decisions:
            raise DisposalError(_("The file %s is evaluated twice.") % file_id)
        decisions[file_id] = decision
    return Evaluation(decisions=decisions, receipt_requested=receipt_requested(root))


def read_receipt(data: bytes, *, process_id: uuid.UUID) -> tuple[str, datetime.datetime | None]:
    """An archive's receipt for the process: which one (0504 for the offer, 0507 for the
    transfer package) and when the archive wrote it (``Erstellungszeitpunkt``; ``None`` where
    that is missing or unreadable, as the time of import is what counts)."""
    root = _root(data)
    name = root.tag.split("}", 1)[-1]
    code = next((c for c in ARCHIVE_RECEIPTS if ROOTS[c] == name), None)
    if code is None:
        raise DisposalError(
            _(
                "The message is a “%(found)s”, neither the archive's receipt of an offer "
                "(%(offer)s) nor of a transfer package (%(transfer)s)."
            )
            % {"found": name, "offer": ROOTS[OFFER_RECEIPT], "transfer": ROOTS[TRANSFER_RECEIPT]}
        )
    parse(data, expected=code, process_id=process_id, root=root)
    head = root.find(q("Kopf"))
    written = _text(head.find(q("Erstellungszeitpunkt")) if head is not None else None)
    try:
        moment = datetime.datetime.fromisoformat(written) if written else None
    except ValueError:
        moment = None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return code, moment


@dataclass(frozen=True)
class ImportResult:
    """The archive's answer for one handed-over file (0506 ``AusgesondertesSGO``)."""

    file_id: uuid.UUID
    success: bool
    signature: str
    error: str


def read_import_confirmation(data: bytes, *, process_id: uuid.UUID) -> list[ImportResult]:
    """The archive's import result per file of a 0506."""
    root = parse(data, expected=IMPORT_CONFIRMATION, process_id=process_id)
    results: list[ImportResult] = []
    for index, element in enumerate(root.findall(q("AusgesondertesSGO")), start=1):
        where = _("Confirmed object %d") % index
        file_id = _uuid(_text(element.find(q("IDSGO"))), where=where)
        flag = _text(element.find(q("Erfolgreich"))).lower()
        if flag not in ("true", "false", "1", "0"):
            raise DisposalError(
                _("%(where)s (%(id)s): “Erfolgreich” is “%(flag)s”; expected true or false.")
                % {"where": where, "id": file_id, "flag": flag or "—"}
            )
        success = flag in ("true", "1")
        signature = _text(element.find(q("Archivkennung")))
        if success and not signature:
            raise DisposalError(
                _("%(where)s (%(id)s): the archive signature (Archivkennung) is missing.")
                % {"where": where, "id": file_id}
            )
        if len(signature) > 200:
            raise DisposalError(
                _("%(where)s (%(id)s): the archive signature is longer than 200 characters.")
                % {"where": where, "id": file_id}
            )
        errors = "; ".join(_text(e) for e in element.findall(q("Fehlermeldung")) if _text(e))
        results.append(
            ImportResult(file_id=file_id, success=success, signature=signature, error=errors)
        )
    return results
