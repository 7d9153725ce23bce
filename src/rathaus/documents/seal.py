"""Electronic seals of the authority on issued PDFs (PAdES, pyHanko) and their validation.

§ 9a Abs. 6 OZG: a notice delivered through the portal carries the authority's electronic seal.
The seal is a PAdES baseline certification signature in an invisible field, added as an
incremental update so that the PDF/A-3a revision underneath stays byte for byte as rendered.
With a time-stamping authority configured (``DOCUMENTS_TSA_URL``, RFC 3161) the signature
carries its time stamp (PAdES B-T): proof of when it was made that does not rest on the
authority's own clock and outlives the seal certificate. Without one it is B-B.

With ``DOCUMENTS_SEAL_LTV`` (the default) the seal also carries what a validator needs years
later (PAdES B-LT): the certificates of the seal and of the time stamp and the revocation data
(CRL/OCSP) fetched from the certificates' own pointers at sealing time, in the PDF's Document
Security Store; with a time-stamping authority a document time stamp over all of it follows
(B-LTA). A revoked certificate stops the sealing; revocation services that cannot be reached
give a seal without these data (logged), as a missing time stamp does.

Where the key comes from is configuration: production takes a PKCS#12 file
(``DOCUMENTS_SEAL_PKCS12`` + ``DOCUMENTS_SEAL_PASSPHRASE``) and the CA certificates that anchor
it (``DOCUMENTS_SEAL_TRUST_ROOTS``); demo and test installations generate a CA and a seal
certificate once, under ``VAR_DIR/documents/seal/``.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import hashlib
import io
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import httpx
from asn1crypto import cms, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from lxml import etree
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule,
    DocInfoRule,
    DSSCompareRule,
    FormUpdatingRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    ReferenceUpdate,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
    XrefStreamRule,
)
from pyhanko.sign.general import (
    NonexistentAttributeError,
    SigningError,
    find_unique_cms_attribute,
)
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.generic_cms import (
    extract_certs_for_validation,
    validate_tst_signed_data,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel, TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext, ValidationPath
from pyhanko_certvalidator.errors import PathValidationError, RevokedError
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.policy_decl import AcceptAllAlgorithms, AlgorithmUsagePolicy
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from rathaus.documents.algorithms import (
    AlgorithmSunsets,
    SunsetPolicy,
    TokenAlgorithms,
    configured_sunsets,
    signature_algorithms,
    timestamp_algorithms,
    timestamp_time,
)

SEAL_FIELD = "Siegel"
SEAL_REASON = "Elektronisches Siegel der Behörde"
DEMO_DIR_NAME = Path("documents") / "seal"
DEMO_SEAL_FILE = "seal.p12"
DEMO_CA_FILE = "ca.pem"
# Rathaus seals an issued document once; more signatures leave room for a document timestamp
# or a countersignature. Each is checked in full, so a file naming thousands (fields may share
# one signature) would otherwise cost minutes of CPU.
#: An issued document carries one seal (a few at most), and one document time stamp more each
#: time its archive time stamp is renewed (every few years, for decades of retention).
MAX_SEALS = 4
MAX_ARCHIVE_TIMESTAMPS = 12

_COVERS_REVISION = (SignatureCoverageLevel.ENTIRE_REVISION, SignatureCoverageLevel.ENTIRE_FILE)


class _InfoDatesRule(DocInfoRule):
    """The document information may be written again after a seal, but only with a new
    ``/ModDate`` or ``/Producer`` (pyHanko writes them with every update): its title, author,
    subject and so on stay as sealed."""

    _UPDATED = frozenset({"/ModDate", "/Producer"})

    def apply(self, old: HistoricalResolver, new: HistoricalResolver) -> Iterator[ReferenceUpdate]:
        old_info, new_info = (_info(revision) for revision in (old, new))
        if not isinstance(old_info, generic.DictionaryObject) or not isinstance(
            new_info, generic.DictionaryObject
        ):
            return
        if {k: v for k, v in old_info.items() if k not in self._UPDATED} != {
            k: v for k, v in new_info.items() if k not in self._UPDATED
        }:
            return  # not explained: the revision counts as a modification of the document
        yield from super().apply(old, new)


def _info(revision: HistoricalResolver) -> generic.PdfObject | None:
    """The document information dictionary as it was in ``revision``."""
    ref = revision.trailer_view.get_value_as_reference("/Info", optional=True)
    return None if ref is None else revision.get_object(ref)


_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_RDF_RDF, _RDF_DESCRIPTION, _RDF_ABOUT = f"{_RDF}RDF", f"{_RDF}Description", f"{_RDF}about"


class _XmpDatesRule(MetadataUpdateRule):
    """The XMP metadata may be written again after a seal, but only with a new
    ``xmp:ModifyDate``, ``xmp:MetadataDate`` or ``pdf:Producer`` (and the packet's toolkit name,
    ``x:xmptk``): pyHanko rewrites them with every update, a renewed archive time stamp too. Its
    title, creator, PDF/A claims and everything else stay as sealed. pyHanko's own rule only
    checks that the new XMP is well-formed, so a new metadata stream with another ``dc:title``
    passed."""

    _UPDATED = frozenset(
        {
            "{http://ns.adobe.com/xap/1.0/}ModifyDate",
            "{http://ns.adobe.com/xap/1.0/}MetadataDate",
            "{http://ns.adobe.com/pdf/1.3/}Producer",
        }
    )

    def apply(self, old: HistoricalResolver, new: HistoricalResolver) -> Iterator[ReferenceUpdate]:
        old_facts, new_facts = (_xmp_facts(revision, self._UPDATED) for revision in (old, new))
        if old_facts is None or old_facts != new_facts:
            return  # not explained: the revision counts as a modification of the document
        yield from super().apply(old, new)


_NO_XMP: tuple[Any, ...] = ()


def _xmp_facts(revision: HistoricalResolver, updated: frozenset[str]) -> tuple[Any, ...] | None:
    """What the XMP metadata of ``revision`` says, whatever the serialisation: each property of
    each ``rdf:Description`` (attribute or element form, in any order or grouping) with its
    value, and the rest of the packet as canonical XML; ``updated`` properties left out.
    ``_NO_XMP`` without metadata, None when it cannot be read (which explains nothing)."""
    try:
        ref = revision.root.raw_get("/Metadata")
    except KeyError:
        return _NO_XMP
    try:
        stream = ref.get_object() if isinstance(ref, generic.IndirectObject) else ref
        if not isinstance(stream, generic.StreamObject):
            return None
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        root = etree.fromstring(stream.read_data(DecodePurpose.XMP_METADATA), parser=parser)
    except Exception:  # a damaged stream or XML: pyHanko raises many kinds of exception
        return None
    if root.getroottree().docinfo.doctype or any(True for _ in root.iter(etree.Entity)):
        return None
    properties: list[tuple[str, str, str, bytes]] = []
    skeleton = _stripped(root)
    skeleton.attrib.pop("{adobe:ns:meta/}xmptk", None)  # the toolkit that wrote the packet
    for description in skeleton.iter(_RDF_DESCRIPTION):
        parent = description.getparent()
        if parent is None or parent.tag != _RDF_RDF:
            continue  # a structured value, compared as a whole with its property below
        about = description.get(_RDF_ABOUT, "")
        for name, value in description.attrib.items():
            if name != _RDF_ABOUT and name not in updated:
                properties.append((about, str(name), str(value), b""))
        for child in description:
            name = child.tag if isinstance(child.tag, str) else ""  # "": a comment
            if name in updated:
                continue
            if name and len(child) == 0 and not child.attrib:  # a simple value, as an attribute
                properties.append((about, name, child.text or "", b""))
            else:
                properties.append((about, name, "", _canonical(child)))
    for description in list(skeleton.iter(_RDF_DESCRIPTION)):
        parent = description.getparent()
        if parent is not None and parent.tag == _RDF_RDF:
            parent.remove(description)
    return (_canonical(skeleton), tuple(sorted(properties)))


def _stripped(element: Any) -> Any:
    """A copy of ``element`` without whitespace-only text (indentation)."""
    stripped = copy.deepcopy(element)
    for node in stripped.iter():
        if node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    return stripped


def _canonical(element: Any) -> bytes:
    """Exclusive canonical XML of ``element`` (only the namespaces it uses), comments included."""
    stripped = _stripped(element)
    stripped.tail = None
    return bytes(etree.tostring(stripped, method="c14n", exclusive=True, with_comments=True))


#: What may follow a seal: long-term validation data (the Document Security Store) and document
#: time stamps, with the catalog, form, XMP and date updates they bring; pyHanko's default policy
#: also lets the document information and the XMP metadata (title, author …) change, which an
#: issued document must not (:class:`_InfoDatesRule`, :class:`_XmpDatesRule`).
_LONG_TERM_UPDATES_ONLY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),
        _InfoDatesRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        _XmpDatesRule().as_qualified(ModificationLevel.LTA_UPDATES),
    ],
    form_rule=FormUpdatingRule(field_rules=[SigFieldCreationRule(), SigFieldModificationRule()]),
)
logger = logging.getLogger(__name__)


T = TypeVar("T")


def _outside_event_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """pyHanko runs its own event loop (asyncio.run); inside a running loop (an ASGI server,
    Playwright's sync API in tests) it must run in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


class SealError(Exception):
    """The PDF could not be sealed (unreadable input or unusable key material)."""


class TimestampUnavailable(SealError):
    """A time stamp is required (``DOCUMENTS_TSA_REQUIRED``) and the TSA gave none."""


class TimestampRejected(SealError):
    """The TSA gave a time stamp that does not verify, or that cannot be checked here (a key
    on a curve pyca/cryptography cannot load): nothing is sealed or renewed with it, whether
    time stamps are required or not, since the document would go out with a stamp that makes
    its seal not valid."""


class SealSigner(signers.SimpleSigner):
    """pyHanko's in-memory signer, keeping the parsed private key.

    ``SimpleSigner`` re-imports the key for every signature; for RSA that re-runs the key
    consistency check (about 0.3 s for 3072 bits, twice per seal). Same signatures, done once.
    """

    _private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def from_pkcs12(cls, data: bytes, passphrase: bytes | None) -> SealSigner:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
        except ValueError as exc:
            raise SealError("The seal's PKCS#12 file cannot be read (wrong passphrase?).") from exc
        if cert is None or not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SealError("The seal's PKCS#12 file needs an RSA or EC key and its certificate.")
        key_der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        signer = cls(
            signing_cert=_asn1_cert(cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in extra]),
        )
        signer._private_key = key
        return signer

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        key = self._private_key
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        return super().sign_raw(data, digest_algorithm)


