"""How long the cryptographic algorithms of a seal or a time stamp count as evidence.

No hash, signature scheme or key length stays secure for ever. From an algorithm's *sunset* on,
a signature or time stamp that rests on it proves nothing any more: it could have been forged.
What was made before still counts if a stronger time stamp covered it before the sunset: that
stamp proves that the older one existed while its algorithms were secure (the evidence-record
idea of RFC 4998 § 5.3, and the "past signature validation" with proofs of existence of ETSI
EN 319 102-1 § 5.6.2.4; ETSI TS 119 512 for preservation services).
:func:`rathaus.documents.seal.validate_seal` judges each link of a seal's chain at the time of
the stamp that covers it, the newest one today; the E-Akte renews a stamp before its
algorithms' sunset (``records.preservation``).

The sunset dates (:data:`DEFAULT_SUNSETS`) are the end dates of ETSI TS 119 312's
cryptographic suites as published in machine-readable form (the ETSI TS 119 322 catalogue
"ETSI ESI Cryptographic Suites", issued 2024-10-13, shipped with the European Commission's DSS
validation library); ``DOCUMENTS_ALGORITHM_SUNSETS`` changes, adds or (with an empty date)
removes entries, e.g. when the BSI (TR-02102-1) or SOG-IS announce an earlier end.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, NamedTuple

from asn1crypto import algos, cms, keys, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko_certvalidator.policy_decl import AlgorithmUsageConstraint, AlgorithmUsagePolicy

logger = logging.getLogger(__name__)

#: The hash algorithms asn1crypto knows by name (the names the settings use).
KNOWN_HASHES = frozenset(algos.DigestAlgorithmId._map.values())
#: Signature schemes, as asn1crypto names them (``SignedDigestAlgorithm.signature_algo``).
KNOWN_MECHANISMS = frozenset({"rsassa_pkcs1v15", "rsassa_pss", "dsa", "ecdsa", "ed25519", "ed448"})
#: Key types whose length a sunset can limit: RSA modulus, DSA prime p, EC curve order.
SIZED_KEYS = frozenset({"rsa", "dsa", "ec"})

#: ETSI TS 119 312 (catalogue of 2024-10-13, see the module): from these dates on, evidence
#: resting on the algorithm counts no more. ``"rsa<1900"``: RSA keys shorter than 1900 bits.
#: MD2 is not listed there; it is older and weaker than MD5, so it ends with it. SHA-2 of 256
#: bits and more, SHA-3, RSA and DSA from 3000 bits and EC curves from 256 bits have no end yet.
DEFAULT_SUNSETS: Mapping[str, date] = {
    "md2": date(2004, 8, 1),
    "md5": date(2004, 8, 1),
    "sha1": date(2012, 8, 1),
    "sha224": date(2029, 1, 1),
    "rsa<1024": date(2010, 8, 1),
    "rsa<1900": date(2019, 10, 1),
    "rsa<3000": date(2029, 1, 1),
    "dsa<1900": date(2015, 12, 1),
    "dsa<3000": date(2029, 1, 1),
    "ec<224": date(2012, 8, 1),
    "ec<256": date(2021, 10, 1),
}


def hash_name(name: str) -> str:
    """asn1crypto's name of a hash algorithm as an operator may write it: ``SHA-256`` is
    ``sha256``, ``SHA3-512`` is ``sha3_512``, ``SHA-512/256`` is ``sha512_256``."""
    return name.strip().lower().replace("sha-", "sha").replace("-", "_").replace("/", "_")


_HASH_LABELS = {"md2": "MD2", "md5": "MD5"}
_MECHANISM_LABELS = {
    "rsassa_pkcs1v15": "RSA",
    "rsassa_pss": "RSA-PSS",
    "dsa": "DSA",
    "ecdsa": "ECDSA",
    "ed25519": "Ed25519",
    "ed448": "Ed448",
}


def hash_label(name: str) -> str:
    """How the standards write a hash: ``SHA-1``, ``SHA-512/256``, ``SHA3-256``."""
    if name in _HASH_LABELS:
        return _HASH_LABELS[name]
    if name.startswith("sha3_"):
        return "SHA3-" + name[5:]
    if name.startswith("sha"):
        return "SHA-" + name[3:].replace("_", "/")
    return name.upper()


class TokenAlgorithms(NamedTuple):
    """What a CMS signature (a seal, a time-stamp token) rests on, read from the token itself."""

    #: the hash of a time stamp's message imprint (RFC 3161 § 2.4.2); "" for a seal
    imprint: str = ""
    #: the hash of the signature: the signature algorithm's own (sha1WithRSAEncryption) or the
    #: signer's digest algorithm; where the two differ (RFC 8933 forbids it) the weaker one
    signature: str = ""
    #: the signature scheme: rsassa_pkcs1v15, rsassa_pss, dsa, ecdsa, ed25519, ed448
    mechanism: str = ""
    #: the signer's key type (rsa, dsa, ec, ed25519, ed448) and length in bits
    key_algorithm: str = ""
    key_bits: int | None = None

    def hashes(self) -> set[str]:
        return {name for name in (self.imprint, self.signature) if name}

    def labels(self) -> tuple[str, ...]:
        """For people: ``("SHA-256", "RSA-3072")``."""
        hashes = [hash_label(name) for name in (self.imprint, self.signature) if name]
        return tuple(label for label in dict.fromkeys([*hashes, self.key_label()]) if label)

    def key_label(self) -> str:
        """``RSA-3072``, ``ECDSA-256``, ``Ed25519``: the scheme with its key length
        (``ECDSA-?`` where it cannot be read)."""
        mechanism = _MECHANISM_LABELS.get(self.mechanism, self.mechanism.upper())
        if self.key_algorithm in SIZED_KEYS:
            return f"{mechanism}-{key_length(self.key_bits)}"
        return mechanism

    def key_name(self) -> str:
        """The key as the settings and the E-Akte's reports name it: ``rsa-1024``, ``ec-?``."""
        return f"{self.key_algorithm}-{key_length(self.key_bits)}"


