"""A time stamp is checked before it goes into a seal: pyHanko checks the TSA's certificate when
it stamps, not the token's signature nor what it stamps, so ``seal_pdf`` (and the renewal of an
archive time stamp) verify each token the TSA hands over and refuse one that does not hold,
instead of issuing a notice whose seal ``validate_seal`` would later find not valid. And a stamp
on a key nobody here can load is named as such when a seal is checked, in German too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import algos, tsp
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import translation
from pyhanko.sign import signers
from pyhanko.sign.timestamps.common_utils import dummy_digest
from pyhanko_certvalidator.registry import SimpleCertificateStore
from weasyprint import HTML

from rathaus.accounts.models import User
from rathaus.casework import services
from rathaus.casework.errors import CaseworkError
from rathaus.casework.models import Case, Notice
from rathaus.documents.checks import timestamps_can_be_checked
from rathaus.documents.seal import (
    ARCHIVE_TIMESTAMP,
    SEAL,
    SIGNATURE_TIMESTAMP,
    UNSUPPORTED_KEY_PROBLEMS,
    SealError,
    SealStatus,
    TimestampRejected,
    renew_archive_timestamp,
    seal_pdf,
    seal_signer,
    seal_trust_roots,
    validate_seal,
)
from rathaus.ledger.models import Entry
from rathaus.mailbox.models import Message
from tests.casework.conftest import (  # noqa: F401 - the casework tests' case and clerk
    buergeramt,
    case,
    citizen,
    clerk,
    demo,
    make_case,
    make_staff,
    meldebescheinigung,
    meldewesen,
    wuppertal,
)
from tests.documents.pdf_forgery import sealed_elsewhere
from tests.documents.test_seal_evidence import NaiveTimeStamper
from tests.documents.tsa_variants import SINCE, TSAVariants, tsa_variants  # noqa: F401
from tests.fixtures.tsa import (  # noqa: F401
    ForeignCurveStamper,
    KeyedTimeStamper,
    LocalTSA,
    TSAKey,
    keyed_stamper,
    local_tsa,
)

NOT_VERIFIED = (
    "The time-stamping authority's new stamp does not verify (its signature is not valid or its "
    "certificate not trusted); the document was not sealed."
)


@pytest.fixture
def tsa(
    local_tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
    demo_seal: Any,
) -> Iterator[LocalTSA]:
    """The local TSA, its stamper set by each test; time stamps not required, so that a TSA
    that gives none would give a seal without one (B-B): one that gives a bad one must not."""
    settings.DOCUMENTS_TSA_URL = local_tsa.url
    settings.DOCUMENTS_TSA_REQUIRED = False
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(tsa_variants.roots_pem)
    settings.DOCUMENTS_TSA_TIMEOUT = 5
    settings.DOCUMENTS_SEAL_LTV = True
    local_tsa.answer = "ok"
    original = local_tsa.stamper
    yield local_tsa
    local_tsa.stamper = original  # the session's TSA for the other tests


@pytest.fixture(scope="module")
def p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _stamper(variants: TSAVariants, key: TSAKey, *, tamper: bool = False) -> KeyedTimeStamper:
    return keyed_stamper(
        key,
        issuer_key=variants.ca_key,
        issuer=variants.ca_cert,
        valid_since=SINCE,
        valid_until=datetime.now(UTC) + timedelta(days=3650),
        tamper=tamper,
    )


def _foreign(variants: TSAVariants, curve: str = "brainpoolp320r1") -> ForeignCurveStamper:
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


def _seal(**kwargs: Any) -> bytes:
    return seal_pdf(_pdf(), signer=seal_signer(), location="Wuppertal", **kwargs)


def _check(pdf: bytes) -> SealStatus:
    return validate_seal(pdf, trust_roots=seal_trust_roots())


class TamperedFromTheSecondStamp(KeyedTimeStamper):
    """Signs the seal's own time stamp properly and tampers with every later one: with
    long-term validation data, the document time stamp over the seal (B-LTA)."""

    stamps = 0

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        imprint = req["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        if imprint["hashed_message"].native != dummy_digest(algorithm):  # not the sizing one
            self.stamps += 1
            self.tamper = self.stamps >= 2
        return super().request_tsa_response(req)


class StampsSomethingElse(KeyedTimeStamper):
    """A properly signed token over a digest it was not asked for (its message imprint)."""

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        other = tsp.TimeStampReq.load(req.dump())
        other["message_imprint"]["hashed_message"] = b"\x42" * 32
        return super().request_tsa_response(other)


# --- sealing refuses a stamp that does not hold --------------------------------------------


@pytest.mark.parametrize("long_term", [False, True])
@pytest.mark.parametrize("kind", ["RSA-3072", "P-256"])
def test_a_tampered_time_stamp_stops_the_sealing(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    p256: ec.EllipticCurvePrivateKey,
    kind: str,
    long_term: bool,
) -> None:
    key = tsa_variants.key(3072) if kind == "RSA-3072" else p256
    tsa.stamper = _stamper(tsa_variants, key, tamper=True)
    tsa.requests.clear()

    with pytest.raises(TimestampRejected) as refused:
        _seal(long_term=long_term)

    assert str(refused.value) == NOT_VERIFIED
    assert isinstance(refused.value, SealError)  # callers roll back and say so
    assert tsa.requests  # it was asked, and its answer refused rather than sealed without
    tsa.stamper = _stamper(tsa_variants, key)  # the same TSA, untampered
    status = _check(_seal(long_term=long_term))
    assert status.valid and status.timestamp is not None, status.problem
    assert status.level == ("B-LTA" if long_term else "B-T")


def test_a_tampered_document_time_stamp_stops_the_sealing(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    p256: ec.EllipticCurvePrivateKey,
) -> None:
    stamper = _stamper(tsa_variants, p256)
    tsa.stamper = TamperedFromTheSecondStamp(
        tsa_cert=stamper.tsa_cert, tsa_key=stamper.tsa_key, certs_to_embed=stamper.certs_to_embed
    )

    with pytest.raises(TimestampRejected, match="does not verify"):
        _seal(long_term=True)

    assert tsa.stamper.stamps == 2  # the seal's own stamp held; the document time stamp did not


def test_a_stamp_over_something_else_stops_the_sealing(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    p256: ec.EllipticCurvePrivateKey,
) -> None:
    stamper = _stamper(tsa_variants, p256)
    tsa.stamper = StampsSomethingElse(
        tsa_cert=stamper.tsa_cert, tsa_key=stamper.tsa_key, certs_to_embed=stamper.certs_to_embed
    )

    with pytest.raises(TimestampRejected) as refused:
        _seal()

    assert str(refused.value) == (
        "The time-stamping authority's new stamp is not over what it was asked to stamp (its "
        "message imprint differs); the document was not sealed."
    )


def test_a_stamp_of_an_untrusted_tsa_stops_the_sealing(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
) -> None:
    """Its signature is fine, but no TSA root vouches for it: the seal would not be valid."""
    tsa.stamper = tsa_variants.stamper()
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(tsa.ca_pem)  # only the other TSA's root

    with pytest.raises(TimestampRejected) as refused:
        _seal(long_term=False)

    assert str(refused.value) == NOT_VERIFIED
    # no roots at all: every stamp is refused, and the deploy check says so
    settings.DOCUMENTS_TSA_TRUST_ROOTS = ""
    with pytest.raises(TimestampRejected):
        _seal(long_term=False)
    [error] = timestamps_can_be_checked()
    assert error.id == "documents.E003" and "no document can be sealed" in error.msg
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(tsa_variants.roots_pem)
    assert _check(_seal(long_term=False)).valid


def test_a_stamp_without_a_time_zone_stops_the_sealing(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    strong = tsa_variants.stamper()
    naive = NaiveTimeStamper(
        tsa_cert=strong.tsa_cert, tsa_key=strong.tsa_key, certs_to_embed=strong.certs_to_embed
    )

    with pytest.raises(TimestampRejected, match="without a time zone"):
        _seal(timestamper=naive)


def test_a_stamp_on_a_curve_the_library_cannot_load_stops_the_sealing(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    tsa.stamper = _foreign(tsa_variants)

    with pytest.raises(TimestampRejected) as refused:
        _seal()

    assert str(refused.value) == (
        "The time-stamping authority's key (ec, curve brainpoolp320r1) is not supported, so its "
        "new stamp cannot be checked; the document was not sealed."
    )


def test_a_tampered_renewal_is_refused_by_the_same_check(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    p256: ec.EllipticCurvePrivateKey,
) -> None:
    tsa.stamper = _stamper(tsa_variants, p256)
    sealed = _seal()
    tsa.stamper = _stamper(tsa_variants, p256, tamper=True)

    with pytest.raises(TimestampRejected) as refused:
        renew_archive_timestamp(sealed)

    assert str(refused.value) == (
        "The time-stamping authority's new stamp does not verify (its signature is not valid or "
        "its certificate not trusted); the archive time stamp was not renewed."
    )
    tsa.stamper = _stamper(tsa_variants, p256)
    assert _check(renew_archive_timestamp(sealed)).valid


def test_a_notice_whose_time_stamp_is_tampered_is_not_issued(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
    p256: ec.EllipticCurvePrivateKey,
    case: Case,  # noqa: F811
    clerk: User,  # noqa: F811
    citizen: User,  # noqa: F811
) -> None:
    """The clerk is told, the transaction rolls back: nothing logged, filed or delivered."""
    tsa.stamper = _stamper(tsa_variants, p256, tamper=True)
    draft = services.draft_notice(case=case, template_key="granted", actor=clerk)

    with pytest.raises(CaseworkError, match="konnte nicht versiegelt werden") as refused:
        services.issue_notice(notice=draft, actor=clerk)

    assert isinstance(refused.value.__cause__, TimestampRejected)
    draft.refresh_from_db()
    assert draft.status == Notice.Status.DRAFT and not draft.pdf
    assert not Entry.objects.exists() and not Message.objects.filter(owner=citizen).exists()
    tsa.stamper = _stamper(tsa_variants, p256)  # the TSA repaired: the clerk tries again
    assert services.issue_notice(notice=draft, actor=clerk).status == Notice.Status.ISSUED


# --- checking a seal whose key nobody here can load ----------------------------------------


class ForeignCurveSigner(signers.SimpleSigner):
    """A seal on a key on a curve pyca/cryptography cannot load (its certificate that of
    :class:`ForeignCurveStamper`): an ECDSA signature of the right form that no key made."""

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        return bytes(algos.DSASignature({"r": 12345, "s": 67890}).dump())


def test_a_seal_whose_key_or_time_stamp_key_cannot_be_loaded_says_which(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    foreign = _foreign(tsa_variants)
    stamp_on_foreign_curve = _check(
        sealed_elsewhere(_pdf(), signer=seal_signer(), timestamper=foreign)
    )
    seal_on_foreign_curve = _check(
        sealed_elsewhere(
            _pdf(),
            signer=ForeignCurveSigner(
                signing_cert=foreign.tsa_cert,
                signing_key=asn1_keys.PrivateKeyInfo.load(foreign.tsa_key.dump()),
                cert_registry=SimpleCertificateStore.from_certs(foreign.certs_to_embed),
            ),
            timestamper=tsa_variants.stamper(),
        )
    )

    for status, link in (
        (stamp_on_foreign_curve, SIGNATURE_TIMESTAMP),
        (seal_on_foreign_curve, SEAL),
    ):
        assert status.sealed and not status.valid and status.outcome == "not_valid"
        assert status.problem == UNSUPPORTED_KEY_PROBLEMS[link]
    assert stamp_on_foreign_curve.problem == (
        "The seal's time stamp cannot be checked: the key type or curve of its time-stamping "
        "authority is not supported."
    )
    assert seal_on_foreign_curve.problem == (
        "The seal cannot be checked: its key type or curve is not supported."
    )


def test_an_unsupported_time_stamp_key_is_explained_in_german_and_english(
    tsa: LocalTSA,
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    status = _check(
        sealed_elsewhere(_pdf(), signer=seal_signer(), timestamper=_foreign(tsa_variants))
    )

    with translation.override("de"):
        assert status.translated_problem == (
            "Der Zeitstempel des Siegels kann nicht geprüft werden: Der Schlüsseltyp oder die "
            "Kurve seines Zeitstempeldienstes wird nicht unterstützt."
        )
        assert SealStatus.unsealed("").translated_problem == ""
        # a problem the catalogue does not know stays as it is (English, for logs and the API)
        assert SealStatus.unsealed("The PDF carries no seal.").translated_problem == (
            "The PDF carries no seal."
        )
    with translation.override("en"):
        assert status.translated_problem == status.problem
    for link in (SEAL, ARCHIVE_TIMESTAMP):
        with translation.override("de"):
            german = SealStatus.unsealed(UNSUPPORTED_KEY_PROBLEMS[link]).translated_problem
        assert german != UNSUPPORTED_KEY_PROBLEMS[link] and "nicht unterstützt" in german