#: The kinds of links in a seal's chain of evidence, in the order they are made.
SEAL, SIGNATURE_TIMESTAMP, ARCHIVE_TIMESTAMP = "seal", "signature_timestamp", "archive_timestamp"


@dataclass(frozen=True)
class Evidence:
    """One link of a seal's chain of evidence: the seal, its time stamp (PAdES B-T) or a
    document time stamp (B-LTA), and whether its algorithms were still secure when the next
    time stamp covered it (the newest link: whether they are secure today). See
    :mod:`rathaus.documents.algorithms`."""

    kind: str  #: :data:`SEAL`, :data:`SIGNATURE_TIMESTAMP` or :data:`ARCHIVE_TIMESTAMP`
    #: a time stamp's time (its TSA's); a seal's signing time (its signer's own, unproven)
    time: datetime | None
    algorithms: tuple[str, ...]  #: e.g. ("SHA-256", "RSA-3072")
    #: which of them are no longer secure today, and since when the first of them is not
    weak_today: tuple[str, ...] = ()
    weak_since: date | None = None
    #: the time of the time stamp that covered the link first (for a seal: its own); None:
    #: nothing covers it, it is judged by today's algorithms
    covered_at: datetime | None = None
    #: the algorithms that were no longer secure when it was covered (or, uncovered, are not
    #: today): the chain is broken at this link
    failing: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        return not self.failing

    @property
    def renewed_in_time(self) -> bool:
        """Weak today, but covered by a later time stamp while its algorithms were secure."""
        return bool(self.weak_today) and self.holds


@dataclass(frozen=True)
class SealStatus:
    """The result of checking a PDF's seal.

    ``valid`` is the bottom line: a seal is present, nothing was appended after the last seal,
    the signature is intact and mathematically correct,
    and the certificate chains up to one of the trust roots; and every link of its chain of
    evidence (:attr:`evidence`) rests on algorithms that were secure when a later time stamp
    covered it, the newest on algorithms secure today.
    """

    sealed: bool
    intact: bool
    valid: bool
    trusted: bool
    signer: str
    signing_time: datetime | None
    reason: str
    location: str
    problem: str = ""
    #: the time-stamping authority's time of the seal (PAdES B-T), when its token is valid and
    #: its TSA trusted; otherwise None, and ``timestamp_problem`` says why if there was one
    timestamp: datetime | None = None
    timestamp_problem: str = ""
    #: the PDF carries long-term validation data (certificates, revocation data: PAdES B-LT)
    long_term: bool = False
    #: the time of the last document time stamp over seal and validation data (PAdES B-LTA)
    archive_timestamp: datetime | None = None
    #: the seal, its time stamp and the document time stamps, oldest first
    evidence: tuple[Evidence, ...] = ()

    @property
    def translated_problem(self) -> str:
        """:attr:`problem` in the active language where the catalogue has it (the sentences
        marked with ``gettext_noop`` here), else as it is (English); "" without a problem."""
        return gettext(self.problem) if self.problem else ""

    @property
    def weakened(self) -> bool:
        """A link of the chain rests on an algorithm that is no longer secure today."""
        return any(link.weak_today for link in self.evidence)

    @property
    def renewed(self) -> bool:
        """Valid thanks to renewal: a link is weak today, but a later time stamp covered it
        while it was still secure."""
        return self.valid and self.weakened

    @property
    def evidence_broken(self) -> bool:
        """Not valid because a link's algorithms were weak before a later stamp covered it."""
        return any(not link.holds for link in self.evidence)

    @property
    def outcome(self) -> str:
        """``valid``, ``valid_by_renewal`` or ``not_valid``."""
        if not self.valid:
            return "not_valid"
        return "valid_by_renewal" if self.renewed else "valid"

    @property
    def level(self) -> str:
        """The PAdES baseline level this seal shows: B-B, B-T, B-LT or B-LTA ("" unsealed)."""
        if not self.sealed:
            return ""
        if self.archive_timestamp is not None and self.long_term and self.timestamp is not None:
            return "B-LTA"
        if self.long_term and self.timestamp is not None:
            return "B-LT"
        return "B-T" if self.timestamp is not None else "B-B"

    def as_json(self) -> dict[str, Any]:
        """For the verification API."""

        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "sealed": self.sealed,
            "valid": self.valid,
            "signer": self.signer,
            "signed_at": when(self.signing_time),
            "timestamp": when(self.timestamp),
            "long_term": self.long_term,
            "archive_timestamp": when(self.archive_timestamp),
            "level": self.level,
            "outcome": self.outcome,
            "evidence": [
                {
                    "kind": link.kind,
                    "time": when(link.time),
                    "algorithms": list(link.algorithms),
                    "weak_today": list(link.weak_today),
                    "weak_since": link.weak_since.isoformat() if link.weak_since else None,
                    "covered_at": when(link.covered_at),
                    "holds": link.holds,
                }
                for link in self.evidence
            ],
            "problem": self.problem,
        }

    @classmethod
    def unsealed(cls, problem: str) -> SealStatus:
        return cls(
            sealed=False,
            intact=False,
            valid=False,
            trusted=False,
            signer="",
            signing_time=None,
            reason="",
            location="",
            problem=problem,
        )


