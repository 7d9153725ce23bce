"""Preservation with time-stamping authorities on ECDSA and DSA keys (the test TSA of
``tests/fixtures/tsa.py`` on real EC and DSA keys): their stamps are read and judged like RSA
ones, by the sunsets of ETSI TS 119 312 (DOCUMENTS_ALGORITHM_SUNSETS) and the minimum of BSI
TR-02102-1 (EC curves of 250 bits, DSA keys of 3000 bits like RSA, DSA listed weak). A strong
curve renews, a weak one is renewed or stopped, a tampered signature is refused, and a curve
nobody here can read is judged not suitable rather than failing the job."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec
from django.utils import timezone

from rathaus.core.models import AuditEvent, Authority
from rathaus.documents.seal import seal_trust_roots, validate_seal
from rathaus.records.models import ArchiveTimestamp, FilePlan
from rathaus.records.preservation import (
    RenewalPolicy,
    algorithms_of,
    due_for_renewal,
    record_archive_timestamps,
    renew_archive_timestamps,
)
from rathaus.records.services import read_version
from tests.documents.conftest import demo_seal_dir  # noqa: F401
from tests.documents.tsa_variants import SINCE, TSAVariants, tsa_variants  # noqa: F401
from tests.fixtures.tsa import (  # noqa: F401
    ForeignCurveStamper,
    KeyedTimeStamper,
    LocalTSA,
    TSAKey,
    keyed_stamper,
    local_tsa,
)
from tests.records.test_preservation import _notice, tsa  # noqa: F401
from tests.records.test_preservation_weak_signature import (
    _file_with_notice,
    _recorded,
    _restamped,
    _stamps_asked,
    _versions,
)


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


def _stamper(
    variants: TSAVariants, key: TSAKey, *, valid_days: int = 3650, tamper: bool = False
) -> KeyedTimeStamper:
    """A TSA on ``key`` whose certificate, from the CA of ``variants``, runs ``valid_days``."""
    return keyed_stamper(
        key,
        issuer_key=variants.ca_key,
        issuer=variants.ca_cert,
        valid_since=SINCE,
        valid_until=timezone.now() + datetime.timedelta(days=valid_days),
        tamper=tamper,
    )


# --- stamps on EC and DSA keys, judged ------------------------------------------------------


@pytest.mark.parametrize(
    ("curve", "bits"),
    [("P-256", 256), ("P-384", 384), ("brainpoolP256r1", 256), ("brainpoolP384r1", 384)],
)
def test_a_stamp_on_a_strong_curve_is_recorded_and_left_alone(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    curve: str,
    bits: int,
) -> None:
    file = _file_with_notice(authority, _restamped(_notice(), _stamper(tsa_variants, keys[curve])))

    result = renew_archive_timestamps()

    assert result.checked == 1 and result.renewed == [] and result.failed == []
    assert result.warnings == [] and result.problem == ""
    [version] = _versions(file)
    stamp = ArchiveTimestamp.objects.get(version=version)
    assert _recorded(stamp) == ("sha256", "sha256", "ecdsa", "ec", bits)
    assert algorithms_of(stamp).key_label() == f"ECDSA-{bits}"
    # valid until: no sunset ends it, and it meets BSI TR-02102-1's 250 bits
    policy = RenewalPolicy.at()
    assert policy.lasts_until(algorithms_of(stamp)) == datetime.date.max
    assert policy.below_minimum(algorithms_of(stamp)) == []
    assert stamp not in due_for_renewal()


@pytest.mark.parametrize(
    ("key", "weak", "lasts_until"),
    [
        # ETSI TS 119 312: EC curves under 224 bits end on 2012-08-01, under 256 on 2021-10-01
        ("P-192", "ec-192", datetime.date(2012, 8, 1)),
        ("P-224", "ec-224", datetime.date(2021, 10, 1)),
        # DSA keys under 1900 bits end on 2015-12-01; DSA is listed weak besides
        ("DSA-1024", "dsa, dsa-1024", datetime.date(2015, 12, 1)),
    ],
)
def test_a_stamp_on_a_curve_or_dsa_key_past_its_sunset_is_renewed(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    key: str,
    weak: str,
    lasts_until: datetime.date,
) -> None:
    file = _file_with_notice(authority, _restamped(_notice(), _stamper(tsa_variants, keys[key])))
    asked = len(tsa.requests)

    result = renew_archive_timestamps()

    assert result.renewed == [f"{file.reference} Bescheid v1 (weak signature: {weak}) -> v2"]
    assert result.failed == [] and result.problem == "" and result.warnings == []
    assert _stamps_asked(tsa, asked) == 1
    first, second = _versions(file)
    old = ArchiveTimestamp.objects.get(version=first)
    assert RenewalPolicy.at().lasts_until(algorithms_of(old)) == lasts_until
    assert old.renewed_by == second
    assert _recorded(ArchiveTimestamp.objects.get(version=second)) == (
        "sha512",
        "sha512",
        "rsassa_pkcs1v15",
        "rsa",
        3072,
    )
    event = AuditEvent.objects.get(action="records.archive_timestamp_renewed")
    assert event.after["reasons"] == ["weak_signature"]
    assert event.after["weak_signature"] == weak.split(", ")
    assert event.before["signature_key"] == algorithms_of(old).key_label()


def test_bsi_tr_02102_1_asks_250_bits_of_a_curve_and_3000_of_dsa_after_the_sunsets(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    settings: Any,
) -> None:
    # the ETSI sunsets of short curves and DSA keys removed: only the BSI minimum judges
    settings.DOCUMENTS_ALGORITHM_SUNSETS = "ec<224=,ec<256=,dsa<1900=,dsa<3000="
    stamps = {}
    for name in ("P-224", "P-256", "DSA-2048"):
        file = _file_with_notice(
            authority, _restamped(_notice(), _stamper(tsa_variants, keys[name])), title=name
        )
        stamps[name] = file
    record_archive_timestamps()  # judged only, not renewed
    recorded = {
        name: ArchiveTimestamp.objects.get(version=_versions(file)[0])
        for name, file in stamps.items()
    }
    policy = RenewalPolicy.at()
    assert policy.below_minimum(algorithms_of(recorded["P-224"])) == ["ec-224"]
    assert policy.below_minimum(algorithms_of(recorded["P-256"])) == []
    assert policy.below_minimum(algorithms_of(recorded["DSA-2048"])) == ["dsa", "dsa-2048"]
    assert policy.below_text(algorithms_of(recorded["DSA-2048"])) == (
        "dsa listed in RECORDS_WEAK_SIGNATURE_ALGORITHMS; dsa-2048 below "
        "RECORDS_MIN_RSA_KEY_BITS=3000 (below the recommended minimum, BSI TR-02102-1)"
    )
    due = set(due_for_renewal())
    assert recorded["P-224"] in due and recorded["DSA-2048"] in due
    assert recorded["P-256"] not in due

    # an operator who accepts DSA-2048 and P-224: no longer due for them
    settings.RECORDS_WEAK_SIGNATURE_ALGORITHMS = []
    settings.RECORDS_MIN_RSA_KEY_BITS = 2048
    settings.RECORDS_MIN_EC_KEY_BITS = 224
    assert not set(due_for_renewal()) & set(recorded.values())


def test_a_stamp_on_dsa_2048_counts_until_2029_and_is_renewed_a_year_before(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    settings: Any,
) -> None:
    settings.RECORDS_WEAK_SIGNATURE_ALGORITHMS = []  # DSA not listed: only its key is judged
    settings.RECORDS_MIN_RSA_KEY_BITS = 2048
    file = _file_with_notice(
        authority, _restamped(_notice(), _stamper(tsa_variants, keys["DSA-2048"]))
    )
    record_archive_timestamps()
    [version] = _versions(file)
    stamp = ArchiveTimestamp.objects.get(version=version)
    assert _recorded(stamp) == ("sha256", "sha256", "dsa", "dsa", 2048)
    # valid until the sunset of DSA keys under 3000 bits (ETSI TS 119 312) ...
    assert RenewalPolicy.at().lasts_until(algorithms_of(stamp)) == datetime.date(2029, 1, 1)
    assert stamp not in due_for_renewal(now=datetime.datetime(2027, 12, 1, tzinfo=datetime.UTC))
    # ... and renewed from a year before it on
    assert stamp in due_for_renewal(now=datetime.datetime(2028, 1, 2, tzinfo=datetime.UTC))


# --- TSAs on EC and DSA keys renewing -------------------------------------------------------


@pytest.mark.parametrize(("curve", "bits"), [("P-256", 256), ("brainpoolP384r1", 384)])
def test_a_tsa_on_a_strong_curve_renews_a_weak_stamp(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    curve: str,
    bits: int,
) -> None:
    # RSA-2048, below the minimum, and its TSA certificate expires in 100 days
    expiring = tsa_variants.stamper(bits=2048, valid_days=100)
    file = _file_with_notice(authority, _restamped(_notice(), expiring))
    tsa.stamper = _stamper(tsa_variants, keys[curve])

    result = renew_archive_timestamps()

    assert result.renewed == [f"{file.reference} Bescheid v1 (weak signature: rsa-2048) -> v2"]
    assert result.failed == [] and result.warnings == [] and result.problem == ""
    _, second = _versions(file)
    new = ArchiveTimestamp.objects.get(version=second)
    assert _recorded(new) == ("sha512", "sha512", "ecdsa", "ec", bits)
    event = AuditEvent.objects.get(action="records.archive_timestamp_renewed")
    assert event.after["reasons"] == ["certificate_expires", "weak_signature"]
    assert event.after["signature_key"] == f"ECDSA-{bits}"
    assert event.after["tsa_below_minimum"] == []
    status = validate_seal(read_version(second), trust_roots=seal_trust_roots())
    assert status.valid and status.outcome == "valid", status.problem
    assert status.level == "B-LTA"
    assert status.evidence[-1].algorithms == ("SHA-512", f"ECDSA-{bits}")

    again = renew_archive_timestamps()  # ECDSA-256 and more: nothing is due
    assert again.renewed == [] and again.failed == [] and len(_versions(file)) == 2


@pytest.mark.parametrize(
    ("key", "label"),
    [("P-192", "ECDSA-192"), ("P-224", "ECDSA-224"), ("DSA-1024", "DSA-1024")],
)
def test_a_tsa_on_a_curve_or_dsa_key_past_its_sunset_renews_nothing_and_stops_the_run(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    key: str,
    label: str,
) -> None:
    weak = tsa_variants.stamper(bits=1024)
    files = [
        _file_with_notice(authority, _restamped(_notice(), weak), title=f"Anmeldung {name}")
        for name in ("Erika", "Max")
    ]
    tsa.stamper = _stamper(tsa_variants, keys[key])
    asked = len(tsa.requests)

    result = renew_archive_timestamps()

    assert result.renewed == [] and len(result.failed) == 1
    assert f"signs with SHA-512, {label} (message imprint sha512" in result.failed[0]
    assert "reaches its sunset within the renewal window or has passed it" in result.failed[0]
    assert result.problem.startswith("No more archive time stamps renewed in this run")
    assert _stamps_asked(tsa, asked) == 1
    assert [len(_versions(f)) for f in files] == [1, 1]


def test_a_tsa_on_dsa_2048_renews_a_stamp_that_lapses_with_a_warning(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
) -> None:
    # a DSA-2048 stamp whose TSA certificate expires in 100 days, renewed by the same TSA's
    # new certificate: below the minimum, but no weaker than the stamp that would lapse
    expiring = _stamper(tsa_variants, keys["DSA-2048"], valid_days=100)
    file = _file_with_notice(authority, _restamped(_notice(), expiring))
    tsa.stamper = _stamper(tsa_variants, keys["DSA-2048"])

    result = renew_archive_timestamps()

    assert result.failed == [] and result.problem == "" and len(result.renewed) == 1
    [warning] = result.warnings
    assert warning.startswith(
        "The time-stamping authority signs with SHA-512, DSA-2048: dsa listed in "
        "RECORDS_WEAK_SIGNATURE_ALGORITHMS; dsa-2048 below RECORDS_MIN_RSA_KEY_BITS=3000"
    )
    _, second = _versions(file)
    assert _recorded(ArchiveTimestamp.objects.get(version=second)) == (
        "sha512",
        "sha512",
        "dsa",
        "dsa",
        2048,
    )
    event = AuditEvent.objects.get(action="records.archive_timestamp_renewed")
    assert event.after["tsa_below_minimum"] == ["dsa", "dsa-2048"]
    status = validate_seal(read_version(second), trust_roots=seal_trust_roots())
    assert status.valid, status.problem


@pytest.mark.parametrize("key", ["P-256", "DSA-2048"])
def test_a_tsa_whose_signature_does_not_verify_renews_nothing(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    keys: dict[str, TSAKey],
    key: str,
) -> None:
    file = _file_with_notice(authority, _restamped(_notice(), tsa_variants.stamper(bits=1024)))
    tsa.stamper = _stamper(tsa_variants, keys[key], tamper=True)

    result = renew_archive_timestamps()

    assert result.renewed == [] and len(result.failed) == 1 and result.problem == ""
    assert result.failed[0] == (
        f"{file.reference} Bescheid v1 (weak signature: rsa-1024): The time-stamping "
        "authority's new stamp does not verify (its signature is not valid or its certificate "
        "not trusted); the archive time stamp was not renewed."
    )
    [version] = _versions(file)  # nothing filed
    stamp = ArchiveTimestamp.objects.get(version=version)
    assert stamp.renewed_by is None and "does not verify" in stamp.problem
    assert not AuditEvent.objects.filter(action="records.archive_timestamp_renewed").exists()

    tsa.stamper = _stamper(tsa_variants, keys[key])  # the TSA repaired: renewed a week later
    week_later = timezone.now() + datetime.timedelta(days=8)
    assert len(renew_archive_timestamps(now=week_later).renewed) == 1
    assert len(_versions(file)) == 2


# --- curves nobody here can read ------------------------------------------------------------


@pytest.mark.parametrize(
    ("curve", "bits", "weak"),
    [
        # a BSI curve pyca/cryptography cannot load: recognised, and long enough
        ("brainpoolp320r1", 320, ""),
        # SEC 2's 160-bit curve: weak since 2012-08-01
        ("secp160r1", 160, "ec-160"),
        # a binary curve: its length is not judged, so it counts as shorter than any
        ("sect283k1", None, "ec-?"),
    ],
)
def test_a_stamp_on_a_curve_the_library_cannot_load_is_recorded_and_judged(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    curve: str,
    bits: int | None,
    weak: str,
) -> None:
    file = _file_with_notice(
        authority,
        _restamped(
            _notice(),
            ForeignCurveStamper(
                curve,
                issuer_key=tsa_variants.ca_key,
                issuer=tsa_variants.ca_cert,
                valid_since=SINCE,
                valid_until=timezone.now() + datetime.timedelta(days=3650),
            ),
        ),
    )

    assert record_archive_timestamps() == 1

    [version] = _versions(file)
    stamp = ArchiveTimestamp.objects.get(version=version)
    assert _recorded(stamp) == ("sha256", "sha256", "ecdsa", "ec", bits)
    assert stamp.problem == ""  # read, not "cannot be read"
    assert (stamp in due_for_renewal()) is bool(weak)
    policy = RenewalPolicy.at()
    assert policy.below_minimum(algorithms_of(stamp)) == ([weak] if weak else [])
    if bits is None:  # shown to people as of unknown length
        assert algorithms_of(stamp).key_label() == "ECDSA-?"
        assert policy.lasts_until(algorithms_of(stamp)) == datetime.date(2012, 8, 1)