def key_length(bits: int | None) -> str:
    """A key length for people: its bits, or ``?`` where it cannot be read."""
    return "?" if bits is None else str(bits)


#: Named prime curves carry the length of their field in their name: SEC 2 ("secp160r1"),
#: ANSI X9.62 ("prime239v1") and RFC 5639 ("brainpoolP320r1", in asn1crypto's lower case).
#: Their group order is as long, give or take two bits (secp160r1: 161, secp112r2: 110).
_PRIME_CURVE_NAME = re.compile(r"(?:secp|prime|brainpoolp)([0-9]+)[krtv][0-9]+")


def key_of(public_key: keys.PublicKeyInfo) -> tuple[str, int | None]:
    """The type of ``public_key`` (an RSA-PSS key is an RSA key) and its length in bits: the
    modulus of RSA, the prime p of DSA, the curve of EC (:func:`curve_bits`); None where it
    has none (Ed25519) or where it cannot be read, which :class:`AlgorithmSunsets` and
    :class:`Weakness` judge as shorter than every limit. Never raises: a key nobody here
    can read is not suitable, and says so, rather than failing the check."""
    kind = str(public_key.algorithm)
    kind = "rsa" if kind == "rsassa_pss" else kind
    if kind not in SIZED_KEYS:
        return kind, None
    if kind == "ec":
        return kind, curve_bits(public_key)
    try:
        loaded = serialization.load_der_public_key(public_key.dump())
    except Exception:  # an encoding cryptography refuses (ValueError, UnsupportedAlgorithm…)
        loaded = None
    if isinstance(loaded, rsa.RSAPublicKey | dsa.DSAPublicKey):
        return kind, loaded.key_size
    try:  # asn1crypto may still read the number (its bit_size would round up to whole bytes)
        if kind == "rsa":
            modulus = public_key["public_key"].parsed["modulus"].native
        else:  # DSA: the prime p; None when the key inherits its parameters (RFC 3279 § 2.3.2)
            modulus = public_key["algorithm"]["parameters"]["p"].native
    except Exception:  # asn1crypto raises several kinds for odd encodings
        return kind, None
    return kind, modulus.bit_length() if isinstance(modulus, int) and modulus > 0 else None


def curve_bits(public_key: keys.PublicKeyInfo) -> int | None:
    """The length of an EC key's curve, as ETSI TS 119 312 and BSI TR-02102-1 count it: the
    curve's own for one pyca/cryptography knows (P-256: 256, brainpoolP384r1: 384), else
    the one a named prime curve's name gives (brainpoolP320r1: 320, secp160r1: 160). None
    for a binary curve (sect…, c2…: none of ETSI TS 119 312's), a name nobody knows, and
    explicit curve parameters, which RFC 5480 § 2.1.1 forbids in certificates."""
    try:
        parameters = public_key["algorithm"]["parameters"]
        if parameters.name != "named":
            return None
        name = str(parameters.chosen.native)
    except Exception:  # no parameters at all, or an encoding asn1crypto cannot read
        return None
    try:
        loaded = serialization.load_der_public_key(public_key.dump())
    except Exception:  # a curve cryptography does not know (UnsupportedAlgorithm), or no point
        loaded = None
    if isinstance(loaded, ec.EllipticCurvePublicKey):
        return loaded.curve.key_size
    if match := _PRIME_CURVE_NAME.fullmatch(name.lower()):
        return int(match.group(1))
    return None


