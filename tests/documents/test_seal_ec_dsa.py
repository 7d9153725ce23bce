"""Time stamps signed with ECDSA and DSA (RFC 3161 tokens of the test TSA on real EC and DSA
keys, ``tests/fixtures/tsa.py``), judged as a chain of evidence like RSA ones: by the
signature's hash and the key's length against the sunsets of ETSI TS 119 312 (EC curves under
224 bits end on 2012-08-01, under 256 bits on 2021-10-01; DSA keys under 1900 bits on
2015-12-01, under 3000 bits on 2029-01-01). A tampered signature is refused; a curve nobody
can read counts as not suitable rather than making the check fail.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import algos, cms
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives.asymmetric import dsa, ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps import TimeStamper
from weasyprint import HTML

from rathaus.documents.algorithms import (
    AlgorithmSunsets,
    SunsetPolicy,
    TokenAlgorithms,
    key_of,
)
from rathaus.documents.seal import (
    ARCHIVE_TIMESTAMP,
    UNSUPPORTED_KEY_PROBLEMS,
    SealStatus,
    archive_timestamp_algorithms,
    renew_archive_timestamp,
    seal_pdf,
    seal_signer,
    seal_trust_roots,
    validate_seal,
)
from tests.documents.pdf_forgery import sealed_elsewhere
from tests.documents.tsa_variants import (  # noqa: F401
    SINCE,
    TSAVariants,
    outside_event_loop,
    tsa_variants,
)
from tests.fixtures.tsa import (  # noqa: F401
    ForeignCurveStamper,
    KeyedTimeStamper,
    LocalTSA,
    TSAKey,
    keyed_stamper,
    local_tsa,
)

SEALED = datetime(2011, 1, 3, 9, 0, tzinfo=UTC)
STAMPED = datetime(2011, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def keys() -> dict[str, TSAKey]:
    """TSA keys of every kind the tests need, made once (DSA parameters take a moment)."""
    return {
        "P-192": ec.generate_private_key(ec.SECP192R1()),
        "P-224": ec.generate_private_key(ec.SECP224R1()),
        "P-256": ec.generate_private_key(ec.SECP256R1()),
        "P-384": ec.generate_private_key(ec.SECP384R1()),
        "brainpoolP256r1": ec.generate_private_key(ec.BrainpoolP256R1()),
        "brainpoolP384r1": ec.generate_private_key(ec.BrainpoolP384R1()),
        "DSA-1024": dsa.generate_private_key(1024),  # noqa: S505 - weak on purpose
        "DSA-2048": dsa.generate_private_key(2048),
    }


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


def _stamper(
    variants: TSAVariants, key: TSAKey, *, at: datetime | None = None, tamper: bool = False
) -> KeyedTimeStamper:
    """A TSA on ``key`` whose certificate, from the CA of ``variants``, runs from 2010 for
    another ten years."""
    return keyed_stamper(
        key,
        issuer_key=variants.ca_key,
        issuer=variants.ca_cert,
        valid_since=SINCE,
        valid_until=datetime.now(UTC) + timedelta(days=3650),
        at=at,
        tamper=tamper,
    )


def _foreign(variants: TSAVariants, curve: str) -> ForeignCurveStamper:
    """A TSA on ``curve``, a curve pyca/cryptography cannot load (see the fixture)."""
    return ForeignCurveStamper(
        curve,
        issuer_key=variants.ca_key,
        issuer=variants.ca_cert,
        valid_since=SINCE,
        valid_until=datetime.now(UTC) + timedelta(days=3650),
    )


def _pdf() -> bytes:
    pdf = HTML(string="<h1>Bescheid</h1><p>Die Erlaubnis wird erteilt.</p>").write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def _sealed(stamper: TimeStamper) -> bytes:
    """A notice sealed with a time stamp and a document time stamp (B-LTA) of ``stamper``."""
    return seal_pdf(_pdf(), signer=seal_signer(), location="Wuppertal", timestamper=stamper)


def _stamped(pdf: bytes, stamper: TimeStamper, md_algorithm: str = "sha256") -> bytes:
    """``pdf`` with a document time stamp of ``stamper`` appended, as another system did."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    timestamper = signers.PdfTimeStamper(stamper)
    return bytes(outside_event_loop(timestamper.timestamp_pdf, writer, md_algorithm).getvalue())


def _check(pdf: bytes) -> SealStatus:
    return validate_seal(pdf, trust_roots=seal_trust_roots())


