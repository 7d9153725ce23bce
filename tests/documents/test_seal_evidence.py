"""Long-term validation as a chain of evidence (RFC 4998, ETSI EN 319 102-1): a document time
stamp whose algorithm is weak today still counts when a later, strong archive time stamp covered
it before the algorithm's sunset; covered afterwards, or not at all, it does not.

The stamps are dated by the TSA stand-ins of ``tests/documents/tsa_variants.py`` (real RSA
keys and signatures; only the time in the token is chosen), against the built-in sunsets:
SHA-1 ends on 2012-08-01, RSA keys shorter than 1900 bits on 2019-10-01 (ETSI TS 119 312).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.checks import run_checks
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.timestamps import TimeStamper
from weasyprint import HTML

from rathaus.documents.algorithms import AlgorithmSunsets
from rathaus.documents.seal import (
    ARCHIVE_TIMESTAMP,
    SEAL,
    SIGNATURE_TIMESTAMP,
    SealStatus,
    renew_archive_timestamp,
    seal_pdf,
    seal_signer,
    seal_trust_roots,
    validate_seal,
)
from tests.documents.tsa_variants import TSAVariants, tsa_variants  # noqa: F401
from tests.fixtures.tsa import LocalTSA, local_tsa  # noqa: F401

SEALED = datetime(2011, 1, 3, 9, 0, tzinfo=UTC)
#: a document time stamp of another system, SHA-1 throughout
SHA1_STAMPED = datetime(2011, 6, 1, 9, 0, tzinfo=UTC)
#: renewed while SHA-1 still counted (its sunset: 2012-08-01) ...
RENEWED_IN_TIME = datetime(2012, 3, 1, 9, 0, tzinfo=UTC)
#: ... and after it
RENEWED_LATE = datetime(2013, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def tsa(
    local_tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
    demo_seal: Any,
) -> Iterator[LocalTSA]:
    """The local TSA for renewals (its stamper set by each test), the seal with LTV data."""
    settings.DOCUMENTS_TSA_URL = local_tsa.url
    settings.DOCUMENTS_TSA_REQUIRED = True
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(tsa_variants.roots_pem)
    settings.DOCUMENTS_TSA_TIMEOUT = 5
    settings.DOCUMENTS_SEAL_LTV = True
    local_tsa.answer = "ok"
    original = local_tsa.stamper
    yield local_tsa
    local_tsa.stamper = original  # the session's TSA for the other tests


def _sealed(stamper: TimeStamper) -> bytes:
    """A notice sealed with a time stamp and a document time stamp (B-LTA) of ``stamper``."""
    pdf = HTML(string="<h1>Bescheid</h1><p>Die Erlaubnis wird erteilt.</p>").write_pdf()
    assert isinstance(pdf, bytes)
    return seal_pdf(pdf, signer=seal_signer(), location="Wuppertal", timestamper=stamper)


def _stamped(pdf: bytes, stamper: TimeStamper, md_algorithm: str) -> bytes:
    """``pdf`` with a document time stamp of ``stamper`` appended, as another system did."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    return bytes(signers.PdfTimeStamper(stamper).timestamp_pdf(writer, md_algorithm).getvalue())


def _renewed(pdf: bytes, tsa: LocalTSA, variants: TSAVariants, at: datetime) -> bytes:
    """``pdf`` renewed as the E-Akte renews it: SHA-512, by a TSA on an RSA-3072 key whose
    clock says ``at``."""
    tsa.stamper = variants.stamper(at=at)
    return renew_archive_timestamp(pdf, digest_algorithm="sha512")