def _subject_label(cert: asn1_x509.Certificate) -> str:
    """'Common name (organisation)' of a certificate's subject."""
    subject = cert.subject.native
    common_name = str(subject.get("common_name", ""))
    organization = str(subject.get("organization_name", ""))
    if organization and organization not in common_name:
        return f"{common_name} ({organization})"
    return common_name or cert.subject.human_friendly


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class TimestampClient(TimeStamper):
    """RFC 3161 time stamps over HTTP(S) from the configured time-stamping authority (httpx)."""

    def __init__(self, url: str, *, timeout: float) -> None:
        super().__init__(include_nonce=True)
        self.url = url
        self.timeout = timeout

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return await asyncio.to_thread(self._post, req.dump())

    def _post(self, query: bytes) -> tsp.TimeStampResp:
        try:
            response = httpx.post(
                self.url,
                content=query,
                headers={"Content-Type": "application/timestamp-query"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise TimestampRequestError(f"no answer from {self.url}: {exc}") from exc
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        if response.status_code != 200 or content_type != "application/timestamp-reply":
            raise TimestampRequestError(
                f"{self.url} answered {response.status_code} ({content_type or 'no type'}), "
                "not a time-stamp reply"
            )
        try:
            reply = tsp.TimeStampResp.load(response.content)
            reply.native  # noqa: B018 - parse it all here, where a broken reply is caught
        except ValueError as exc:
            raise TimestampRequestError(f"{self.url} sent a damaged time-stamp reply") from exc
        return reply


@cache
def configured_timestamper() -> TimestampClient | None:
    """The time-stamping authority of ``DOCUMENTS_TSA_URL``, or None when there is none.

    One client per process: pyHanko sizes the signature with a time stamp of a dummy digest
    that the client keeps, so a TSA that bills per stamp is asked once per seal, not twice."""
    url = getattr(settings, "DOCUMENTS_TSA_URL", "")
    if not url:
        return None
    return TimestampClient(url, timeout=float(getattr(settings, "DOCUMENTS_TSA_TIMEOUT", 10)))


class _CheckedTimeStamper(TimeStamper):
    """The time stamps of ``stamper``, each checked (:func:`_check_timestamp_token`) before
    pyHanko embeds it: the seal's own stamp, its document time stamp (B-LTA) and a renewed
    archive time stamp all come through :meth:`async_timestamp`. The dummy stamp that pyHanko
    sizes the signature with, and the certificates it validates with long-term validation
    data, are ``stamper``'s own (fetched once per process, never embedded). ``refused`` ends
    the message of a stamp that does not verify: what did not happen."""

    def __init__(self, stamper: TimeStamper, *, refused: str) -> None:
        super().__init__()
        self._stamper = stamper
        self._refused = refused

    def validation_paths(
        self, validation_context: ValidationContext
    ) -> AsyncIterator[ValidationPath]:
        return self._stamper.validation_paths(validation_context)

    async def async_dummy_response(self, md_algorithm: str) -> cms.ContentInfo:
        return await self._stamper.async_dummy_response(md_algorithm)

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        token = await self._stamper.async_timestamp(message_digest, md_algorithm)
        await _check_timestamp_token(
            token,
            message_digest=message_digest,
            md_algorithm=md_algorithm,
            refused=self._refused,
            other_certs=list(self._stamper.cert_registry),
        )
        return token


async def _check_timestamp_token(
    token: cms.ContentInfo,
    *,
    message_digest: bytes,
    md_algorithm: str,
    refused: str,
    other_certs: Iterable[asn1_x509.Certificate] = (),
) -> None:
    """:class:`TimestampRejected` unless ``token`` stamps ``message_digest`` (what pyHanko
    asked the TSA to stamp, hashed with ``md_algorithm``), its signature verifies, its TSA's
    certificate (timeStamping usage) chains up to the TSA's roots, and it gives its time in
    UTC. pyHanko checks the TSA's certificate path when it stamps, but neither the token's
    signature nor what it stamps: a broken TSA, or anyone on the way, could hand over a token
    that proves nothing, and the document would go out with it. Its algorithms are the
    caller's to judge (``records.preservation``; :func:`validate_seal`).

    The token is checked as it arrives, not in the PDF it goes into: reading a tagged notice
    again costs tens of milliseconds, the token's check about 1.4 ms of CPU (RSA-3072)."""
    signed_data = token["content"]
    try:
        imprint = signed_data["encap_content_info"]["content"].parsed["message_imprint"]
        stamps_the_digest = (
            imprint["hash_algorithm"]["algorithm"].native == md_algorithm
            and imprint["hashed_message"].native == message_digest
        )
        naive = timestamp_time(signed_data).utcoffset() is None
    except Exception as exc:  # asn1crypto raises several kinds for a token of another form
        raise TimestampRejected(
            f"The time-stamping authority's new stamp cannot be read ({exc}); {refused}."
        ) from exc
    if not stamps_the_digest:
        raise TimestampRejected(
            "The time-stamping authority's new stamp is not over what it was asked to stamp "
            f"(its message imprint differs); {refused}."
        )
    if naive:
        raise TimestampRejected(
            "The time-stamping authority's new stamp gives its time without a time zone "
            f"(RFC 3161 requires UTC); {refused}."
        )
    context = ValidationContext(
        trust_roots=_tsa_roots_or_none(),
        other_certs=list(other_certs),
        allow_fetching=False,
        revocation_mode="soft-fail",
        algorithm_usage_policy=AcceptAllAlgorithms(),
    )
    try:
        status = TimestampSignatureStatus(
            **await validate_tst_signed_data(signed_data, context, lambda _: message_digest)
        )
    except UnsupportedAlgorithm as exc:
        raise TimestampRejected(
            f"The time-stamping authority's key ({_key_description(signed_data)}) is not "
            f"supported, so its new stamp cannot be checked; {refused}."
        ) from exc
    except Exception as exc:  # pyHanko and cryptography raise many kinds for odd tokens
        raise TimestampRejected(
            f"The time-stamping authority's new stamp cannot be checked ({exc}); {refused}."
        ) from exc
    if not (status.intact and status.valid and status.trusted):
        raise TimestampRejected(
            "The time-stamping authority's new stamp does not verify (its signature is not "
            f"valid or its certificate not trusted); {refused}."
        )


def _key_description(signed_data: cms.SignedData) -> str:
    """The key of a time stamp's signer, for a message: "ec, curve brainpoolp320r1"."""
    try:
        key = extract_certs_for_validation(signed_data).signer_cert.public_key
        kind = str(key.algorithm)
        parameters = key["algorithm"]["parameters"]
        if kind == "ec" and parameters.name == "named":
            return f"ec, curve {parameters.chosen.native}"
    except Exception:  # the certificate or its key cannot be read
        return "unknown"
    return kind


def _key_supported(certificate: asn1_x509.Certificate) -> bool:
    """Whether pyca/cryptography can load the public key of ``certificate`` (not one on a
    curve it does not know). A damaged key counts as supported: that is another problem."""
    try:
        serialization.load_der_public_key(certificate.public_key.dump())
    except UnsupportedAlgorithm:
        return False
    except Exception:  # a damaged point or encoding: reported as damaged, not as unsupported
        return True
    return True


def seal_pdf(
    pdf: bytes,
    *,
    signer: signers.Signer,
    location: str,
    timestamper: TimeStamper | bool | None = True,
    long_term: bool | None = None,
) -> bytes:
    """Seal ``pdf`` for the authority; ``location`` is the municipality's name.

    A certification signature (DocMDP: no changes allowed) in an invisible field, appended as an
    incremental update. The producer entry is aligned between the document information
    dictionary and the XMP metadata (pyHanko would otherwise make them differ, which PDF/A
    forbids). ``timestamper`` True (the default) takes the configured time-stamping authority;
    when it cannot give a stamp the seal is made without one (B-B, logged), unless
    ``DOCUMENTS_TSA_REQUIRED`` is set: then :class:`SealError` says why. ``long_term`` (default
    ``DOCUMENTS_SEAL_LTV``) adds the long-term validation data (B-LT, with a stamp B-LTA).
    Every time stamp the seal takes in must verify (:func:`_check_timestamp_token`): one that
    does not stops the sealing with :class:`TimestampRejected`, time stamps required or not.
    """
    stamper = configured_timestamper() if timestamper is True else timestamper or None
    if stamper is not None:
        stamper = _CheckedTimeStamper(stamper, refused="the document was not sealed")
    if long_term is None:
        long_term = bool(getattr(settings, "DOCUMENTS_SEAL_LTV", False))
    try:
        return _sign_long_term(
            pdf, signer=signer, location=location, timestamper=stamper, ltv=long_term
        )
    except TimestampRequestError as exc:
        if getattr(settings, "DOCUMENTS_TSA_REQUIRED", False):
            raise TimestampUnavailable(
                f"The time-stamping authority gave no time stamp ({exc}); the document was not "
                "sealed. Please try again later."
            ) from exc
        logger.warning("seal made without a time stamp", extra={"error": str(exc)[:500]})
        return _sign_long_term(
            pdf, signer=signer, location=location, timestamper=None, ltv=long_term
        )


def _sign_long_term(
    pdf: bytes,
    *,
    signer: signers.Signer,
    location: str,
    timestamper: TimeStamper | None,
    ltv: bool,
) -> bytes:
    """:func:`_sign`, with the long-term validation data when ``ltv``: refused for a revoked
    certificate, left out (logged) when the revocation services cannot be reached."""
    if not ltv:
        return _sign(pdf, signer=signer, location=location, timestamper=timestamper)
    try:
        return _sign(
            pdf,
            signer=signer,
            location=location,
            timestamper=timestamper,
            revocation=_revocation_context(),
        )
    except (TimestampRequestError, TimestampRejected):
        raise
    except (SigningError, PathValidationError) as exc:
        cause = exc if isinstance(exc, PathValidationError) else exc.__cause__
        if isinstance(cause, TimestampRejected):
            raise cause from exc
        if isinstance(cause, RevokedError):
            raise SealError(
                f"A certificate of the seal or of its time stamp is revoked: {cause}. The document "
                "was not sealed; the seal certificate must be replaced."
            ) from exc
        if cause is None:
            raise
        logger.warning(
            "seal made without long-term validation data", extra={"error": str(cause)[:500]}
        )
        return _sign(pdf, signer=signer, location=location, timestamper=timestamper)


def _revocation_context(
    *, algorithm_policy: AlgorithmUsagePolicy | None = None
) -> ValidationContext:
    """What the seal's and the time stamp's certificates are checked with while sealing: their
    roots, revocation data fetched from the certificates' own CRL and OCSP addresses (a
    certificate without any has none to embed), a revoked or unverifiable one refused.
    ``algorithm_policy`` replaces pyHanko's (which refuses md2, md5, sha1 and RSA keys shorter
    than 2048 bits)."""
    timeout = float(getattr(settings, "DOCUMENTS_TSA_TIMEOUT", 10))
    return ValidationContext(
        trust_roots=[*seal_trust_roots(), *_tsa_roots_or_none()],
        allow_fetching=True,
        revocation_mode="hard-fail",
        fetcher_backend=RequestsFetcherBackend(per_request_timeout=timeout),
        algorithm_usage_policy=algorithm_policy,
    )


def _tsa_roots_or_none() -> list[asn1_x509.Certificate]:
    """The TSA's roots; a broken setting must not break the seal itself: then no time stamp is
    trusted."""
    try:
        return tsa_trust_roots()
    except ImproperlyConfigured as exc:  # also reported by check --deploy (documents.E003)
        logger.error("seal: %s", exc)
        return []


def _sign(
    pdf: bytes,
    *,
    signer: signers.Signer,
    location: str,
    timestamper: TimeStamper | None,
    revocation: ValidationContext | None = None,
) -> bytes:
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError, KeyError) as exc:
        raise SealError(f"The PDF to be sealed cannot be read: {exc}") from exc
    try:
        info_ref = writer.trailer.raw_get("/Info")
    except KeyError:  # the information dictionary is optional (ISO 32000-1, 14.3.3)
        info_ref = None
    if isinstance(info_ref, generic.IndirectObject):
        info_ref.get_object()[generic.NameObject("/Producer")] = generic.TextStringObject(VENDOR)
        writer.mark_update(info_ref)
    _seal_field_in_structure(writer)
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        reason=SEAL_REASON,
        location=location,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        embed_validation_info=revocation is not None,
        validation_context=revocation,
        # B-LTA: a document time stamp over the seal and its validation data
        use_pades_lta=revocation is not None and timestamper is not None,
    )
    output = _outside_event_loop(
        signers.sign_pdf, writer, meta, signer=signer, timestamper=timestamper
    )
    return bytes(output.getvalue())