def signature_algorithms(
    signer_info: cms.SignerInfo,
    public_key: keys.PublicKeyInfo,
    *,
    imprint: str = "",
    sunsets: AlgorithmSunsets | None = None,
) -> TokenAlgorithms:
    """The algorithms of one signer: its scheme and hash, and its key."""
    signature_algorithm: algos.SignedDigestAlgorithm = signer_info["signature_algorithm"]
    digest = str(signer_info["digest_algorithm"]["algorithm"].native)
    try:
        mechanism = str(signature_algorithm.signature_algo)
    except ValueError:  # an algorithm asn1crypto does not know: its OID
        mechanism = str(signature_algorithm["algorithm"].native)
    try:
        own = str(signature_algorithm.hash_algo)  # sha1WithRSAEncryption names SHA-1
    except ValueError:  # rsassa_pkcs1v15, dsa, ecdsa without a hash of their own
        own = digest
    signature = own
    if own != digest:
        sunsets = sunsets or AlgorithmSunsets.defaults()
        signature = min((own, digest), key=lambda name: sunsets.hash_sunset(name) or date.max)
    kind, bits = key_of(public_key)
    return TokenAlgorithms(
        imprint=imprint,
        signature=signature,
        mechanism=mechanism,
        key_algorithm=kind,
        key_bits=bits,
    )


def timestamp_algorithms(
    token: cms.SignedData,
    *,
    signer_cert: x509.Certificate | None = None,
    sunsets: AlgorithmSunsets | None = None,
) -> TokenAlgorithms:
    """The algorithms of a time-stamp token (RFC 3161): its imprint's hash, its signer's
    (``signer_cert``: the TSA's certificate, when the caller has found it already)."""
    from pyhanko.sign.validation.generic_cms import extract_certs_for_validation

    info = token["encap_content_info"]["content"].parsed
    if signer_cert is None:
        signer_cert = extract_certs_for_validation(token).signer_cert
    return signature_algorithms(
        token["signer_infos"][0],
        signer_cert.public_key,
        imprint=str(info["message_imprint"]["hash_algorithm"]["algorithm"].native),
        sunsets=sunsets,
    )


def timestamp_time(token: cms.SignedData) -> datetime:
    """The time the TSA put into a time-stamp token (``genTime``)."""
    moment: datetime = token["encap_content_info"]["content"].parsed["gen_time"].native
    return moment


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True)
class Weakness:
    """Which algorithms count as weak (at some moment, or by a setting)."""

    hashes: frozenset[str] = frozenset()
    mechanisms: frozenset[str] = frozenset()
    #: key type -> the shortest key (in bits) that is not weak
    min_key_bits: Mapping[str, int] = field(default_factory=dict)

    def __or__(self, other: Weakness) -> Weakness:
        bits = dict(self.min_key_bits)
        for kind, minimum in other.min_key_bits.items():
            bits[kind] = max(bits.get(kind, 0), minimum)
        return Weakness(
            hashes=self.hashes | other.hashes,
            mechanisms=self.mechanisms | other.mechanisms,
            min_key_bits=bits,
        )

    def weak_hashes(self, algorithms: TokenAlgorithms) -> list[str]:
        return sorted(self.hashes & algorithms.hashes())

    def weak_signature(self, algorithms: TokenAlgorithms) -> list[str]:
        """The weak parts of the signature: its scheme (``dsa``), its key (``rsa-1024``)."""
        weak = [algorithms.mechanism] if algorithms.mechanism in self.mechanisms else []
        if self.short_key(algorithms):
            weak.append(algorithms.key_name())
        return weak

    def short_key(self, algorithms: TokenAlgorithms) -> bool:
        """The key is shorter than the minimum for its type; a key whose length cannot be read
        (``ec-?``: a curve nobody here knows) counts as shorter than any."""
        minimum = self.min_key_bits.get(algorithms.key_algorithm)
        if not minimum or algorithms.key_algorithm not in SIZED_KEYS:
            return False
        return algorithms.key_bits is None or algorithms.key_bits < minimum