@pytest.fixture
def sha1_stamped(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> bytes:
    sealed = _sealed(tsa_variants.stamper(at=SEALED))
    return _stamped(sealed, tsa_variants.stamper(at=SHA1_STAMPED), "sha1")


def _check(pdf: bytes) -> SealStatus:
    return validate_seal(pdf, trust_roots=seal_trust_roots())


def test_a_sha1_stamp_renewed_before_the_sunset_is_valid_thanks_to_the_renewal(
    sha1_stamped: bytes,
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    renewed = _renewed(sha1_stamped, tsa, tsa_variants, RENEWED_IN_TIME)

    status = _check(renewed)

    assert status.valid, status.problem
    assert status.problem == "" and status.level == "B-LTA"
    assert status.renewed and status.outcome == "valid_by_renewal"
    answer = status.as_json()  # the verification API says the same
    assert answer["outcome"] == "valid_by_renewal"
    assert answer["evidence"][0]["kind"] == "seal"
    assert any(link["weak_today"] and link["holds"] for link in answer["evidence"])
    assert status.archive_timestamp == RENEWED_IN_TIME
    kinds = [link.kind for link in status.evidence]
    assert kinds == [
        SEAL,
        SIGNATURE_TIMESTAMP,
        ARCHIVE_TIMESTAMP,
        ARCHIVE_TIMESTAMP,
        ARCHIVE_TIMESTAMP,
    ]
    seal, seal_stamp, first, sha1, newest = status.evidence
    assert seal.covered_at == SEALED and seal.algorithms == ("SHA-256", "RSA-3072")
    assert seal_stamp.time == first.time == SEALED and first.covered_at == SHA1_STAMPED
    assert (sha1.time, sha1.covered_at) == (SHA1_STAMPED, RENEWED_IN_TIME)
    assert sha1.algorithms == ("SHA-1", "RSA-3072")
    assert sha1.weak_today == ("SHA-1",) and sha1.weak_since == date(2012, 8, 1)
    assert sha1.holds and sha1.renewed_in_time
    assert newest.algorithms == ("SHA-512", "RSA-3072")
    assert newest.weak_today == () and newest.covered_at is None and newest.holds


def test_a_sha1_stamp_renewed_after_the_sunset_is_not_valid(
    sha1_stamped: bytes,
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    renewed = _renewed(sha1_stamped, tsa, tsa_variants, RENEWED_LATE)

    status = _check(renewed)

    assert not status.valid and status.outcome == "not_valid"
    assert status.evidence_broken and not status.renewed
    assert status.problem == (
        "The document time stamp of 2011-06-01 rests on SHA-1, no longer secure since "
        "2012-08-01; the time stamp that covers it was made on 2013-01-15, after that."
    )
    broken = [link for link in status.evidence if not link.holds]
    assert [(link.time, link.failing) for link in broken] == [(SHA1_STAMPED, ("SHA-1",))]
    assert status.evidence[-1].holds  # the late renewal itself is strong


def test_a_sha1_stamp_without_renewal_is_not_valid(sha1_stamped: bytes) -> None:
    status = _check(sha1_stamped)

    assert not status.valid and status.outcome == "not_valid" and status.evidence_broken
    assert status.problem == (
        "The document time stamp of 2011-06-01 rests on SHA-1, no longer secure since "
        "2012-08-01, and no later time stamp covers it."
    )
    assert status.evidence[-1].covered_at is None and status.evidence[-1].failing == ("SHA-1",)


@pytest.mark.parametrize(
    ("weak_stamper", "md_algorithm", "weak", "in_time", "late"),
    [
        # a TSA key of 1024 bits: RSA keys under 1900 bits end on 2019-10-01
        (
            {"bits": 1024},
            "sha256",
            "RSA-1024",
            datetime(2019, 6, 3, tzinfo=UTC),
            datetime(2020, 1, 6, tzinfo=UTC),
        ),
        # signed sha1WithRSAEncryption (over a SHA-256 imprint): the signature's SHA-1 counts
        (
            {"md": "sha1", "signature_algorithm": "sha1_rsa"},
            "sha256",
            "SHA-1",
            RENEWED_IN_TIME,
            RENEWED_LATE,
        ),
    ],
    ids=["rsa-1024", "sha1WithRSA"],
)
def test_a_weak_signature_of_a_stamp_counts_only_when_renewed_before_its_sunset(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    weak_stamper: dict[str, Any],
    md_algorithm: str,
    weak: str,
    in_time: datetime,
    late: datetime,
) -> None:
    sealed = _sealed(tsa_variants.stamper(at=SEALED))
    weakly = _stamped(sealed, tsa_variants.stamper(at=SHA1_STAMPED, **weak_stamper), md_algorithm)
    assert _check(weakly).evidence[-1].failing == (weak,)  # weak today, nothing covers it

    renewed = _check(_renewed(weakly, tsa, tsa_variants, in_time))
    assert renewed.outcome == "valid_by_renewal", renewed.problem
    assert renewed.evidence[-2].weak_today == (weak,) and renewed.evidence[-2].holds

    too_late = _check(_renewed(weakly, tsa, tsa_variants, late))
    assert too_late.outcome == "not_valid"
    assert f"rests on {weak}" in too_late.problem and late.date().isoformat() in too_late.problem


def test_a_strong_chain_is_valid_without_renewal_and_says_so(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    status = _check(_sealed(tsa_variants.stamper(at=SEALED)))

    assert status.valid and status.outcome == "valid" and not status.renewed
    assert not status.weakened and all(link.holds for link in status.evidence)


def test_a_renewal_dated_before_the_stamp_it_covers_is_not_valid(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    sealed = _sealed(tsa_variants.stamper(at=RENEWED_LATE))
    # a strong stamp that claims a time before the stamps it covers existed
    backdated = _renewed(sealed, tsa, tsa_variants, SHA1_STAMPED)

    status = _check(backdated)

    assert not status.valid and status.outcome == "not_valid"
    assert status.problem == "The time stamps are not in chronological order."


def test_the_sunsets_are_configuration(
    sha1_stamped: bytes,
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
) -> None:
    renewed = _renewed(sha1_stamped, tsa, tsa_variants, RENEWED_IN_TIME)
    assert _check(renewed).outcome == "valid_by_renewal"

    # the operator follows an authority that ended SHA-1 earlier: the renewal came too late
    settings.DOCUMENTS_ALGORITHM_SUNSETS = "SHA-1=2011-12-31"
    status = _check(renewed)
    assert status.outcome == "not_valid"
    assert "no longer secure since 2011-12-31" in status.problem
    assert "documents.E004" not in {e.id for e in run_checks(include_deployment_checks=True)}

    # SHA-256 declared at its end: a seal resting on it alone no longer holds
    settings.DOCUMENTS_ALGORITHM_SUNSETS = {"sha256": date(2026, 1, 1)}
    assert _check(_sealed(tsa_variants.stamper())).outcome == "not_valid"

    # a setting nobody can read is reported, and the built-in dates apply meanwhile
    settings.DOCUMENTS_ALGORITHM_SUNSETS = "sha-1=2011-12-31,rsa<3000=soon"
    assert "documents.E004" in {e.id for e in run_checks(include_deployment_checks=True)}
    assert _check(renewed).outcome == "valid_by_renewal"
    settings.DOCUMENTS_ALGORITHM_SUNSETS = {"sha-2": "2030-01-01"}
    errors = [e for e in run_checks(include_deployment_checks=True) if e.id == "documents.E004"]
    assert len(errors) == 1 and "'sha-2'" in errors[0].msg


def test_the_built_in_sunsets_follow_etsi_ts_119_312() -> None:
    sunsets = AlgorithmSunsets.defaults()
    assert sunsets.hash_sunset("sha1") == date(2012, 8, 1)
    assert sunsets.hash_sunset("md5") == date(2004, 8, 1)
    assert sunsets.hash_sunset("sha256") is None and sunsets.hash_sunset("sha3_512") is None
    assert sunsets.key_sunset("rsa", 1024) == date(2019, 10, 1)
    assert sunsets.key_sunset("rsa", 2048) == date(2029, 1, 1)
    assert sunsets.key_sunset("rsa", 3072) is None
    assert sunsets.key_sunset("ec", 224) == date(2021, 10, 1)
    assert sunsets.key_sunset("ec", 256) is None


# --- the verification page explains the chain ---------------------------------------------


@pytest.fixture
def issuing(db: None, settings: Any) -> Any:
    """Issue a PDF into the GovChain log as a permit of the Bürgeramt Wuppertal."""
    from django.core.cache import cache

    from rathaus.core.models import Authority, Municipality
    from rathaus.ledger import services
    from rathaus.ledger.issuing import issue_document
    from rathaus.ledger.sequencer import sequence

    services._authorities.clear()
    cache.clear()
    settings.LEDGER_VERIFY_RATE_LIMITS = {"upload": (0, 60), "code": (0, 60)}
    town = Municipality.objects.create(name="Wuppertal", slug="wuppertal", ags="05124000")
    authority = Authority.objects.create(
        municipality=town, kind=Authority.Kind.CITIZENS_OFFICE, name="Bürgeramt Wuppertal"
    )

    def issue(pdf: bytes) -> None:
        issue_document(render=lambda verification: pdf, document_type="permit", authority=authority)
        sequence()

    return issue


def _page(client: Any, pdf: bytes, language: str) -> str:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("bescheid.pdf", pdf, content_type="application/pdf")
    response = client.post("/pruefen/", {"document": upload}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_the_verification_page_explains_a_seal_valid_thanks_to_renewal(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    issuing: Any,
    client: Any,
) -> None:
    issued = _sealed(tsa_variants.stamper(at=SEALED))
    issuing(issued)
    # the E-Akte's copy: a SHA-1 stamp of another system, renewed with SHA-512 in time
    sha1 = _stamped(issued, tsa_variants.stamper(at=SHA1_STAMPED), "sha1")
    renewed = _renewed(sha1, tsa, tsa_variants, RENEWED_IN_TIME)

    german = _page(client, renewed, "de")
    english = _page(client, renewed, "en")

    assert "enthält das ausgestellte Dokument unverändert" in german
    assert "Gültig dank Erneuerung" in german and "Nachweiskette, das Älteste zuerst:" in german
    assert (
        "Archivzeitstempel vom 1. Juni 2011 (SHA-1, RSA-3072): SHA-1 gilt seit dem 1. August "
        "2012 nicht mehr als sicher; der Zeitstempel vom 1. März 2012 hat ihn vorher gesichert."
    ) in german
    assert "Archivzeitstempel vom 1. März 2012 (SHA-512, RSA-3072): heute sicher." in german
    assert "Zeitstempel des Siegels vom 3. Januar 2011 (SHA-256, RSA-3072): heute sicher." in german
    assert "Valid thanks to renewal" in english
    assert (
        "Archive time stamp of June 1, 2011 (SHA-1, RSA-3072): SHA-1 is no longer considered "
        "secure since Aug. 1, 2012; the time stamp of March 1, 2012 covered it before that."
    ) in english

    # the same copy renewed too late is not recognised as the issued document at all
    late = _renewed(sha1, tsa, tsa_variants, RENEWED_LATE)
    assert "Nicht bestätigt: Diese Datei wurde so nicht ausgestellt" in _page(client, late, "de")


def test_the_verification_page_says_why_a_seal_with_a_stamp_not_renewed_is_not_valid(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    issuing: Any,
    client: Any,
) -> None:
    # issued years ago by a TSA on an RSA-1024 key, and never renewed
    issued = _sealed(tsa_variants.stamper(at=SEALED, bits=1024))
    issuing(issued)

    german = _page(client, issued, "de")

    assert "Die hochgeladene Datei ist genau das ausgestellte Dokument." in german
    assert "Nicht gültig: Ein Teil der folgenden Kette beruht auf einem Verfahren" in german
    assert (
        "Archivzeitstempel vom 3. Januar 2011 (SHA-256, RSA-1024): RSA-1024 gilt seit dem "
        "1. Oktober 2019 nicht mehr als sicher, und kein späterer Zeitstempel sichert ihn."
    ) in german
    assert "Gültig:" not in german