def _seal_field_in_structure(writer: IncrementalPdfFileWriter) -> None:
    """Create the seal's field for a tagged PDF in the structure tree (PDF/UA-1 7.18.4): a
    ``Form`` element at the end of the document with a reference to the widget, the widget's
    ``/StructParent`` and its ``/TU`` ("Elektronisches Siegel der Behörde", in the letter's
    language). ``sign_pdf`` then fills this field. Part of the seal's own revision, so the seal
    covers it. A PDF whose tree is not as ``render_pdf`` writes it (no flat ``/Nums`` parent
    tree, no ``Document`` element), or that has a seal field already, is left to pyHanko."""
    root = writer.root
    try:
        tree = root["/StructTreeRoot"]
        parent_tree = tree["/ParentTree"]
        nums = parent_tree["/Nums"]
        kids = tree["/K"]
        if isinstance(kids, generic.ArrayObject):
            document_ref = kids.raw_get(0)
        else:
            document_ref = tree.raw_get("/K")
        document = document_ref.get_object()
        elements = document["/K"]
        keys = [int(key) for key in list(nums)[::2]]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, PdfError):
        return
    if (
        not isinstance(document_ref, generic.IndirectObject)
        or document.get("/S") != "/Document"
        or not isinstance(elements, generic.ArrayObject)
        or "/Kids" in parent_tree
        or next(fields.enumerate_sig_fields(writer, with_name=SEAL_FIELD), None) is not None
    ):
        return
    fields.append_signature_field(
        writer,
        fields.SigFieldSpec(sig_field_name=SEAL_FIELD, readable_field_name=_seal_field_name(root)),
    )
    _name, _value, widget_ref = next(fields.enumerate_sig_fields(writer, with_name=SEAL_FIELD))
    widget = widget_ref.get_object()
    page_ref = widget.raw_get("/P")
    reference = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/OBJR"),
                generic.NameObject("/Obj"): widget_ref,
                generic.NameObject("/Pg"): page_ref,
            }
        )
    )
    form_ref = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/StructElem"),
                generic.NameObject("/S"): generic.NameObject("/Form"),
                generic.NameObject("/P"): document_ref,
                generic.NameObject("/Pg"): page_ref,
                generic.NameObject("/K"): generic.ArrayObject([reference]),
            }
        )
    )
    key = max(keys, default=-1) + 1
    widget[generic.NameObject("/StructParent")] = generic.NumberObject(key)
    writer.update_container(widget)
    elements.append(form_ref)
    writer.mark_update(document_ref)
    nums.extend([generic.NumberObject(key), form_ref])
    writer.update_container(nums)