class AlgorithmSunsets:
    """Sunset dates of hashes, signature schemes and key lengths (see the module)."""

    def __init__(self, entries: Mapping[str, date | None]) -> None:
        self.hashes: dict[str, date] = {}
        self.mechanisms: dict[str, date] = {}
        self.key_limits: dict[tuple[str, int], date] = {}  # (key type, bits): keys shorter
        for key, day in entries.items():
            kind, bits = _sunset_key(key)
            if day is None:
                continue
            if bits is not None:
                self.key_limits[(kind, bits)] = day
            elif kind in KNOWN_MECHANISMS:
                self.mechanisms[kind] = day
            else:
                self.hashes[kind] = day

    @classmethod
    def defaults(cls) -> AlgorithmSunsets:
        return cls(DEFAULT_SUNSETS)

    @classmethod
    def configured(cls) -> AlgorithmSunsets:
        """The defaults with ``DOCUMENTS_ALGORITHM_SUNSETS`` over them (a mapping, or
        ``name=YYYY-MM-DD`` pairs separated by commas; an empty date removes an entry).
        :class:`ImproperlyConfigured` for a name or date nobody can read."""
        entries: dict[str, date | None] = {}
        for key, day in DEFAULT_SUNSETS.items():
            entries[_normalized_key(key)] = day
        value = getattr(settings, "DOCUMENTS_ALGORITHM_SUNSETS", "")
        try:
            for key, day in _setting_items(value):
                entries[_normalized_key(key)] = _sunset_date(key, day)
            return cls(entries)
        except (ValueError, TypeError) as exc:  # whatever the parsing above did not foresee
            raise ImproperlyConfigured(
                f"DOCUMENTS_ALGORITHM_SUNSETS={value!r} cannot be read: {exc}"
            ) from exc

    def hash_sunset(self, name: str) -> date | None:
        return self.hashes.get(name)

    def key_sunset(self, kind: str, bits: int | None) -> date | None:
        """The earliest sunset of the limits a key of ``bits`` falls under. A key whose length
        cannot be read (``bits`` None for an RSA, DSA or EC key) falls under all of them: what
        nobody can judge is not suitable."""
        if kind not in SIZED_KEYS:
            return None
        days = [
            day
            for (k, limit), day in self.key_limits.items()
            if k == kind and (bits is None or bits < limit)
        ]
        return min(days, default=None)

    def sunsets(self, algorithms: TokenAlgorithms) -> list[tuple[str, date]]:
        """Each part of ``algorithms`` that has a sunset, for people, with its date."""
        parts = [
            (hash_label(name), day)
            for name in sorted(algorithms.hashes())
            if (day := self.hash_sunset(name)) is not None
        ]
        signature = [self.mechanisms.get(algorithms.mechanism)]
        signature.append(self.key_sunset(algorithms.key_algorithm, algorithms.key_bits))
        if days := [day for day in signature if day is not None]:
            parts.append((algorithms.key_label(), min(days)))
        return parts

    def weak_at(self, algorithms: TokenAlgorithms, moment: datetime) -> list[tuple[str, date]]:
        """The parts of ``algorithms`` no longer secure at ``moment``, with their sunsets."""
        return [(label, day) for label, day in self.sunsets(algorithms) if moment >= _start_of(day)]

    def weakness_at(self, moment: datetime) -> Weakness:
        """Everything whose sunset is ``moment`` or earlier."""
        bits: dict[str, int] = {}
        for (kind, limit), day in self.key_limits.items():
            if moment >= _start_of(day):
                bits[kind] = max(bits.get(kind, 0), limit)
        return Weakness(
            hashes=frozenset(h for h, day in self.hashes.items() if moment >= _start_of(day)),
            mechanisms=frozenset(
                m for m, day in self.mechanisms.items() if moment >= _start_of(day)
            ),
            min_key_bits=bits,
        )


def configured_sunsets() -> AlgorithmSunsets:
    """:meth:`AlgorithmSunsets.configured`, or the defaults when the setting cannot be read
    (logged as an error; ``check --deploy`` reports it: documents.E004): a broken setting must
    not make every seal look invalid, nor accept a weak one."""
    try:
        return AlgorithmSunsets.configured()
    except ImproperlyConfigured as exc:
        logger.error("documents: %s", exc)
        return AlgorithmSunsets.defaults()