def _renewed(pdf: bytes, tsa: LocalTSA, variants: TSAVariants, at: datetime) -> bytes:
    """``pdf`` renewed as the E-Akte renews it: SHA-512, by a TSA on RSA-3072 dated ``at``."""
    tsa.stamper = variants.stamper(at=at)
    return renew_archive_timestamp(pdf, digest_algorithm="sha512")


# --- strong curves ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("curve", "label"),
    [
        ("P-256", "ECDSA-256"),
        ("P-384", "ECDSA-384"),
        ("brainpoolP256r1", "ECDSA-256"),
        ("brainpoolP384r1", "ECDSA-384"),
    ],
)
def test_a_seal_stamped_by_a_tsa_on_a_strong_curve_is_valid(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    curve: str,
    label: str,
) -> None:
    pdf = _sealed(_stamper(tsa_variants, keys[curve]))

    status = _check(pdf)

    assert status.valid and status.outcome == "valid", status.problem
    assert status.level == "B-LTA" and status.timestamp is not None
    seal, seal_stamp, archive = status.evidence
    assert seal.algorithms == ("SHA-256", "RSA-3072")
    assert seal_stamp.algorithms == archive.algorithms == ("SHA-256", label)
    assert all(link.holds and not link.weak_today for link in status.evidence)
    algorithms = archive_timestamp_algorithms(pdf)
    assert algorithms == TokenAlgorithms(
        imprint="sha256",
        signature="sha256",
        mechanism="ecdsa",
        key_algorithm="ec",
        key_bits=int(label.removeprefix("ECDSA-")),
    )
    # valid until: no sunset of ETSI TS 119 312 ends ECDSA on these curves, nor SHA-256
    assert AlgorithmSunsets.defaults().sunsets(algorithms) == []


def test_an_ecdsa_stamp_hashed_with_sha512_names_its_hash(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
) -> None:
    pdf = _stamped(_sealed(tsa_variants.stamper()), _stamper(tsa_variants, keys["P-384"]), "sha512")

    status = _check(pdf)

    assert status.valid, status.problem
    assert status.evidence[-1].algorithms == ("SHA-512", "ECDSA-384")
    signer_info = _newest_signer_info(pdf)
    assert signer_info["signature_algorithm"]["algorithm"].native == "sha512_ecdsa"


def _newest_signer_info(pdf: bytes) -> cms.SignerInfo:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    signer_info: cms.SignerInfo = reader.embedded_signatures[-1].signer_info
    return signer_info


# --- weak curves and DSA keys: they count only when renewed before their sunset ------------


@pytest.mark.parametrize(
    ("key", "weak", "sunset", "in_time", "late"),
    [
        # EC curves under 224 bits end on 2012-08-01
        (
            "P-192",
            "ECDSA-192",
            date(2012, 8, 1),
            datetime(2012, 3, 1, tzinfo=UTC),
            datetime(2013, 1, 15, tzinfo=UTC),
        ),
        # under 256 bits on 2021-10-01
        (
            "P-224",
            "ECDSA-224",
            date(2021, 10, 1),
            datetime(2021, 6, 1, tzinfo=UTC),
            datetime(2022, 1, 10, tzinfo=UTC),
        ),
        # DSA keys under 1900 bits on 2015-12-01
        (
            "DSA-1024",
            "DSA-1024",
            date(2015, 12, 1),
            datetime(2015, 6, 1, tzinfo=UTC),
            datetime(2016, 1, 11, tzinfo=UTC),
        ),
    ],
)
def test_a_stamp_on_a_short_ec_or_dsa_key_counts_only_when_renewed_before_its_sunset(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    key: str,
    weak: str,
    sunset: date,
    in_time: datetime,
    late: datetime,
) -> None:
    sealed = _sealed(tsa_variants.stamper(at=SEALED))
    weakly = _stamped(sealed, _stamper(tsa_variants, keys[key], at=STAMPED))
    alone = _check(weakly)
    assert alone.outcome == "not_valid"  # weak today, and nothing covers it
    assert alone.evidence[-1].algorithms == ("SHA-256", weak)
    assert alone.evidence[-1].failing == (weak,) and alone.evidence[-1].weak_since == sunset
    assert alone.problem == (
        f"The document time stamp of 2011-06-01 rests on {weak}, no longer secure since "
        f"{sunset.isoformat()}, and no later time stamp covers it."
    )

    renewed = _check(_renewed(weakly, tsa, tsa_variants, in_time))
    assert renewed.outcome == "valid_by_renewal", renewed.problem
    assert renewed.evidence[-2].weak_today == (weak,) and renewed.evidence[-2].holds

    too_late = _check(_renewed(weakly, tsa, tsa_variants, late))
    assert too_late.outcome == "not_valid"
    assert too_late.problem == (
        f"The document time stamp of 2011-06-01 rests on {weak}, no longer secure since "
        f"{sunset.isoformat()}; the time stamp that covers it was made on "
        f"{late.date().isoformat()}, after that."
    )