def _seal_field_name(root: generic.DictionaryObject) -> str:
    """The seal field's name for assistive technology, in the language of the document."""
    try:
        language = translation.get_supported_language_variant(str(root.get("/Lang", "")))
    except LookupError:
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        return gettext("Electronic seal of the authority")


def _archive_timestamps(reader: PdfFileReader) -> list[Any]:
    return [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]


def archive_timestamp_expiry(pdf: bytes) -> datetime | None:
    """When the certificate of the time-stamping authority behind the newest document time stamp
    (PAdES B-LTA) expires: the archive time stamp must be renewed before that. None when the PDF
    carries no document time stamp (a seal without one, or no seal); :class:`SealError` when
    the PDF or its time stamp cannot be read."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        stamps = _archive_timestamps(reader)
        if not stamps:
            return None
        certificate = stamps[-1].signer_cert
        expires: datetime = certificate["tbs_certificate"]["validity"]["not_after"].native
    except Exception as exc:  # pyHanko raises many kinds of exception for damaged files
        raise SealError(f"The document time stamp cannot be read: {exc}") from exc
    return expires


def archive_timestamp_algorithms(
    pdf: bytes, *, sunsets: AlgorithmSunsets | None = None
) -> TokenAlgorithms | None:
    """What the newest document time stamp in ``pdf`` rests on, read from its token: the hash
    of its message imprint, the hash, scheme and key of its TSA's signature. None without a
    document time stamp, :class:`SealError` when it cannot be read."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        stamps = _archive_timestamps(reader)
        if not stamps:
            return None
        return timestamp_algorithms(stamps[-1].signed_data, sunsets=sunsets)
    except Exception as exc:  # pyHanko and asn1crypto raise many kinds for damaged files
        raise SealError(f"The document time stamp cannot be read: {exc}") from exc


_END_OF_REVISION = b"%%EOF"
#: the line ends a writer may put after ``%%EOF``, longest first
_LINE_ENDS = (b"\r\n", b"\r", b"\n")
#: how many of the newest earlier revisions are hashed: as many as an issued document has seals
#: and archive time stamps, and two to spare; an upload cannot make the check cost more
_MAX_EARLIER_REVISIONS = MAX_SEALS + MAX_ARCHIVE_TIMESTAMPS + 2


def earlier_revisions(pdf: bytes) -> list[str]:
    """The SHA-256 (hex) of each earlier revision of ``pdf``, newest first: the bytes up to an
    ``%%EOF`` marker that another revision follows (cut with or without the marker's line end,
    as writers differ), for the newest :data:`_MAX_EARLIER_REVISIONS` such markers. A renewed
    archive time stamp appends a revision, so the issued file is one of these; whether the
    revisions after it only added validation data is for :func:`validate_seal` to say. Bytes
    after the last marker are no revision.

    The markers are sought from the end and the file is hashed once, front to back, with a
    copy of the hash taken at each cut: an upload of millions of markers costs one pass."""
    starts: list[int] = []
    end = len(pdf)
    while len(starts) <= _MAX_EARLIER_REVISIONS:  # the newest marker and as many before it
        end = pdf.rfind(_END_OF_REVISION, 0, end)
        if end < 0:
            break
        starts.append(end)
    cuts: list[tuple[int, int]] = []  # (with the line end, without), newest first
    for start in starts[1:]:  # the last marker ends the newest revision
        marker_end = start + len(_END_OF_REVISION)
        line_end = next((e for e in _LINE_ENDS if pdf.startswith(e, marker_end)), b"")
        cuts.append((marker_end + len(line_end), marker_end))
    digests: dict[int, str] = {}
    sha256, hashed, view = hashlib.sha256(), 0, memoryview(pdf)
    for cut in sorted({cut for pair in cuts for cut in pair}):
        sha256.update(view[hashed:cut])
        hashed = cut
        digests[cut] = sha256.copy().hexdigest()
    return list(dict.fromkeys(digests[cut] for pair in cuts for cut in pair))


