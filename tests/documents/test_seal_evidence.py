"""Long-term validation as a chain of evidence (RFC 4998, ETSI EN 319 102-1): a document time
stamp whose algorithm is weak today still counts when a later, strong archive time stamp covered
it before the algorithm's sunset; covered afterwards, or not at all, it does not.

The stamps are dated by the TSA stand-ins of ``tests/documents/tsa_variants.py`` (real RSA
keys and signatures; only the time in the token is chosen), against the built-in sunsets:
SHA-1 ends on 2012-08-01, RSA keys shorter than 1900 bits on 2019-10-01 (ETSI TS 119 312).
Certificates are checked at the same time as the algorithms: the time of the covering stamp.
Only a stamp over its whole revision covers anything; a stamp without a time zone holds nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from asn1crypto import core, tsp
from django.core.checks import run_checks
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
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
from tests.documents.tsa_variants import (  # noqa: F401
    TSAVariants,
    outside_event_loop,
    tsa_variants,
)
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
    timestamper = signers.PdfTimeStamper(stamper)
    return bytes(outside_event_loop(timestamper.timestamp_pdf, writer, md_algorithm).getvalue())


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


def test_a_sunset_key_length_in_superscript_digits_is_a_check_error_not_a_crash(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
) -> None:
    pdf = _sealed(tsa_variants.stamper(at=SEALED))
    # "³⁰⁰⁰" passes str.isdigit(), but int() cannot read it
    settings.DOCUMENTS_ALGORITHM_SUNSETS = {"rsa<³⁰⁰⁰": "2030-01-01"}

    status = _check(pdf)  # checked with the built-in dates meanwhile

    assert status.sealed and status.outcome == "valid", status.problem
    errors = [e for e in run_checks(include_deployment_checks=True) if e.id == "documents.E004"]
    assert len(errors) == 1 and "'rsa<³⁰⁰⁰'" in errors[0].msg


# --- a time stamp covers only what it hashes ----------------------------------------------


def _stamp_over_prefix(pdf: bytes, prefix_len: int, variants: TSAVariants) -> bytes:
    """``pdf`` with one more document time stamp (dated in time for the SHA-1 stamp before
    it), whose /ByteRange and token hash only the first ``prefix_len`` bytes of the file: a
    stamp added in a later revision that never hashed what that revision holds before it."""
    stamped = _stamped(pdf, variants.stamper(), "sha256")
    last = list(re.finditer(rb"/ByteRange\s*\[([^\]]*)\]", stamped))[-1]
    _, len1, start2, _ = (int(x) for x in last.group(1).split())
    gap = start2 - len1
    stamper = variants.stamper(at=RENEWED_IN_TIME)
    token = outside_event_loop(
        asyncio.run,
        stamper.async_timestamp(hashlib.sha256(stamped[:prefix_len]).digest(), "sha256"),
    )
    contents = token.dump().hex().encode()
    out = bytearray(stamped)
    out[len1:start2] = b"<" + contents + b"0" * (gap - 2 - len(contents)) + b">"
    byte_range = f"/ByteRange [0 {prefix_len} {prefix_len + gap} 0]".encode()
    out[last.start() : last.end()] = byte_range + b" " * (len(last.group(0)) - len(byte_range))
    return bytes(out)


def test_a_stamp_that_hashes_only_an_earlier_revision_does_not_rescue_a_weak_stamp(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    sealed = _sealed(tsa_variants.stamper(at=SEALED))
    sha1 = _stamped(sealed, tsa_variants.stamper(at=SHA1_STAMPED), "sha1")
    assert _check(sha1).outcome == "not_valid"  # nothing covers the SHA-1 stamp

    # a stamp dated before SHA-1's sunset, but over the bytes before the SHA-1 stamp only
    status = _check(_stamp_over_prefix(sha1, len(sealed), tsa_variants))

    assert status.outcome == "not_valid"
    assert status.problem == "A document time stamp does not cover the whole document."
    sha1_link = status.evidence[-2]
    assert sha1_link.time == SHA1_STAMPED and sha1_link.covered_at is None
    assert not sha1_link.holds and status.archive_timestamp is None


# --- a time stamp without a time zone -----------------------------------------------------


class NaiveTimeStamper(DummyTimeStamper):
    """A TSA whose tokens, properly signed, give their time without a time zone: a
    GeneralizedTime without "Z", which RFC 3161 § 2.4.2 does not allow."""

    def _build_tst_info(self, *args: Any, **kwargs: Any) -> tsp.TSTInfo:
        info = super()._build_tst_info(*args, **kwargs)
        local = info["gen_time"].native.strftime("%Y%m%d%H%M%S").encode()
        info["gen_time"] = core.GeneralizedTime.load(b"\x18\x0e" + local)
        return info


def _naive(variants: TSAVariants, at: datetime) -> NaiveTimeStamper:
    strong = variants.stamper(at=at)
    return NaiveTimeStamper(
        tsa_cert=strong.tsa_cert,
        tsa_key=strong.tsa_key,
        certs_to_embed=strong.certs_to_embed,
        fixed_dt=at,
    )


NAIVE_PROBLEM = (
    "A time stamp gives its time without a time zone (RFC 3161 requires UTC); "
    "it proves no point in time."
)


def test_a_stamp_whose_time_has_no_time_zone_is_not_valid_and_does_not_raise(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    plain = HTML(string="<p>Bescheid</p>").write_pdf()
    assert isinstance(plain, bytes)
    # a naive stamp, then the seal, then a strong stamp over both
    naive_first = _stamped(plain, _naive(tsa_variants, SEALED), "sha256")
    writer = IncrementalPdfFileWriter(io.BytesIO(naive_first), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="Siegel")
    signer = signers.PdfSigner(meta, signer=seal_signer())
    sealed = outside_event_loop(signer.sign_pdf, writer).getvalue()
    pdf = _stamped(sealed, tsa_variants.stamper(at=RENEWED_IN_TIME), "sha256")
    # and a naive stamp renewing a sealed notice
    renewed = _stamped(
        _sealed(tsa_variants.stamper(at=SEALED)), _naive(tsa_variants, SHA1_STAMPED), "sha256"
    )

    for status in (_check(pdf), _check(renewed)):
        assert status.sealed and not status.valid and status.outcome == "not_valid"
        assert status.problem == NAIVE_PROBLEM


# --- certificates checked at the time the next stamp covered them ------------------------


def test_a_stamp_whose_tsa_certificate_expired_after_its_renewal_still_holds(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    sealed = _sealed(tsa_variants.stamper(at=SEALED))
    # a TSA certificate that expired a month ago, long after the stamp was renewed
    old = _stamped(sealed, tsa_variants.stamper(at=SHA1_STAMPED, valid_days=-30), "sha256")
    assert not _check(old).valid  # not renewed: nothing proves it was made while valid

    status = _check(_renewed(old, tsa, tsa_variants, RENEWED_IN_TIME))

    assert status.valid and status.outcome == "valid", status.problem
    assert status.evidence[-2].covered_at == RENEWED_IN_TIME


@pytest.mark.parametrize(
    "validity",
    [
        # expired before the renewal covered the stamp
        {"valid_until": datetime(2011, 12, 31, tzinfo=UTC)},
        # not yet valid when the renewal covered the stamp (valid today)
        {"valid_since": datetime(2012, 6, 1, tzinfo=UTC)},
    ],
    ids=["expired", "not-yet-valid"],
)
def test_a_stamp_whose_tsa_certificate_was_not_valid_when_covered_does_not_hold(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    validity: dict[str, datetime],
) -> None:
    sealed = _sealed(tsa_variants.stamper(at=SEALED))
    old = _stamped(sealed, tsa_variants.stamper(at=SHA1_STAMPED, **validity), "sha256")

    status = _check(_renewed(old, tsa, tsa_variants, RENEWED_IN_TIME))

    assert not status.valid and status.outcome == "not_valid"
    assert status.problem == (
        "The document time stamp is damaged or its time-stamping authority not trusted."
    )


def _sealed_by(signer: Any, stamper: TimeStamper) -> bytes:
    """A notice sealed by ``signer`` with a time stamp of ``stamper`` (PAdES B-T)."""
    pdf = HTML(string="<h1>Bescheid</h1>").write_pdf()
    assert isinstance(pdf, bytes)
    return seal_pdf(pdf, signer=signer, location="Wuppertal", timestamper=stamper, long_term=False)


def test_a_seal_whose_certificate_expired_after_its_time_stamp_still_holds(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    signer = tsa_variants.seal_signer(valid_until=datetime(2013, 1, 1, tzinfo=UTC))
    sealed = _sealed_by(signer, tsa_variants.stamper(at=SEALED))
    pdf = _stamped(sealed, tsa_variants.stamper(at=SHA1_STAMPED), "sha256")

    status = validate_seal(pdf, trust_roots=[tsa_variants.ca])

    assert status.valid and status.trusted and status.outcome == "valid", status.problem
    assert status.timestamp == SEALED


def test_a_seal_whose_certificate_expired_before_its_time_stamp_does_not_hold(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    signer = tsa_variants.seal_signer(valid_until=datetime(2010, 12, 31, tzinfo=UTC))
    sealed = _sealed_by(signer, tsa_variants.stamper(at=SEALED))
    pdf = _stamped(sealed, tsa_variants.stamper(at=SHA1_STAMPED), "sha256")

    status = validate_seal(pdf, trust_roots=[tsa_variants.ca])

    assert not status.valid and not status.trusted
    assert status.problem == "The seal's certificate is not trusted."


# --- the verification page explains the chain ---------------------------------------------


@pytest.fixture
def issuing(db: None, settings: Any) -> Any:
    """Issue a PDF into the GovChain log as a permit of the Bürgeramt Wuppertal."""
    from django.core.cache import cache

    from rathaus.core.models import Authority, Municipality
    from rathaus.ledger.issuing import issue_document
    from rathaus.ledger.sequencer import sequence

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


def test_a_renewed_copy_with_a_stamp_without_time_zone_is_answered_not_a_server_error(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    issuing: Any,
    client: Any,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    plain = HTML(string="<p>Bescheid</p>").write_pdf()
    assert isinstance(plain, bytes)
    naive_first = _stamped(plain, _naive(tsa_variants, SEALED), "sha256")
    writer = IncrementalPdfFileWriter(io.BytesIO(naive_first), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="Siegel")
    signer = signers.PdfSigner(meta, signer=seal_signer())
    issued = bytes(outside_event_loop(signer.sign_pdf, writer).getvalue())
    issuing(issued)
    # a copy renewed by a strong stamp: checked as the issued document's renewed copy
    renewed = _stamped(issued, tsa_variants.stamper(at=RENEWED_IN_TIME), "sha256")

    german = _page(client, renewed, "de")
    upload = SimpleUploadedFile("bescheid.pdf", renewed, content_type="application/pdf")
    api = client.post("/api/v1/verify/", {"document": upload})

    # the seal does not hold, so the copy is not recognised as the issued document; the
    # seal itself says why (tests above)
    assert "Nicht bestätigt: Diese Datei wurde so nicht ausgestellt" in german
    assert api.status_code == 200 and api.json()["status"] == "unknown"
    assert not _check(renewed).valid and _check(renewed).problem == NAIVE_PROBLEM