def test_a_stamp_on_dsa_2048_is_valid_until_2029(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    settings: Any,
) -> None:
    pdf = _stamped(_sealed(tsa_variants.stamper()), _stamper(tsa_variants, keys["DSA-2048"]))

    status = _check(pdf)

    assert status.valid and status.outcome == "valid", status.problem
    assert status.evidence[-1].algorithms == ("SHA-256", "DSA-2048")
    algorithms = archive_timestamp_algorithms(pdf)
    assert algorithms is not None
    assert (algorithms.mechanism, algorithms.key_algorithm, algorithms.key_bits) == (
        "dsa",
        "dsa",
        2048,
    )
    # valid until: DSA keys under 3000 bits end on 2029-01-01 (ETSI TS 119 312)
    assert AlgorithmSunsets.defaults().sunsets(algorithms) == [("DSA-2048", date(2029, 1, 1))]
    # ... and from then on the stamp proves nothing unless renewed
    settings.DOCUMENTS_ALGORITHM_SUNSETS = "dsa<3000=2025-01-01"
    ended = _check(pdf)
    assert ended.outcome == "not_valid"
    assert "rests on DSA-2048, no longer secure since 2025-01-01" in ended.problem


def test_a_dsa_stamp_hashed_with_sha512_is_read_from_its_digest_algorithm(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
) -> None:
    # CMS names no dsa-with-SHA512 (RFC 5754): the SignerInfo says id-dsa, its digest SHA-512
    pdf = _stamped(
        _sealed(tsa_variants.stamper()), _stamper(tsa_variants, keys["DSA-2048"]), "sha512"
    )

    status = _check(pdf)

    assert status.valid, status.problem
    assert _newest_signer_info(pdf)["signature_algorithm"]["algorithm"].native == "dsa"
    assert status.evidence[-1].algorithms == ("SHA-512", "DSA-2048")


# --- a signature that does not verify ----------------------------------------------------


@pytest.mark.parametrize("key", ["P-256", "DSA-2048"])
def test_a_tampered_ecdsa_or_dsa_signature_is_refused(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    key: str,
) -> None:
    sealed = _sealed(tsa_variants.stamper())
    assert _check(_stamped(sealed, _stamper(tsa_variants, keys[key]))).valid  # untampered

    status = _check(_stamped(sealed, _stamper(tsa_variants, keys[key], tamper=True)))

    assert not status.valid and status.outcome == "not_valid"
    assert status.archive_timestamp is None
    assert status.problem == (
        "The document time stamp is damaged or its time-stamping authority not trusted."
    )
    # the seal's own time stamp too (seal_pdf refuses to embed it, test_seal_timestamp_check.py;
    # a seal made elsewhere may carry one)
    tampered_seal_stamp = _check(
        sealed_elsewhere(
            _pdf(), signer=seal_signer(), timestamper=_stamper(tsa_variants, keys[key], tamper=True)
        )
    )
    assert not tampered_seal_stamp.valid and tampered_seal_stamp.timestamp is None
    assert tampered_seal_stamp.timestamp_problem == (
        "The seal's time stamp is damaged or does not match the seal."
    )


# --- curves the cryptography library does not know ----------------------------------------


@pytest.mark.parametrize(
    ("curve", "bits"),
    [
        # RFC 5639 curves the BSI recommends (TR-02102-1) that pyca/cryptography cannot load
        ("brainpoolp320r1", 320),
        ("brainpoolp256t1", 256),
        ("brainpoolp512t1", 512),
        # SEC 2 curves: named by the size of their prime field
        ("secp160r1", 160),
        ("secp224k1", 224),
        # a binary curve: none of ETSI TS 119 312's, its key length is not judged
        ("sect283k1", None),
    ],
)
def test_a_stamp_on_a_curve_the_library_cannot_load_is_read_and_refused_without_a_crash(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    curve: str,
    bits: int | None,
) -> None:
    pdf = _stamped(_sealed(tsa_variants.stamper()), _foreign(tsa_variants, curve))

    algorithms = archive_timestamp_algorithms(pdf)
    status = _check(pdf)

    assert algorithms is not None
    assert (algorithms.mechanism, algorithms.key_algorithm, algorithms.key_bits) == (
        "ecdsa",
        "ec",
        bits,
    )
    # its signature cannot be verified here, so the stamp does not hold, whatever its length
    assert status.sealed and not status.valid and status.outcome == "not_valid"
    assert status.archive_timestamp is None
    assert status.problem == UNSUPPORTED_KEY_PROBLEMS[ARCHIVE_TIMESTAMP]
    assert status.problem.startswith("A document time stamp cannot be checked: the key type")