class _ArchiveTimestampRenewal(signers.PdfTimeStamper):
    """pyHanko's renewal (``update_archival_timestamp_chain``), except that the new stamp hashes
    with ``digest_algorithm`` and its TSA is checked with ``context``. pyHanko would take the
    hash of the stamp it renews (the weak one, when a hash algorithm weakens) and check the new
    TSA with the context that read the old stamp."""

    def __init__(
        self, timestamper: TimeStamper, *, digest_algorithm: str | None, context: ValidationContext
    ) -> None:
        super().__init__(timestamper)
        self._digest_algorithm = digest_algorithm
        self._context = context

    async def async_timestamp_pdf(
        self,
        pdf_out: Any,
        md_algorithm: str,
        validation_context: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        return await super().async_timestamp_pdf(
            pdf_out, self._digest_algorithm or md_algorithm, self._context, *args, **kwargs
        )


def renew_archive_timestamp(pdf: bytes, *, digest_algorithm: str | None = None) -> bytes:
    """``pdf`` with its archive time stamp renewed (PAdES B-LTA, ETSI EN 319 142-1 § 5.5): the
    validation data of the newest document time stamp (its TSA's certificates and revocation
    data) go into the Document Security Store, and a new document time stamp from the configured
    TSA covers everything, as an incremental update. The bytes before it stay as they are, so
    the issued file remains the first revision. :class:`TimestampUnavailable` when the TSA gives
    no stamp, :class:`SealError` for anything else (no TSA configured, no document time stamp
    to renew, a certificate that cannot be validated).

    ``digest_algorithm`` (e.g. ``"sha512"``) is the hash of the new stamp, the one its message
    imprint names (RFC 3161 § 2.4.1); without it, that of the stamp renewed. The stamp renewed
    is read whatever hash, signature algorithm or key length it uses: renewing it while they
    still hold is the point (RFC 4998 § 5.2); the new stamp's TSA is checked as when sealing,
    and the new stamp must verify before it is filed (:func:`_check_timestamp_token`,
    :class:`TimestampRejected`)."""
    stamper = configured_timestamper()
    if stamper is None:
        raise SealError("No time-stamping authority is configured (DOCUMENTS_TSA_URL).")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        has_stamp = bool(_archive_timestamps(reader))
    except Exception as exc:
        raise SealError(f"The document cannot be read: {exc}") from exc
    if not has_stamp:
        raise SealError("The document carries no archive time stamp to renew (not B-LTA).")
    output = io.BytesIO()
    try:
        renewal = _ArchiveTimestampRenewal(
            _CheckedTimeStamper(stamper, refused="the archive time stamp was not renewed"),
            digest_algorithm=digest_algorithm,
            context=_revocation_context(),
        )
        _outside_event_loop(
            renewal.update_archival_timestamp_chain,
            reader,
            # the stamp renewed is read whatever its algorithms: renewing it is the point
            _revocation_context(algorithm_policy=AcceptAllAlgorithms()),
            in_place=False,
            output=output,
        )
    except TimestampRequestError as exc:
        raise TimestampUnavailable(
            f"The time-stamping authority gave no time stamp ({exc}); the archive time stamp "
            "was not renewed."
        ) from exc
    except TimestampRejected:
        raise
    except (SigningError, PathValidationError, PdfError, ValueError) as exc:
        if isinstance(exc.__cause__, TimestampRejected):
            raise exc.__cause__ from exc
        raise SealError(f"The archive time stamp could not be renewed: {exc}") from exc
    renewed = output.getvalue()
    if not renewed.startswith(pdf):  # pragma: no cover - pyHanko writes incremental updates
        raise SealError("The renewal rewrote the document instead of appending to it.")
    return renewed


def _not_valid(
    problem: str, exc: Exception | None = None, *, sealed: bool = False, **seal: str
) -> SealStatus:
    """A seal that could not be checked; pyHanko's own words go to the log, not to the reader."""
    logger.info(
        "seal not checked", extra={"problem": problem, "error": repr(exc)[:500] if exc else ""}
    )
    return dataclasses.replace(
        SealStatus.unsealed(problem),
        sealed=sealed,
        reason=seal.get("reason", ""),
        location=seal.get("location", ""),
    )


def validate_seal(
    pdf: bytes,
    *,
    trust_roots: list[asn1_x509.Certificate],
    timestamp_roots: list[asn1_x509.Certificate] | None = None,
) -> SealStatus:
    """Check every signature in ``pdf`` against ``trust_roots`` (no network access).

    Revocation is checked where the PDF carries revocation data; the seal certificates of the
    demo CA carry no revocation pointers, so a missing OCSP/CRL answer does not fail the seal.
    A damaged or hostile file gives a status that is not valid and says why; it never raises.

    Algorithms are judged as a chain of evidence (:mod:`rathaus.documents.algorithms`): each
    signature and time stamp at the time of the first time stamp that covers it (a seal at
    its own time stamp's), the newest today, against the sunsets of
    ``DOCUMENTS_ALGORITHM_SUNSETS``. A SHA-1 stamp renewed by a strong one before SHA-1's
    sunset holds (:attr:`SealStatus.renewed`); renewed after it, or not at all, it does not.
    Its certificate path is validated at that same time, so a stamp renewed while its TSA
    certificate was valid still holds once that certificate has expired. Only a document time
    stamp over its whole revision covers anything, and a time stamp must give its time in UTC.
    """
    # pyHanko raises many kinds of exception for damaged files, hence the broad excepts.
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    except Exception as exc:
        return _not_valid("The file is not a readable PDF.", exc)
    try:
        signatures = reader.embedded_signatures
    except Exception as exc:  # a broken form tree, signature dictionary or signature container
        return _not_valid("The seal is damaged and cannot be read.", exc)
    if not signatures:
        return SealStatus.unsealed("The PDF carries no seal.")
    if timestamp_roots is None:
        timestamp_roots = _tsa_roots_or_none()
    regular = [sig for sig in signatures if sig.sig_object_type != "/DocTimeStamp"]
    stamps = [sig for sig in signatures if sig.sig_object_type == "/DocTimeStamp"]
    if len(regular) > MAX_SEALS:
        return _not_valid(
            f"The PDF carries {len(regular)} signatures; "
            f"an issued document carries at most {MAX_SEALS}.",
            sealed=True,
        )
    if len(stamps) > MAX_ARCHIVE_TIMESTAMPS:
        return _not_valid(
            f"The PDF carries {len(stamps)} document time stamps; "
            f"an issued document carries at most {MAX_ARCHIVE_TIMESTAMPS}.",
            sealed=True,
        )
    if not regular:
        return _not_valid("The PDF carries a time stamp but no seal.", sealed=False)
    reason = location = ""
    sunsets = configured_sunsets()
    policy = SunsetPolicy(sunsets)
    try:
        sig_dict = regular[0].sig_object
        reason = str(sig_dict.get("/Reason", ""))
        location = str(sig_dict.get("/Location", ""))
        if _naive_time(signatures):
            return _not_valid(NAIVE_TIME_PROBLEM, sealed=True, reason=reason, location=location)
        try:
            dss: DocumentSecurityStore | None = DocumentSecurityStore.read_dss(reader)
        except NoDSSFoundError:
            dss = None
        covering = _covering_times(signatures)
        contexts: dict[tuple[bool, datetime | None], ValidationContext] = {}

        def context(*, timestamp: bool, at: datetime | None) -> ValidationContext:
            """Certificates and algorithms judged at ``at`` (None: now). A time stamp is
            checked against the TSA's own roots, never the seal's: a seal CA must not vouch
            for the time."""
            if (timestamp, at) not in contexts:
                roots = timestamp_roots if timestamp else trust_roots
                contexts[timestamp, at] = _context(dss, roots or [], policy=policy, at=at)
            return contexts[timestamp, at]

        statuses, stamp_statuses = [], []
        for sig, covered_at in zip(signatures, covering, strict=True):
            if sig.sig_object_type == "/DocTimeStamp":
                stamp_statuses.append(
                    _outside_event_loop(
                        validate_pdf_timestamp,
                        sig,
                        validation_context=context(timestamp=True, at=covered_at),
                    )
                )
                continue
            token = _signature_timestamp(sig)
            statuses.append(
                _outside_event_loop(
                    validate_pdf_signature,
                    sig,
                    # the seal at its own time stamp's time, that stamp at the next one's
                    context(
                        timestamp=False,
                        at=timestamp_time(token) if token is not None else covered_at,
                    ),
                    context(timestamp=True, at=covered_at),
                    diff_policy=_LONG_TERM_UPDATES_ONLY,
                )
            )
        evidence = _evidence(signatures, covering, sunsets)
        signer = _subject_label(statuses[0].signing_cert)
        # a time stamp cannot have covered what did not exist yet (the seal's own time is
        # the signer's word, not compared)
        in_order = all(
            link.covered_at is None or link.time is None or link.time <= link.covered_at
            for link in evidence
            if link.kind != SEAL
        )
        broken = next((link for link in evidence if not link.holds), None)
    except UnsupportedAlgorithm as exc:  # pyHanko lets cryptography's refusal of a key escape
        return _not_valid(
            UNSUPPORTED_KEY_PROBLEMS.get(_unsupported_key(signatures), UNCHECKABLE_PROBLEM),
            exc,
            sealed=True,
            reason=reason,
            location=location,
        )
    except Exception as exc:  # a damaged signature container or byte range
        return _not_valid(
            UNCHECKABLE_PROBLEM,
            exc,
            sealed=True,
            reason=reason,
            location=location,
        )
    status = statuses[0]
    intact = all(s.intact for s in statuses)
    # Rathaus seals a finished document once; a later revision may only add long-term
    # validation data and document time stamps (PAdES B-LT/LTA): the difference analysis of
    # everything after each seal (_LONG_TERM_UPDATES_ONLY) must find nothing else. A changed
    # title, which pyHanko's default policy accepts, means it is not the issued file.
    unchanged = statuses[-1].coverage == SignatureCoverageLevel.ENTIRE_FILE or all(
        s.modification_level == ModificationLevel.LTA_UPDATES for s in statuses
    )
    # a document time stamp proves the existence of what it hashes, its whole revision (and
    # so everything before it) or nothing: a /ByteRange over part of the file covers nothing
    stamps_cover = all(s.coverage in _COVERS_REVISION for s in stamp_statuses)
    stamps_hold = stamps_cover and all(s.intact and s.valid and s.trusted for s in stamp_statuses)
    valid = (
        unchanged
        and stamps_hold
        and in_order
        and broken is None
        and all(s.bottom_line for s in statuses)
    )
    timestamp, timestamp_problem = _timestamp(status)
    problem = ""
    if not all(s.coverage in _COVERS_REVISION for s in statuses):
        problem = "The seal does not cover the whole document."  # a forged /ByteRange
    elif not stamps_cover:
        problem = "A document time stamp does not cover the whole document."
    elif not intact:
        problem = "The document was changed after it was sealed."
    elif not all(s.valid for s in statuses):
        problem = "The seal's signature is not valid."
    elif broken is not None:
        problem = _weak_link_problem(broken)
    elif not in_order:
        problem = "The time stamps are not in chronological order."
    elif not all(s.trusted for s in statuses):
        problem = "The seal's certificate is not trusted."
    elif timestamp_problem:
        problem = timestamp_problem
    elif not stamps_hold:
        problem = "The document time stamp is damaged or its time-stamping authority not trusted."
    elif not unchanged or not valid:
        problem = "The document was modified after it was sealed."
    return SealStatus(
        sealed=True,
        intact=intact,
        valid=valid,
        trusted=all(s.trusted for s in statuses),
        signer=signer,
        signing_time=status.signer_reported_dt,
        reason=reason,
        location=location,
        problem=problem,
        timestamp=timestamp,
        timestamp_problem=timestamp_problem,
        long_term=dss is not None,
        archive_timestamp=stamp_statuses[-1].timestamp if stamp_statuses and stamps_hold else None,
        evidence=evidence,
    )


def _context(
    dss: DocumentSecurityStore | None,
    trust_roots: list[asn1_x509.Certificate],
    *,
    policy: AlgorithmUsagePolicy | None = None,
    at: datetime | None = None,
) -> ValidationContext:
    """Offline: the given roots, and the certificates and revocation data the PDF carries;
    the certificate path validated, and the algorithms judged by ``policy``, at ``at``
    (default: now). ``at`` is the time of the time stamp that covers what is checked: a
    later stamp proves that it existed then, so a certificate that has expired since still
    counts (past signature validation, ETSI EN 319 102-1 § 5.6.2.4; PAdES B-LTA)."""
    kwargs: dict[str, Any] = {
        "trust_roots": trust_roots,
        "allow_fetching": False,
        "revocation_mode": "soft-fail",
    }
    if policy is not None:
        kwargs["algorithm_usage_policy"] = policy
    if at is not None:
        kwargs["moment"] = at
    return dss.as_validation_context(kwargs) if dss is not None else ValidationContext(**kwargs)


def _signature_timestamp(sig: Any) -> Any | None:
    """The time-stamp token of a seal (PAdES B-T: its signer's unsigned attribute), or None."""
    try:
        token = find_unique_cms_attribute(
            sig.signer_info["unsigned_attrs"], "signature_time_stamp_token"
        )
    except NonexistentAttributeError:
        return None
    return token["content"]


def _covering_times(signatures: list[Any]) -> list[datetime | None]:
    """For each signature (in the order of the file's revisions): the time of the first
    document time stamp after it that hashes its whole revision, and so covers it; None for
    the newest. A stamp whose /ByteRange leaves out part of its revision covers nothing."""
    times: list[datetime | None] = []
    following: datetime | None = None
    for sig in reversed(signatures):
        times.append(following)
        if (
            sig.sig_object_type == "/DocTimeStamp"
            and sig.evaluate_signature_coverage() in _COVERS_REVISION
        ):
            following = timestamp_time(sig.signed_data)
    return times[::-1]


UNCHECKABLE_PROBLEM = "The seal cannot be checked: its signature or byte range is damaged."

#: Why a seal cannot be checked when pyca/cryptography cannot load a key of its chain (a curve
#: it does not know, such as brainpoolP320r1): by the link whose key it is. Translated
#: (:attr:`SealStatus.translated_problem`).
UNSUPPORTED_KEY_PROBLEMS = {
    SEAL: gettext_noop("The seal cannot be checked: its key type or curve is not supported."),
    SIGNATURE_TIMESTAMP: gettext_noop(
        "The seal's time stamp cannot be checked: the key type or curve of its "
        "time-stamping authority is not supported."
    ),
    ARCHIVE_TIMESTAMP: gettext_noop(
        "A document time stamp cannot be checked: the key type or curve of its "
        "time-stamping authority is not supported."
    ),
}


def _unsupported_key(signatures: list[Any]) -> str:
    """The kind of the first link of ``signatures`` whose key pyca/cryptography cannot load
    (:data:`SEAL`, :data:`SIGNATURE_TIMESTAMP`, :data:`ARCHIVE_TIMESTAMP`); "" if none. A
    certificate that cannot be found or read is not this problem."""
    for sig in signatures:
        try:
            kind = _unsupported_key_of(sig)
        except Exception:  # pyHanko and asn1crypto raise many kinds for damaged signatures
            kind = ""
        if kind:
            return kind
    return ""


def _unsupported_key_of(sig: Any) -> str:
    if sig.sig_object_type == "/DocTimeStamp":
        return "" if _key_supported(sig.signer_cert) else ARCHIVE_TIMESTAMP
    if not _key_supported(sig.signer_cert):
        return SEAL
    token = _signature_timestamp(sig)
    if token is not None and not _key_supported(extract_certs_for_validation(token).signer_cert):
        return SIGNATURE_TIMESTAMP
    return ""


NAIVE_TIME_PROBLEM = (
    "A time stamp gives its time without a time zone (RFC 3161 requires UTC); "
    "it proves no point in time."
)


def _naive_time(signatures: list[Any]) -> bool:
    """Whether a time stamp among ``signatures`` (a document time stamp, a seal's time stamp)
    gives its time without a time zone: a GeneralizedTime without "Z", which RFC 3161
    § 2.4.2 does not allow. Such a time cannot be compared with any other."""
    for sig in signatures:
        if sig.sig_object_type == "/DocTimeStamp":
            token = sig.signed_data
        elif (token := _signature_timestamp(sig)) is None:
            continue
        if timestamp_time(token).utcoffset() is None:
            return True
    return False


def _evidence(
    signatures: list[Any], covering: list[datetime | None], sunsets: AlgorithmSunsets
) -> tuple[Evidence, ...]:
    """The chain of evidence of ``signatures``: each link judged at the time of the time stamp
    that covers it first (a seal at its own time stamp's), the newest today."""
    now = timezone.now()
    links: list[Evidence] = []

    def link(
        kind: str, at: datetime | None, algorithms: TokenAlgorithms, covered_at: datetime | None
    ) -> Evidence:
        weak_today = sunsets.weak_at(algorithms, now)
        return Evidence(
            kind=kind,
            time=at,
            algorithms=algorithms.labels(),
            weak_today=tuple(label for label, _ in weak_today),
            weak_since=min((day for _, day in weak_today), default=None),
            covered_at=covered_at,
            failing=tuple(label for label, _ in sunsets.weak_at(algorithms, covered_at or now)),
        )

    for sig, covered_at in zip(signatures, covering, strict=True):
        if sig.sig_object_type == "/DocTimeStamp":
            token = sig.signed_data
            algorithms = timestamp_algorithms(token, signer_cert=sig.signer_cert, sunsets=sunsets)
            links.append(link(ARCHIVE_TIMESTAMP, timestamp_time(token), algorithms, covered_at))
            continue
        token = _signature_timestamp(sig)
        seal = signature_algorithms(sig.signer_info, sig.signer_cert.public_key, sunsets=sunsets)
        seal_covered = timestamp_time(token) if token is not None else covered_at
        links.append(link(SEAL, sig.self_reported_timestamp, seal, seal_covered))
        if token is not None:
            algorithms = timestamp_algorithms(token, sunsets=sunsets)
            links.append(link(SIGNATURE_TIMESTAMP, timestamp_time(token), algorithms, covered_at))
    return tuple(links)


_LINK_NAMES = {
    SEAL: "The seal",
    SIGNATURE_TIMESTAMP: "The seal's time stamp",
    ARCHIVE_TIMESTAMP: "The document time stamp",
}


def _weak_link_problem(link: Evidence) -> str:
    """Why a broken link of the chain does not hold, e.g. a SHA-1 stamp renewed too late."""
    name = _LINK_NAMES[link.kind]
    if link.kind != SEAL and link.time is not None:
        name += f" of {link.time.date().isoformat()}"
    since = f", no longer secure since {link.weak_since.isoformat()}" if link.weak_since else ""
    weak = ", ".join(link.failing)
    if link.covered_at is None:
        return f"{name} rests on {weak}{since}, and no later time stamp covers it."
    return (
        f"{name} rests on {weak}{since}; the time stamp that covers it was made on "
        f"{link.covered_at.date().isoformat()}, after that."
    )


def seal_of_issued(pdf: bytes) -> SealStatus | None:
    """The seal of a document this installation issued, checked against its own seal roots;
    None where it has none configured (``check --deploy`` reports that, documents.E001).

    Callers pass only files the GovChain log knows, so no stranger's PDF reaches the parser."""
    try:
        roots = seal_trust_roots()
    except ImproperlyConfigured:
        return None
    return validate_seal(pdf, trust_roots=roots)


def _timestamp(status: Any) -> tuple[datetime | None, str]:
    """The seal's time stamp (PAdES B-T): its time when it holds, else why not ("" if none)."""
    stamp = getattr(status, "timestamp_validity", None)
    if stamp is None:
        return None, ""
    if not (stamp.intact and stamp.valid):
        return None, "The seal's time stamp is damaged or does not match the seal."
    if not stamp.trusted:
        return None, "The seal's time stamp comes from a time-stamping authority not trusted."
    return stamp.timestamp, ""


# -- configuration -------------------------------------------------------------------------


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def create_demo_seal(
    directory: Path,
    *,
    organization: str,
    key_size: int = 3072,
    valid_from: datetime | None = None,
) -> None:
    """Write a self-made CA (``ca.pem``) and a seal certificate with key (``seal.p12``), valid
    from ``valid_from`` (default: yesterday; tests date seals back years).

    RSA keys: with an EC key pyHanko marks the file as PDF 2.0 (ISO/TS 32002), which a PDF/A-3
    file must not claim. The files are written to a temporary folder and renamed into place,
    so concurrent first starts never see half-written material.
    """
    now = datetime.now(UTC)
    since = valid_from or now - timedelta(days=1)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    ca_name = _name(f"{organization} Demo-Siegel-CA", organization)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(since)
        .not_valid_after(now + timedelta(days=20 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    seal_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"Elektronisches Siegel {organization}", organization))
        .issuer_name(ca_name)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(since)
        .not_valid_after(now + timedelta(days=10 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(seal_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".seal-", dir=directory.parent))
    try:
        (staging / DEMO_CA_FILE).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        p12 = staging / DEMO_SEAL_FILE
        p12.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"seal", seal_key, seal_cert, [ca_cert], serialization.NoEncryption()
            )
        )
        p12.chmod(0o600)
        staging.rename(directory)
    except OSError:
        if not (directory / DEMO_SEAL_FILE).exists():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _demo_dir() -> Path:
    directory = Path(settings.VAR_DIR) / DEMO_DIR_NAME
    if not (directory / DEMO_SEAL_FILE).exists():
        create_demo_seal(directory, organization=settings.RATHAUS_MUNICIPALITY_NAME)
    return directory


