"""PAdES B-LT/B-LTA: the seal carries its certificates, the revocation data fetched from the
certificate's own CRL address (a CA and CRL server on 127.0.0.1 here) and, with a TSA, a document
time stamp over all of it; nothing but such data may follow the seal."""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore

from rathaus.documents.seal import (
    SealError,
    TimestampUnavailable,
    archive_timestamp_expiry,
    renew_archive_timestamp,
    seal_pdf,
    seal_signer,
    seal_trust_roots,
    validate_seal,
)
from tests.documents.pdf_forgery import append_revision, redate_in_new_xmp, retitle_in_new_xmp
from tests.documents.pdf_inspection import assert_sealed_pdf_a
from tests.fixtures.tsa import LocalTSA, local_tsa  # noqa: F401


@dataclass
class SealCA:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    seal_serial: int
    #: the CRL the server hands out; None: it answers 404 (the service is down)
    crl: bytes | None = None

    def publish(self, *, revoked: tuple[int, ...] = ()) -> None:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - timedelta(hours=1))
            .next_update(now + timedelta(days=7))
        )
        for serial in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(now - timedelta(minutes=5))
                .build()
            )
        self.crl = builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Stadt Wuppertal"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@pytest.fixture(scope="module")
def seal_ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SealCA, Path]]:
    """A seal CA whose seal certificate names a CRL address served on 127.0.0.1."""
    state: dict[str, SealCA] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            crl = state["ca"].crl
            if self.path != "/siegel.crl" or crl is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(crl)))
            self.end_headers()
            self.wfile.write(crl)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    crl_url = f"http://127.0.0.1:{server.server_address[1]}/siegel.crl"
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Test-Siegel-CA"))
        .issuer_name(_name("Test-Siegel-CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seal = (
        x509.CertificateBuilder()
        .subject_name(_name("Elektronisches Siegel Stadt Wuppertal"))
        .issuer_name(ca.subject)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(crl_url)], None, None, None
                    )
                ]
            ),
            False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("seal-ca")
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "seal.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", seal_key, seal, [ca], serialization.NoEncryption()
        )
    )
    state["ca"] = SealCA(key=ca_key, cert=ca, seal_serial=seal.serial_number)
    try:
        yield state["ca"], folder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def ca(seal_ca: tuple[SealCA, Path], settings: Any) -> SealCA:
    authority, folder = seal_ca
    settings.DOCUMENTS_SEAL_PKCS12 = str(folder / "seal.p12")
    settings.DOCUMENTS_SEAL_PASSPHRASE = ""
    settings.DOCUMENTS_SEAL_TRUST_ROOTS = str(folder / "ca.pem")
    settings.DOCUMENTS_SEAL_LTV = True
    settings.DOCUMENTS_TSA_URL = ""
    settings.DOCUMENTS_TSA_TIMEOUT = 5
    authority.publish()
    return authority


@pytest.fixture
def tsa(local_tsa: LocalTSA, settings: Any) -> LocalTSA:  # noqa: F811
    settings.DOCUMENTS_TSA_URL = local_tsa.url
    settings.DOCUMENTS_TSA_REQUIRED = False
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(local_tsa.ca_pem)
    local_tsa.answer = "ok"
    return local_tsa


def _dss(pdf: bytes) -> DocumentSecurityStore | None:
    try:
        return DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf), strict=False))
    except Exception:
        return None


def _append(pdf: bytes, change: Any) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_seal_carries_its_validation_data_and_an_archive_time_stamp(
    ca: SealCA, tsa: LocalTSA, receipt_pdf: bytes
) -> None:
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")

    dss = _dss(sealed)
    assert dss is not None and len(dss.crls) == 1 and len(dss.certs) >= 3
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    assert [s.sig_object_type for s in reader.embedded_signatures] == ["/Sig", "/DocTimeStamp"]
    status = validate_seal(sealed, trust_roots=seal_trust_roots())
    assert status.valid, status.problem
    assert status.long_term and status.timestamp is not None
    assert status.archive_timestamp is not None and status.level == "B-LTA"