def _ec_key_info(parameters: asn1_keys.ECDomainParameters, point: bytes) -> asn1_keys.PublicKeyInfo:
    return asn1_keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "ec", "parameters": parameters}, "public_key": point}
    )


def test_the_length_of_a_key_is_read_whatever_its_encoding_or_judged_unknown() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    compressed = p256.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    named = asn1_keys.ECDomainParameters(name="named", value="secp256r1")
    assert key_of(_ec_key_info(named, compressed)) == ("ec", 256)
    # a compressed point on a curve cryptography cannot load: the curve's name says
    brainpool = asn1_keys.ECDomainParameters(name="named", value="brainpoolp320r1")
    assert key_of(_ec_key_info(brainpool, b"\x02" + b"\x17" * 40)) == ("ec", 320)
    # explicit curve parameters (forbidden in certificates, RFC 5480 § 2.1.1), a curve of
    # a dotted name nobody knows, the curve inherited from the CA: not judged
    spki = asn1_keys.PublicKeyInfo.load(
        p256.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    explicit = asn1_keys.ECDomainParameters(
        name="specified",
        value={
            "version": "ecdpVer1",
            "field_id": {
                "field_type": "prime_field",
                "parameters": 2**256 - 2**224 + 2**192 + 2**96 - 1,
            },
            "curve": {"a": b"\x01" * 32, "b": b"\x02" * 32},
            "base": b"\x04" + b"\x03" * 64,
            "order": 2**256 - 2**224 + 2**192 - 89,
        },
    )
    assert key_of(_ec_key_info(explicit, spki["public_key"].native)) == ("ec", None)
    unknown = asn1_keys.ECDomainParameters(name="named", value="1.2.3.4.5")
    assert key_of(_ec_key_info(unknown, spki["public_key"].native)) == ("ec", None)
    implicit = asn1_keys.ECDomainParameters(name="implicit_ca", value=None)
    assert key_of(_ec_key_info(implicit, spki["public_key"].native)) == ("ec", None)
    # DSA: the length of p; a key that inherits its parameters (RFC 3279) has none to read
    dsa_key = asn1_keys.PublicKeyInfo.load(
        dsa.generate_private_key(1024)  # noqa: S505 - its length is all that is read
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    assert key_of(dsa_key) == ("dsa", 1024)
    inherited = asn1_keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "dsa"}, "public_key": dsa_key["public_key"].parsed}
    )
    assert key_of(inherited) == ("dsa", None)


def test_a_key_of_unknown_length_is_judged_not_suitable() -> None:
    sunsets = AlgorithmSunsets.defaults()
    unknown = TokenAlgorithms(
        imprint="sha256", signature="sha256", mechanism="ecdsa", key_algorithm="ec"
    )
    assert unknown.key_label() == "ECDSA-?" and unknown.labels() == ("SHA-256", "ECDSA-?")
    # shorter than every limit: weak since the first sunset of EC keys
    assert sunsets.key_sunset("ec", None) == date(2012, 8, 1)
    assert sunsets.key_sunset("dsa", None) == date(2015, 12, 1)
    assert sunsets.sunsets(unknown) == [("ECDSA-?", date(2012, 8, 1))]
    assert sunsets.weakness_at(datetime.now(UTC)).weak_signature(unknown) == ["ec-?"]
    # Ed25519 has no length to read, and none to judge
    ed25519 = TokenAlgorithms(mechanism="ed25519", key_algorithm="ed25519")
    assert sunsets.sunsets(ed25519) == [] and ed25519.key_label() == "Ed25519"
    # pyHanko's check of a signature on such a key (through SunsetPolicy) refuses it
    policy = SunsetPolicy(sunsets)
    nobody_knows = _ec_key_info(
        asn1_keys.ECDomainParameters(name="named", value="1.2.3.4.5"), b"\x04" + b"\x17" * 64
    )
    judged = policy.signature_algorithm_allowed(
        algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
        datetime.now(UTC),
        nobody_knows,
    )
    assert not judged.allowed
    assert judged.failure_reason == "EC-? is no longer secure since 2012-08-01"
    p256 = asn1_keys.PublicKeyInfo.load(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    allowed = policy.signature_algorithm_allowed(
        algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}), datetime.now(UTC), p256
    )
    assert allowed.allowed