def _production() -> bool:
    return bool(getattr(settings, "PRODUCTION", False))


@cache
def seal_signer() -> SealSigner:
    """The configured seal: the PKCS#12 file, or in demo/test the generated demo seal."""
    path = settings.DOCUMENTS_SEAL_PKCS12
    if path:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"DOCUMENTS_SEAL_PKCS12={path} cannot be read: {exc.strerror}."
            ) from exc
        passphrase = settings.DOCUMENTS_SEAL_PASSPHRASE.encode() or None
        try:
            return SealSigner.from_pkcs12(data, passphrase)
        except SealError as exc:
            raise ImproperlyConfigured(f"DOCUMENTS_SEAL_PKCS12={path}: {exc}") from exc
    if _production():
        raise ImproperlyConfigured(
            "Sealing documents needs DOCUMENTS_SEAL_PKCS12 and DOCUMENTS_SEAL_PASSPHRASE in "
            "production (see docs/operations.md)."
        )
    return SealSigner.from_pkcs12((_demo_dir() / DEMO_SEAL_FILE).read_bytes(), None)


@cache
def seal_trust_roots() -> list[asn1_x509.Certificate]:
    """The CA certificates a seal must chain up to (``DOCUMENTS_SEAL_TRUST_ROOTS``, PEM)."""
    path = settings.DOCUMENTS_SEAL_TRUST_ROOTS
    if not path:
        if _production() or settings.DOCUMENTS_SEAL_PKCS12:
            raise ImproperlyConfigured(
                "DOCUMENTS_SEAL_TRUST_ROOTS must name a PEM file with the CA certificates of "
                "the seal (see docs/operations.md)."
            )
        path = str(_demo_dir() / DEMO_CA_FILE)
    try:
        certs = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"DOCUMENTS_SEAL_TRUST_ROOTS={path} is not a readable PEM file: {exc}"
        ) from exc
    return [_asn1_cert(cert) for cert in certs]


@cache
def tsa_trust_roots() -> list[asn1_x509.Certificate]:
    """The CA certificates a seal's time stamp must chain up to (``DOCUMENTS_TSA_TRUST_ROOTS``,
    PEM); none configured: no time stamp is trusted."""
    path = getattr(settings, "DOCUMENTS_TSA_TRUST_ROOTS", "")
    if not path:
        return []
    try:
        certs = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"DOCUMENTS_TSA_TRUST_ROOTS={path} is not a readable PEM file: {exc}"
        ) from exc
    return [_asn1_cert(cert) for cert in certs]


@receiver(setting_changed)
def _reset_seal_caches(*, setting: str, **kwargs: object) -> None:
    if setting.startswith(("DOCUMENTS_SEAL", "DOCUMENTS_TSA")) or setting in {
        "VAR_DIR",
        "PRODUCTION",
    }:
        seal_signer.cache_clear()
        seal_trust_roots.cache_clear()
        tsa_trust_roots.cache_clear()
        configured_timestamper.cache_clear()