class SunsetPolicy(AlgorithmUsagePolicy):
    """pyHanko's algorithm check by :class:`AlgorithmSunsets`: an algorithm is allowed at a
    moment before its sunset (pyHanko passes the time the signature is judged at: the
    validation context's ``best_signature_time``). Its certificate chain is judged alike."""

    def __init__(self, sunsets: AlgorithmSunsets) -> None:
        self.sunsets = sunsets

    @staticmethod
    def _judge(label: str, day: date | None, moment: datetime | None) -> AlgorithmUsageConstraint:
        if day is None:
            return AlgorithmUsageConstraint(allowed=True)
        end = _start_of(day)
        if moment is None or moment >= end:
            return AlgorithmUsageConstraint(
                allowed=False,
                not_allowed_after=end,
                failure_reason=f"{label} is no longer secure since {day.isoformat()}",
            )
        return AlgorithmUsageConstraint(allowed=True)

    def digest_algorithm_allowed(
        self, algo: algos.DigestAlgorithm, moment: datetime | None
    ) -> AlgorithmUsageConstraint:
        name = str(algo["algorithm"].native)
        return self._judge(hash_label(name), self.sunsets.hash_sunset(name), moment)

    def signature_algorithm_allowed(
        self,
        algo: algos.SignedDigestAlgorithm,
        moment: datetime | None,
        public_key: keys.PublicKeyInfo | None,
    ) -> AlgorithmUsageConstraint:
        try:
            mechanism = str(algo.signature_algo)
        except ValueError:
            mechanism = str(algo["algorithm"].native)
        judged = self._judge(mechanism, self.sunsets.mechanisms.get(mechanism), moment)
        if judged and public_key is not None:
            kind, bits = key_of(public_key)
            judged = self._judge(
                f"{kind.upper()}-{key_length(bits)}", self.sunsets.key_sunset(kind, bits), moment
            )
        if judged:
            try:
                digest = str(algo.hash_algo)
            except ValueError:
                return judged
            judged = self._judge(hash_label(digest), self.sunsets.hash_sunset(digest), moment)
        return judged


# -- reading the setting -------------------------------------------------------------------


def _setting_items(value: Any) -> Iterable[tuple[str, Any]]:
    """The entries of ``DOCUMENTS_ALGORITHM_SUNSETS``: from the environment a string of
    ``name=YYYY-MM-DD`` pairs separated by commas (settings.py reads it as it is, so that a
    malformed value is reported here and by ``check --deploy`` rather than stopping the
    start), in a settings file also a mapping."""
    if isinstance(value, str):
        pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
        if lacking := [pair[0].strip() for pair in pairs if len(pair) != 2]:
            raise ImproperlyConfigured(
                "DOCUMENTS_ALGORITHM_SUNSETS must be name=YYYY-MM-DD pairs separated by commas; "
                f"{', '.join(repr(name) for name in lacking)} has no date."
            )
        return [(name, day) for name, day in pairs]
    if isinstance(value, Mapping):
        return [(str(name), day) for name, day in value.items()]
    raise ImproperlyConfigured(
        "DOCUMENTS_ALGORITHM_SUNSETS must be name=YYYY-MM-DD pairs separated by commas (or, in "
        "a settings file, a mapping of names to dates)."
    )


def _sunset_key(key: str) -> tuple[str, int | None]:
    """``"rsa<3000"`` is ``("rsa", 3000)``, a hash or scheme name is ``(name, None)``."""
    if "<" in key:
        kind, bits = key.split("<", 1)
        return kind, int(bits)
    return key, None


def _normalized_key(key: str) -> str:
    """A sunset entry's name as the table keeps it; :class:`ImproperlyConfigured` for one
    nobody knows, lest a typo leave a weak algorithm trusted."""
    name = key.strip().lower().replace(" ", "")
    if "<" in name:
        kind, _, bits = name.partition("<")
        # ASCII digits only: "³⁰⁰⁰" passes str.isdigit(), and int() cannot read it
        if kind in SIZED_KEYS and bits.isascii() and bits.isdigit() and 0 < int(bits) <= 65536:
            return f"{kind}<{int(bits)}"
    elif name in KNOWN_MECHANISMS:
        return name
    elif hash_name(name) in KNOWN_HASHES:
        return hash_name(name)
    raise ImproperlyConfigured(
        f"DOCUMENTS_ALGORITHM_SUNSETS names {key.strip()!r}, which is no hash "
        f"({', '.join(sorted(KNOWN_HASHES))}), no signature scheme "
        f"({', '.join(sorted(KNOWN_MECHANISMS))}) and no key length such as rsa<3000, "
        "dsa<3000 or ec<256."
    )


def _sunset_date(key: str, value: Any) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # no sunset: the entry is removed
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"DOCUMENTS_ALGORITHM_SUNSETS: {key.strip()}={value!r} is no date (YYYY-MM-DD)."
        ) from None
