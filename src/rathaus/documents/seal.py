"""Electronic seals of the authority on issued PDFs (PAdES, pyHanko) and their validation.

§ 9a Abs. 6 OZG: a notice delivered through the portal carries the authority's electronic seal.
The seal is a PAdES baseline certification signature in an invisible field, added as an
incremental update so that the PDF/A-3u revision underneath stays byte for byte as rendered.
With a time-stamping authority configured (``DOCUMENTS_TSA_URL``, RFC 3161) the signature
carries its time stamp (PAdES B-T): proof of when it was made that does not rest on the
authority's own clock and outlives the seal certificate. Without one it is B-B.

Where the key comes from is configuration: production takes a PKCS#12 file
(``DOCUMENTS_SEAL_PKCS12`` + ``DOCUMENTS_SEAL_PASSPHRASE``) and the CA certificates that anchor
it (``DOCUMENTS_SEAL_TRUST_ROOTS``); demo and test installations generate a CA and a seal
certificate once, under ``VAR_DIR/documents/seal/``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import httpx
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

SEAL_FIELD = "Siegel"
SEAL_REASON = "Elektronisches Siegel der Behörde"
DEMO_DIR_NAME = Path("documents") / "seal"
DEMO_SEAL_FILE = "seal.p12"
DEMO_CA_FILE = "ca.pem"
# Rathaus seals an issued document once; more signatures leave room for a document timestamp
# or a countersignature. Each is checked in full, so a file naming thousands (fields may share
# one signature) would otherwise cost minutes of CPU.
MAX_SIGNATURES = 4

_COVERS_REVISION = (SignatureCoverageLevel.ENTIRE_REVISION, SignatureCoverageLevel.ENTIRE_FILE)

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


@dataclass(frozen=True)
class SealStatus:
    """The result of checking a PDF's seal.

    ``valid`` is the bottom line: a seal is present, nothing was appended after the last seal,
    the signature is intact and mathematically correct,
    and the certificate chains up to one of the trust roots.
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


def seal_pdf(
    pdf: bytes,
    *,
    signer: signers.Signer,
    location: str,
    timestamper: TimeStamper | bool | None = True,
) -> bytes:
    """Seal ``pdf`` for the authority; ``location`` is the municipality's name.

    A certification signature (DocMDP: no changes allowed) in an invisible field, appended as an
    incremental update. The producer entry is aligned between the document information
    dictionary and the XMP metadata (pyHanko would otherwise make them differ, which PDF/A
    forbids). ``timestamper`` True (the default) takes the configured time-stamping authority;
    when it cannot give a stamp the seal is made without one (B-B, logged), unless
    ``DOCUMENTS_TSA_REQUIRED`` is set: then :class:`SealError` says why.
    """
    stamper = configured_timestamper() if timestamper is True else timestamper or None
    if stamper is None:
        return _sign(pdf, signer=signer, location=location, timestamper=None)
    try:
        return _sign(pdf, signer=signer, location=location, timestamper=stamper)
    except TimestampRequestError as exc:
        if getattr(settings, "DOCUMENTS_TSA_REQUIRED", False):
            raise TimestampUnavailable(
                f"The time-stamping authority gave no time stamp ({exc}); the document was not "
                "sealed. Please try again later."
            ) from exc
        logger.warning("seal made without a time stamp", extra={"error": str(exc)[:500]})
        return _sign(pdf, signer=signer, location=location, timestamper=None)


def _sign(
    pdf: bytes, *, signer: signers.Signer, location: str, timestamper: TimeStamper | None
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
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        reason=SEAL_REASON,
        location=location,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    output = _outside_event_loop(
        signers.sign_pdf, writer, meta, signer=signer, timestamper=timestamper
    )
    return bytes(output.getvalue())


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
    if len(signatures) > MAX_SIGNATURES:
        return _not_valid(
            f"The PDF carries {len(signatures)} signatures; "
            f"an issued document carries at most {MAX_SIGNATURES}.",
            sealed=True,
        )
    if timestamp_roots is None:
        try:
            timestamp_roots = tsa_trust_roots()
        except ImproperlyConfigured as exc:  # also reported by check --deploy (documents.E003)
            # A broken TSA setting must not break the seal itself: no time stamp is trusted.
            logger.error("seal: %s", exc)
            timestamp_roots = []
    reason = location = ""
    try:
        sig_dict = signatures[0].sig_object
        reason = str(sig_dict.get("/Reason", ""))
        location = str(sig_dict.get("/Location", ""))
        context = ValidationContext(
            trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail"
        )
        # A time stamp is checked against the TSA's own roots, never the seal's: a seal CA must
        # not be able to vouch for the time.
        ts_context = ValidationContext(
            trust_roots=timestamp_roots,
            allow_fetching=False,
            revocation_mode="soft-fail",
        )
        statuses = [
            _outside_event_loop(validate_pdf_signature, sig, context, ts_context)
            for sig in signatures
        ]
        signer = _subject_label(statuses[0].signing_cert)
    except Exception as exc:  # a damaged signature container or byte range
        return _not_valid(
            "The seal cannot be checked: its signature or byte range is damaged.",
            exc,
            sealed=True,
            reason=reason,
            location=location,
        )
    status = statuses[0]
    intact = all(s.intact for s in statuses)
    # Rathaus seals a finished document once; any later revision (even one that pyHanko's
    # diff policy would accept, such as a changed title) means it is not the issued file.
    unchanged = statuses[-1].coverage == SignatureCoverageLevel.ENTIRE_FILE
    valid = unchanged and all(s.bottom_line for s in statuses)  # a bad time stamp fails too
    timestamp, timestamp_problem = _timestamp(status)
    problem = ""
    if not all(s.coverage in _COVERS_REVISION for s in statuses):
        problem = "The seal does not cover the whole document."  # a forged /ByteRange
    elif not intact:
        problem = "The document was changed after it was sealed."
    elif not all(s.valid for s in statuses):
        problem = "The seal's signature is not valid."
    elif not all(s.trusted for s in statuses):
        problem = "The seal's certificate is not trusted."
    elif timestamp_problem:
        problem = timestamp_problem
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
    )


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


def create_demo_seal(directory: Path, *, organization: str, key_size: int = 3072) -> None:
    """Write a self-made CA (``ca.pem``) and a seal certificate with key (``seal.p12``).

    RSA keys: with an EC key pyHanko marks the file as PDF 2.0 (ISO/TS 32002), which a PDF/A-3
    file must not claim. The files are written to a temporary folder and renamed into place,
    so concurrent first starts never see half-written material.
    """
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    ca_name = _name(f"{organization} Demo-Siegel-CA", organization)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
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
        .not_valid_before(now - timedelta(days=1))
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
