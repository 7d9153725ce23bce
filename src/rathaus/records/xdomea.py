"""xdomea messages of the Aussonderung: writing 0501, 0503 and 0505, reading 0502, 0504, 0506
and 0507.

The receipts (Empfangsbestätigungen) carry only the head: the archive's 0504 acknowledges the
offer, its 0507 the transfer package, and the authority's 0505 acknowledges the evaluation. The
messages 0501 and 0503 ask the archive for its receipt (``Kopf/Empfangsbestaetigung``).

Namespace ``urn:xoev-de:xdomea:schema:3.1.0`` (xdomea 3.1.0). The structure follows the public
xdomea 3.x schemas as far as known without them at hand: the messages are *not* validated
against the official XSD (there is no copy in this repository); docs/records.md lists the
elements written and read. Reading is strict about what it needs and ignores the rest.

Archive messages come from outside: they are parsed with ``defusedxml`` with DTDs forbidden
(no entity expansion, no external entities, no network) and a size limit.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.core.models import Authority
from rathaus.records.errors import DisposalError

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

# Code lists (XÖV code types with an unqualified <code> child). List URIs as published with
# xdomea; their versions are unverified here and kept in one place.
MESSAGE_TYPE_LIST = ("urn:xoev-de:xdomea:codeliste:nachrichtentyp", "2.0")
DISPOSAL_TYPE_LIST = ("urn:xoev-de:xdomea:codeliste:aussonderungsart", "1.0")
FILE_FORMAT_LIST = ("urn:xoev-de:xdomea:codeliste:dateiformat", "1.0")
EXTENSION_ID = "urn:rathaus:records:xdomea:pruefsummen"

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


def _code(parent: ET.Element, name: str, code: str, code_list: tuple[str, str]) -> ET.Element:
    element = ET.SubElement(
        parent,
        q(name),
        {"listURI": _xml_safe(code_list[0]), "listVersionID": _xml_safe(code_list[1])},
    )
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
        _sub(authority_id, "Behoerdenschluessel", key)
        if prefix:
            _sub(authority_id, "Praefix", prefix)
    institution = _sub(contact, "Institution")
    _sub(institution, "Name", label)


def _head(
    root: ET.Element,
    *,
    process_id: uuid.UUID,
    code: str,
    authority: Authority,
    receipt_requested: bool = True,
) -> None:
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
    archival = _sub(record, "ArchivspezifischeMetadaten")
    disposal_type = _sub(archival, "Aussonderungsart")
    _code(disposal_type, "Aussonderungsart", entry.disposal_type, DISPOSAL_TYPE_LIST)
    retention = _sub(archival, "Aufbewahrungsdauer")
    if entry.retention_years is None:
        _sub(retention, "Unbefristet", "true")
    else:
        _sub(retention, "AnzahlJahre", str(entry.retention_years))
    if entry.disposal_due_on is not None:
        _sub(archival, "Aussonderungsdatum", entry.disposal_due_on.isoformat())
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
        _code(format_element, "Name", suffix or "bin", FILE_FORMAT_LIST)
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


def offer_message(
    *, process_id: uuid.UUID, authority: Authority, files: Iterable[FileEntry]
) -> bytes:
    """Aussonderung.Anbieteverzeichnis.0501: the files offered to the archive, metadata only."""
    root = ET.Element(q(ROOTS[OFFER]))
    _head(root, process_id=process_id, code=OFFER, authority=authority)
    for entry in files:
        _file_element(root, entry, with_documents=False)
    return _serialise(root)


def transfer_message(
    *, process_id: uuid.UUID, authority: Authority, files: Iterable[FileEntry]
) -> bytes:
    """Aussonderung.Aussonderung.0503: the files handed over, with documents and versions."""
    root = ET.Element(q(ROOTS[TRANSFER]))
    _head(root, process_id=process_id, code=TRANSFER, authority=authority)
    for entry in files:
        _file_element(root, entry, with_documents=True)
    return _serialise(root)


def evaluation_receipt_message(*, process_id: uuid.UUID, authority: Authority) -> bytes:
    """Aussonderung.BewertungEmpfangBestaetigen.0505: the authority received the evaluation.
    A receipt asks for no receipt in turn."""
    root = ET.Element(q(ROOTS[EVALUATION_RECEIPT]))
    _head(
        root,
        process_id=process_id,
        code=EVALUATION_RECEIPT,
        authority=authority,
        receipt_requested=False,
    )
    return _serialise(root)


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