def test_without_a_tsa_the_seal_still_carries_its_validation_data(
    ca: SealCA, receipt_pdf: bytes
) -> None:
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")

    dss = _dss(sealed)
    assert dss is not None and len(dss.crls) == 1
    status = validate_seal(sealed, trust_roots=seal_trust_roots())
    assert status.valid, status.problem
    assert status.long_term and status.archive_timestamp is None and status.level == "B-B"


def test_switched_off_no_validation_data_are_embedded(
    ca: SealCA, receipt_pdf: bytes, settings: Any
) -> None:
    settings.DOCUMENTS_SEAL_LTV = False
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    assert _dss(sealed) is None
    assert validate_seal(sealed, trust_roots=seal_trust_roots()).valid


def test_a_revoked_seal_certificate_seals_nothing(ca: SealCA, receipt_pdf: bytes) -> None:
    ca.publish(revoked=(ca.seal_serial,))
    with pytest.raises(SealError, match="revoked"):
        seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")


def test_an_unreachable_revocation_service_gives_a_seal_without_the_data(
    ca: SealCA, receipt_pdf: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    ca.crl = None  # the CA's CRL server answers 404
    with caplog.at_level(logging.WARNING, logger="rathaus.documents.seal"):
        sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    assert "without long-term validation data" in caplog.text
    assert _dss(sealed) is None
    status = validate_seal(sealed, trust_roots=seal_trust_roots())
    assert status.valid and not status.long_term


def _retitle(writer: IncrementalPdfFileWriter) -> None:
    info = writer.trailer.raw_get("/Info")
    info.get_object()[generic.NameObject("/Title")] = generic.TextStringObject("Genehmigt")
    writer.mark_update(info)


def _rewrite_xmp(writer: IncrementalPdfFileWriter) -> None:
    """What an attacker would write: another title in the XMP metadata, nothing else."""
    ref = writer.root.raw_get("/Metadata").reference
    old = writer.get_object(ref)
    xmp = re.sub(
        rb"(<dc:title[^>]*><rdf:Alt><rdf:li[^>]*>)[^<]*", rb"\1Genehmigt", old.data, count=1
    )
    assert b"Genehmigt" in xmp
    writer.objects[(ref.generation, ref.idnum)] = generic.StreamObject(
        {k: v for k, v in old.items() if k not in ("/Filter", "/DecodeParms", "/Length")},
        stream_data=xmp,
    )


@pytest.mark.parametrize(
    "change",
    [_retitle, _rewrite_xmp],
    ids=["title", "xmp"],
)
def test_only_validation_data_may_follow_the_seal(
    ca: SealCA, tsa: LocalTSA, receipt_pdf: bytes, change: Any
) -> None:
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    assert validate_seal(sealed, trust_roots=seal_trust_roots()).valid

    status = validate_seal(_append(sealed, change), trust_roots=seal_trust_roots())

    assert status.intact and not status.valid
    assert status.problem == "The document was modified after it was sealed."


def test_the_long_term_revisions_keep_the_pdf_a_claims(
    ca: SealCA, tsa: LocalTSA, receipt_pdf: bytes
) -> None:
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")

    widgets = assert_sealed_pdf_a(sealed, receipt_pdf)
    assert len(widgets) == 2  # the seal and the document time stamp


def test_the_deploy_check_warns_about_a_seal_certificate_without_revocation_pointers(
    ca: SealCA, settings: Any, demo_seal_dir: Path
) -> None:
    from rathaus.documents.checks import seal_can_be_validated_long_term

    settings.PRODUCTION = True
    assert seal_can_be_validated_long_term() == []  # its certificate names a CRL
    demo = demo_seal_dir / "documents" / "seal"
    settings.DOCUMENTS_SEAL_PKCS12 = str(demo / "seal.p12")  # the demo CA names none
    settings.DOCUMENTS_SEAL_TRUST_ROOTS = str(demo / "ca.pem")
    assert [w.id for w in seal_can_be_validated_long_term()] == ["documents.W004"]
    settings.DOCUMENTS_SEAL_LTV = False
    assert seal_can_be_validated_long_term() == []


# --- renewing the archive time stamp ----------------------------------------------------------


def test_the_archive_time_stamp_is_renewed_by_an_appended_revision(
    ca: SealCA, tsa: LocalTSA, receipt_pdf: bytes
) -> None:
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    expires = archive_timestamp_expiry(sealed)
    # the test TSA's certificate runs ten years from yesterday
    assert expires is not None
    assert timedelta(days=3640) < expires - datetime.now(UTC) < timedelta(days=3650)
    first = validate_seal(sealed, trust_roots=seal_trust_roots()).archive_timestamp
    asked = len(tsa.requests)

    renewed = renew_archive_timestamp(sealed)

    assert renewed.startswith(sealed)  # the issued file stays the first revisions, byte for byte
    assert len(tsa.requests) > asked
    reader = PdfFileReader(io.BytesIO(renewed), strict=False)
    assert [s.sig_object_type for s in reader.embedded_signatures] == [
        "/Sig",
        "/DocTimeStamp",
        "/DocTimeStamp",
    ]
    status = validate_seal(renewed, trust_roots=seal_trust_roots())
    assert status.valid, status.problem
    assert status.level == "B-LTA"
    assert first is not None and status.archive_timestamp is not None
    assert status.archive_timestamp >= first
    # the first stamp's TSA certificates went into the DSS before the new stamp covered them
    dss = _dss(renewed)
    before = _dss(sealed)
    assert dss is not None and before is not None and len(dss.certs) >= len(before.certs)
    assert archive_timestamp_expiry(renewed) == expires  # the same TSA, the same certificate
    again = renew_archive_timestamp(renewed)  # and again, years later
    assert validate_seal(again, trust_roots=seal_trust_roots()).valid
    widgets = assert_sealed_pdf_a(again, receipt_pdf)
    assert len(widgets) == 4  # the seal and three document time stamps


def test_a_renewal_without_a_stamp_or_a_tsa_is_refused(
    ca: SealCA, tsa: LocalTSA, receipt_pdf: bytes, settings: Any
) -> None:
    settings.DOCUMENTS_TSA_URL = ""
    without_stamp = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    assert archive_timestamp_expiry(without_stamp) is None
    assert archive_timestamp_expiry(receipt_pdf) is None
    with pytest.raises(SealError, match="No time-stamping authority is configured"):
        renew_archive_timestamp(without_stamp)
    settings.DOCUMENTS_TSA_URL = tsa.url
    with pytest.raises(SealError, match="carries no archive time stamp"):
        renew_archive_timestamp(without_stamp)
    with pytest.raises(SealError, match="cannot be read"):
        renew_archive_timestamp(b"%PDF-1.7 kaputt")
    with pytest.raises(SealError, match="cannot be read"):
        archive_timestamp_expiry(b"kein PDF")


def test_a_tsa_that_gives_no_stamp_renews_nothing(
    ca: SealCA, tsa: LocalTSA, receipt_pdf: bytes
) -> None:
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    tsa.answer = "refuse"
    with pytest.raises(TimestampUnavailable, match="not renewed"):
        renew_archive_timestamp(sealed)


def test_a_new_metadata_stream_with_another_title_after_the_seal_is_refused(
    ca: SealCA, tsa: LocalTSA, receipt_pdf: bytes
) -> None:
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")

    changed = append_revision(sealed, retitle_in_new_xmp)

    status = validate_seal(changed, trust_roots=seal_trust_roots())
    reader = PdfFileReader(io.BytesIO(changed), strict=False)
    assert b">Genehmigt<" in reader.root["/Metadata"].data  # what a reader shows as the title
    assert status.intact and not status.valid
    assert status.problem == "The document was modified after it was sealed."


def test_a_new_metadata_stream_with_only_new_dates_after_the_seal_is_accepted(
    ca: SealCA, tsa: LocalTSA, receipt_pdf: bytes
) -> None:
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")

    status = validate_seal(
        append_revision(sealed, redate_in_new_xmp), trust_roots=seal_trust_roots()
    )

    assert status.valid, status.problem
