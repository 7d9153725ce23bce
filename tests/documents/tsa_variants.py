"""Time-stamping authorities of other strengths and other times, for the tests of renewed
archive time stamps: a CA of their own (valid since 2010) and TSA certificates on keys of a
chosen length, signing with a chosen hash and signature algorithm at a chosen time.

Real cryptography throughout: pyHanko's ``DummyTimeStamper`` signs the tokens with the key; the
local TSA (``tests/fixtures/tsa.py``) serves them over HTTP when its ``stamper`` is set to one
of these. RSA keys are made once per length and session (a 3072-bit key takes a while).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from asn1crypto import algos, cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from tests.fixtures.tsa import LocalTSA

T = TypeVar("T")


def outside_event_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call pyHanko's synchronous API (it runs ``asyncio.run``) in a thread of its own while an
    event loop is running in this one, as after the browser tests (Playwright's sync API)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


#: The CA and its TSA certificates are valid from here on, so that stamps dated 2011 are made
#: while their certificate was valid.
SINCE = datetime(2010, 1, 1, tzinfo=UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Anderer Zeitstempeldienst"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class SignedAsTimeStamper(DummyTimeStamper):
    """Signs its tokens as ``signature_algorithm`` names it, e.g. ``sha1_rsa``
    (sha1WithRSAEncryption: PKCS#1 v1.5 over SHA-1), and says so in the SignerInfo, while the
    message digest and the SignerInfo's digest algorithm keep the hash the stamper is asked
    for (or ``override_md``). pyHanko's stamper names the plain ``rsassa_pkcs1v15`` and signs
    with the digest algorithm's hash."""

    def __init__(self, *args: Any, signature_algorithm: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signature_algorithm = signature_algorithm

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        _, signed_attrs = super()._sign_tst_info(tst_info_data, md_algorithm, dt)
        key = serialization.load_der_private_key(self.tsa_key.dump(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        own_hash = algos.SignedDigestAlgorithm({"algorithm": self.signature_algorithm}).hash_algo
        signature = key.sign(signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(own_hash))
        return signature, signed_attrs

    def _build_signed_data(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        signed_data = super()._build_signed_data(*args, **kwargs)
        [signer_info] = signed_data["signer_infos"]
        signer_info["signature_algorithm"] = algos.SignedDigestAlgorithm(
            {"algorithm": self.signature_algorithm}
        )
        signed_data["signer_infos"] = [cms.SignerInfo.load(signer_info.dump(force=True))]
        return signed_data


@dataclass
class TSAVariants:
    """A CA of its own and a PEM file with its certificate and the local TSA's CA."""

    ca_key: rsa.RSAPrivateKey
    ca_cert: x509.Certificate
    roots_pem: Path
    _keys: dict[int, rsa.RSAPrivateKey] = field(default_factory=dict)

    def key(self, bits: int) -> rsa.RSAPrivateKey:
        if bits not in self._keys:
            self._keys[bits] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        return self._keys[bits]

    def stamper(
        self,
        *,
        bits: int = 3072,
        at: datetime | None = None,
        md: str | None = None,
        signature_algorithm: str | None = None,
        valid_days: int = 3650,
        valid_since: datetime = SINCE,
        valid_until: datetime | None = None,
    ) -> DummyTimeStamper:
        """A TSA on an RSA key of ``bits``, whose certificate runs from ``valid_since`` (2010)
        until ``valid_until`` (default: ``valid_days`` from now); its tokens carry the time
        ``at`` (default: the clock's) and are signed with ``md`` (default: the request's hash)
        as ``signature_algorithm``."""
        key = self.key(bits)
        until = valid_until or datetime.now(UTC) + timedelta(days=valid_days)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"Zeitstempel RSA-{bits}"))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid_since)
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        key_der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        arguments: dict[str, Any] = {
            "tsa_cert": _asn1(cert),
            "tsa_key": asn1_keys.PrivateKeyInfo.load(key_der),
            "certs_to_embed": [_asn1(self.ca_cert)],
            "fixed_dt": at,
            "override_md": md,
        }
        if signature_algorithm is not None:
            return SignedAsTimeStamper(**arguments, signature_algorithm=signature_algorithm)
        return DummyTimeStamper(**arguments)

    def seal_signer(self, *, valid_until: datetime) -> signers.SimpleSigner:
        """A seal (RSA-3072) whose certificate, from this CA, runs from 2010 until
        ``valid_until``: a seal certificate that has expired since. Its trust root is
        :attr:`ca_cert`."""
        key = self.key(3072)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("Elektronisches Siegel (abgelaufen)"))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(SINCE)
            .not_valid_after(valid_until)
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
            .sign(self.ca_key, hashes.SHA256())
        )
        key_der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return signers.SimpleSigner(
            signing_cert=_asn1(cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs([_asn1(self.ca_cert)]),
        )

    @property
    def ca(self) -> asn1_x509.Certificate:
        """The CA certificate, as a trust root for :func:`validate_seal`."""
        return _asn1(self.ca_cert)


@pytest.fixture(scope="session")
def tsa_variants(tmp_path_factory: pytest.TempPathFactory, local_tsa: LocalTSA) -> TSAVariants:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Anderer Zeitstempel-Wurzel"))
        .issuer_name(_name("Anderer Zeitstempel-Wurzel"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(SINCE)
        .not_valid_after(datetime.now(UTC) + timedelta(days=30 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    roots = tmp_path_factory.mktemp("tsa-variants") / "roots.pem"
    roots.write_bytes(
        ca_cert.public_bytes(serialization.Encoding.PEM) + local_tsa.ca_pem.read_bytes()
    )
    return TSAVariants(ca_key=ca_key, ca_cert=ca_cert, roots_pem=roots)
