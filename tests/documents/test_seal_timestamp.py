"""Seals with a time stamp from a time-stamping authority (PAdES B-T, RFC 3161)."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader

from rathaus.documents.seal import (
    SealError,
    seal_pdf,
    seal_signer,
    seal_trust_roots,
    tsa_trust_roots,
    validate_seal,
)
from tests.fixtures.tsa import LocalTSA, local_tsa  # noqa: F401


@pytest.fixture
def tsa(local_tsa: LocalTSA, settings: Any, demo_seal: Path) -> LocalTSA:  # noqa: F811
    settings.DOCUMENTS_TSA_URL = local_tsa.url
    settings.DOCUMENTS_TSA_TIMEOUT = 5
    settings.DOCUMENTS_TSA_REQUIRED = False
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(local_tsa.ca_pem)
    local_tsa.answer = "ok"
    local_tsa.requests.clear()
    return local_tsa


def _signature_timestamp_token(pdf: bytes) -> bool:
    """Whether the seal's CMS carries an RFC 3161 signature time stamp (unsigned attribute)."""
    signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[0]
    attributes = signature.signer_info["unsigned_attrs"].native or []
    return any(a["type"] == "signature_time_stamp_token" for a in attributes)


def test_a_seal_carries_the_tsa_time_stamp_and_it_validates(
    tsa: LocalTSA, receipt_pdf: bytes
) -> None:
    # B-T (without the long-term data and their archive time stamp: test_seal_long_term.py)
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal", long_term=False)
    # the first seal of a process also sizes the signature with a dummy stamp; later ones
    # ask the TSA once each (it may bill per stamp)
    assert len(tsa.requests) == 2
    seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal", long_term=False)
    assert len(tsa.requests) == 3
    assert _signature_timestamp_token(sealed)
    status = validate_seal(sealed, trust_roots=seal_trust_roots())
    assert status.valid, status.problem
    assert status.timestamp is not None and status.timestamp_problem == ""
    assert abs(status.timestamp - timezone.now()) < timedelta(minutes=5)
    assert status.level == "B-T" and not status.long_term


def test_a_time_stamp_is_not_trusted_through_the_seal_roots(
    tsa: LocalTSA, receipt_pdf: bytes, settings: Any
) -> None:
    """The seal's CA cannot vouch for the time: without the TSA's roots the stamp is not
    trusted, and a seal with an untrusted stamp is not valid (pyHanko's judgement), saying why."""
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    settings.DOCUMENTS_TSA_TRUST_ROOTS = ""
    assert tsa_trust_roots() == []
    status = validate_seal(sealed, trust_roots=seal_trust_roots())
    assert status.intact and status.trusted  # the seal's own certificate is fine
    assert not status.valid and status.timestamp is None
    assert status.problem == status.timestamp_problem
    assert "not trusted" in status.timestamp_problem
    seal_roots_for_time = validate_seal(
        sealed, trust_roots=seal_trust_roots(), timestamp_roots=seal_trust_roots()
    )
    assert not seal_roots_for_time.valid and "not trusted" in seal_roots_for_time.problem
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(tsa.ca_pem)
    assert validate_seal(sealed, trust_roots=seal_trust_roots()).valid


def test_a_broken_tsa_roots_setting_does_not_break_the_seals(
    tsa: LocalTSA, receipt_pdf: bytes, settings: Any, tmp_path: Path, caplog: Any
) -> None:
    """An unreadable DOCUMENTS_TSA_TRUST_ROOTS is an operator's error (check --deploy says so):
    seals without a time stamp still verify, and a time-stamped one says its stamp is not trusted,
    instead of every document being reported damaged."""
    stamped = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    settings.DOCUMENTS_TSA_URL = ""
    plain = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(tmp_path / "missing.pem")
    with caplog.at_level(logging.ERROR, logger="rathaus.documents.seal"):
        status = validate_seal(plain, trust_roots=seal_trust_roots())
    assert status.valid, status.problem
    assert "missing.pem" in caplog.text
    status = validate_seal(stamped, trust_roots=seal_trust_roots())
    assert status.intact and status.trusted and not status.valid
    assert "not trusted" in status.timestamp_problem


@pytest.mark.parametrize("answer", ["refuse", "garbage"])
def test_without_a_time_stamp_the_seal_is_made_without_one_and_logged(
    tsa: LocalTSA, receipt_pdf: bytes, answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    tsa.answer = answer
    with caplog.at_level(logging.WARNING, logger="rathaus.documents.seal"):
        sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    assert tsa.requests  # it was asked
    assert not _signature_timestamp_token(sealed)
    status = validate_seal(sealed, trust_roots=seal_trust_roots())
    assert status.valid and status.timestamp is None and status.timestamp_problem == ""
    assert "seal made without a time stamp" in caplog.text


def test_an_unreachable_tsa_is_like_a_refusing_one(
    tsa: LocalTSA, receipt_pdf: bytes, settings: Any
) -> None:
    settings.DOCUMENTS_TSA_URL = "http://127.0.0.1:9/tsa"  # discard port: nobody answers
    settings.DOCUMENTS_TSA_TIMEOUT = 2
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    assert not _signature_timestamp_token(sealed)
    settings.DOCUMENTS_TSA_REQUIRED = True
    with pytest.raises(SealError, match="no time stamp"):
        seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")


def test_a_required_time_stamp_refuses_to_seal_without_one(
    tsa: LocalTSA, receipt_pdf: bytes, settings: Any
) -> None:
    settings.DOCUMENTS_TSA_REQUIRED = True
    tsa.answer = "refuse"
    with pytest.raises(SealError, match="503"):
        seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    tsa.answer = "ok"
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    assert _signature_timestamp_token(sealed)


def test_without_a_tsa_configured_nobody_is_asked(
    tsa: LocalTSA, receipt_pdf: bytes, settings: Any
) -> None:
    settings.DOCUMENTS_TSA_URL = ""
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")
    assert not tsa.requests and not _signature_timestamp_token(sealed)


def test_the_deploy_check_wants_the_tsa_roots(tsa: LocalTSA, settings: Any) -> None:
    from rathaus.documents.checks import timestamps_can_be_checked

    assert timestamps_can_be_checked() == []
    settings.DOCUMENTS_TSA_TRUST_ROOTS = ""
    assert [e.id for e in timestamps_can_be_checked()] == ["documents.E003"]
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(tsa.ca_pem.parent / "missing.pem")
    errors = timestamps_can_be_checked()
    assert errors and "missing.pem" in errors[0].msg
    settings.DOCUMENTS_TSA_URL = ""
    assert timestamps_can_be_checked() == []
