"""Electronic seal (PAdES via pyHanko): sealing, validation, tampering, configuration."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from rathaus.documents.checks import seal_is_configured
from rathaus.documents.seal import (
    SEAL_REASON,
    create_demo_seal,
    seal_pdf,
    seal_signer,
    seal_trust_roots,
    validate_seal,
)

from .pdf_inspection import assert_sealed_pdf_a, text


@pytest.fixture
def sealed_pdf(demo_seal: Path, receipt_pdf: bytes) -> bytes:
    return seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")


def test_sealed_pdf_validates_against_the_demo_ca(sealed_pdf: bytes) -> None:
    status = validate_seal(sealed_pdf, trust_roots=seal_trust_roots())

    assert status.sealed and status.intact and status.trusted
    assert status.valid, status.problem
    assert status.signer == "Elektronisches Siegel Stadt Wuppertal"
    assert status.reason == SEAL_REASON == "Elektronisches Siegel der Behörde"
    assert status.location == "Wuppertal"
    assert status.signing_time is not None
    assert abs(status.signing_time - timezone.now()) < timedelta(minutes=5)
    assert status.problem == ""


def test_a_changed_byte_after_sealing_fails_validation(
    receipt_pdf: bytes, sealed_pdf: bytes
) -> None:
    tampered = bytearray(sealed_pdf)
    tampered[len(receipt_pdf) // 2] ^= 0x01

    status = validate_seal(bytes(tampered), trust_roots=seal_trust_roots())

    assert status.sealed
    assert not status.intact
    assert not status.valid
    assert status.problem == "The document was changed after it was sealed."


def test_an_update_appended_after_sealing_fails_validation(sealed_pdf: bytes) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed_pdf))
    info = writer.trailer.raw_get("/Info")
    info.get_object()[generic.NameObject("/Title")] = generic.TextStringObject("Genehmigt")
    writer.mark_update(info)
    out = io.BytesIO()
    writer.write(out)

    status = validate_seal(out.getvalue(), trust_roots=seal_trust_roots())

    assert status.intact  # the sealed revision itself is untouched …
    assert not status.valid  # … but the document was modified afterwards
    assert status.problem


def test_a_seal_from_another_ca_is_not_trusted(
    sealed_pdf: bytes, tmp_path: Path, settings: Any
) -> None:
    create_demo_seal(tmp_path / "other", organization="Fremde Stelle", key_size=2048)
    other_root = x509.load_pem_x509_certificate((tmp_path / "other" / "ca.pem").read_bytes())
    from asn1crypto import x509 as asn1_x509

    roots = [asn1_x509.Certificate.load(other_root.public_bytes(serialization.Encoding.DER))]

    status = validate_seal(sealed_pdf, trust_roots=roots)

    assert status.intact
    assert not status.trusted
    assert not status.valid
    assert status.problem == "The seal's certificate is not trusted."


def test_unsealed_and_unreadable_files_are_reported_not_raised(
    demo_seal: Path, receipt_pdf: bytes
) -> None:
    assert validate_seal(receipt_pdf, trust_roots=seal_trust_roots()).problem == (
        "The PDF carries no seal."
    )
    garbage = validate_seal(b"not a pdf at all", trust_roots=seal_trust_roots())
    assert not garbage.sealed and not garbage.valid
    assert garbage.problem.startswith("The file is not a readable PDF")


def test_sealing_appends_an_update_and_keeps_the_pdf_a_claims(
    receipt_pdf: bytes, sealed_pdf: bytes
) -> None:
    assert sealed_pdf.startswith(b"%PDF-1.7\n")
    assert len(assert_sealed_pdf_a(sealed_pdf, receipt_pdf)) >= 1
    assert "wohnungsgeberbestaetigung.pdf" in text(sealed_pdf)


def test_demo_seal_is_generated_once_into_the_var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    settings.DOCUMENTS_SEAL_PKCS12 = ""
    settings.DOCUMENTS_SEAL_TRUST_ROOTS = ""

    seal_signer()
    seal_file = tmp_path / "documents" / "seal" / "seal.p12"
    first = seal_file.read_bytes()
    seal_signer.cache_clear()
    seal_signer()

    assert seal_file.read_bytes() == first
    assert oct(seal_file.stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "documents" / "seal" / "ca.pem").exists()


def test_production_takes_the_seal_from_a_pkcs12_file(
    settings: Any, tmp_path: Path, demo_seal_dir: Path, receipt_pdf: bytes
) -> None:
    seal_dir = demo_seal_dir / "documents" / "seal"
    key, cert, extra = pkcs12.load_key_and_certificates((seal_dir / "seal.p12").read_bytes(), None)
    protected = tmp_path / "behoerde.p12"
    protected.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal",
            key,  # type: ignore[arg-type]
            cert,
            extra,
            serialization.BestAvailableEncryption(b"geheim"),
        )
    )
    settings.PRODUCTION = True
    settings.VAR_DIR = tmp_path / "unused"
    settings.DOCUMENTS_SEAL_PKCS12 = str(protected)
    settings.DOCUMENTS_SEAL_PASSPHRASE = "geheim"
    settings.DOCUMENTS_SEAL_TRUST_ROOTS = str(seal_dir / "ca.pem")

    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")

    assert validate_seal(sealed, trust_roots=seal_trust_roots()).valid
    assert seal_is_configured() == []
    assert not (tmp_path / "unused").exists()  # no demo material in production


def test_wrong_passphrase_is_a_clear_configuration_error(
    settings: Any, demo_seal_dir: Path
) -> None:
    key, cert, extra = pkcs12.load_key_and_certificates(
        (demo_seal_dir / "documents" / "seal" / "seal.p12").read_bytes(), None
    )
    protected = demo_seal_dir / "protected.p12"
    protected.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal",
            key,  # type: ignore[arg-type]
            cert,
            extra,
            serialization.BestAvailableEncryption(b"richtig"),
        )
    )
    settings.DOCUMENTS_SEAL_PKCS12 = str(protected)
    settings.DOCUMENTS_SEAL_PASSPHRASE = "falsch"

    with pytest.raises(ImproperlyConfigured, match="wrong passphrase"):
        seal_signer()


def test_production_without_a_seal_refuses_and_the_deploy_check_says_so(settings: Any) -> None:
    settings.PRODUCTION = True
    settings.DOCUMENTS_SEAL_PKCS12 = ""
    settings.DOCUMENTS_SEAL_TRUST_ROOTS = ""

    with pytest.raises(ImproperlyConfigured, match="DOCUMENTS_SEAL_PKCS12"):
        seal_signer()
    errors = seal_is_configured()
    assert [error.id for error in errors] == ["documents.E001", "documents.E001"]
