"""Preservation of sealed documents: the archive time stamp (PAdES B-LTA) is renewed in time.

A sealed notice carries a document time stamp over its seal and validation data. Its evidence
holds while the certificate of the time-stamping authority (TSA) is valid; before that expires,
a new document time stamp has to cover the old one together with the old stamp's validation data
(ETSI EN 319 142-1, B-LTA; BSI TR-ESOR speaks of "Übersignatur"). The daily job
:func:`renew_archive_timestamps` does that for the E-Akte:

1. it reads the notices' PDF versions it has not seen yet (a batch per run; notices are what
   the authority seals, uploaded files are never parsed) and records the expiry of
   their newest document time stamp (:class:`~rathaus.records.models.ArchiveTimestamp`), so that
   no PDF is read twice;
2. every latest version whose stamp's certificate expires within
   ``RECORDS_ARCHIVE_TIMESTAMP_RENEW_DAYS`` (default 365), or whose stamp rests on a weak
   algorithm (read from the token), gets a renewed copy from
   :func:`rathaus.documents.seal.renew_archive_timestamp`, stamped with
   ``RECORDS_ARCHIVE_TIMESTAMP_HASH``, filed as the document's next version (also in closed
   files: it preserves the content and changes nothing in it), audited with the reason.
   Weak (:func:`renewal_weakness`): a hash of its message imprint or signature listed in
   ``RECORDS_WEAK_HASH_ALGORITHMS``, its TSA's signature scheme listed in
   ``RECORDS_WEAK_SIGNATURE_ALGORITHMS``, its TSA's key shorter than
   ``RECORDS_MIN_RSA_KEY_BITS`` (RSA, DSA) or ``RECORDS_MIN_EC_KEY_BITS`` (EC) or of a length
   that cannot be read (a curve nobody here knows: ``ec-?``), or anything whose sunset
   (``DOCUMENTS_ALGORITHM_SUNSETS``) falls within the renewal window.

An algorithm has to be replaced before it becomes breakable (BSI TR-ESOR, RFC 4998 § 5.2,
ETSI EN 319 102-1): a document time stamp hashes the whole file, earlier stamps included, so a
new stamp with a strong hash and a strong key renews them as well as the time stamp; the
validation accepts the old stamp as long as the new one was made before its algorithms'
sunset (:mod:`rathaus.documents.algorithms`).

The renewed file is the issued file with an appended revision: its first bytes are exactly the
issued document, whose SHA-256 GovChain logged. A renewal the TSA refuses is recorded on the
stamp, logged as an error and tried again a week later (:data:`RETRY_AFTER`); so is a renewal
whose new stamp would expire no later than the old one (the TSA has not replaced its
certificate yet), and one whose new stamp does not verify (``renew_archive_timestamp`` checks
its signature).

What the TSA's new stamp rests on is judged before it is filed (:class:`RenewalPolicy`):

- on an algorithm that reaches its sunset within the renewal window: refused, and the run
  stops (:class:`WeakTimestampAuthority`): every other renewal would be as weak, and a TSA
  that bills per stamp would be asked in vain; the job reports it as a problem to correct;
- weaker than the stamp it renews (an earlier sunset, or below the recommended minimum where
  the old one was not): refused (:class:`RenewalRefused`), a renewal must not weaken the
  evidence;
- below the recommended minimum (the settings above; RSA-2048, which many TSAs still use, is
  below the BSI's 3000 bits): filed all the same for a stamp that would *lapse* otherwise (its
  TSA certificate expires, or an algorithm reaches its sunset, within the window), since it
  only adds evidence, with a warning; not filed for a stamp due only for being below the
  minimum itself, which it would not make stronger (and would be due again at once): that stamp
  is left, with a warning, and tried again a week later.

The stamps that lapse are renewed first; once the TSA has answered, the other due stamps are
judged by what it signed with, so a TSA below the minimum is asked at most once a run for
nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone

from rathaus.core import audit
from rathaus.documents.algorithms import (
    KNOWN_HASHES,
    KNOWN_MECHANISMS,
    AlgorithmSunsets,
    TokenAlgorithms,
    Weakness,
    configured_sunsets,
    hash_name,
)
from rathaus.documents.seal import (
    SealError,
    archive_timestamp_algorithms,
    archive_timestamp_expiry,
    renew_archive_timestamp,
)
from rathaus.records.errors import IntegrityError, RecordsError
from rathaus.records.models import ArchiveTimestamp, DocumentKind, DocumentVersion, File
from rathaus.records.services import add_preservation_copy, read_version

logger = logging.getLogger(__name__)

PDF = "application/pdf"


def renew_within() -> timedelta:
    return timedelta(days=int(getattr(settings, "RECORDS_ARCHIVE_TIMESTAMP_RENEW_DAYS", 365)))


# -- hash algorithms -----------------------------------------------------------------------

#: Weak today, and refused by pyHanko's validation too. The operator adds e.g. "sha256" when the
#: BSI's catalogue (TR-02102-1) announces its end, years before it becomes breakable.
DEFAULT_WEAK_HASH_ALGORITHMS = ("md2", "md5", "sha1")
#: What a renewal stamps with by default: the longest SHA-2 hash, so that declaring SHA-256 weak
#: (the next step foreseeable) needs no second setting, at no extra cost on 64-bit machines.
DEFAULT_RENEWAL_HASH = "sha512"
#: What a renewal may stamp with: hashes of 256 bits and more that TSAs offer for RFC 3161.
RENEWAL_HASHES = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"})


def _names(setting: str, value: object) -> list[str]:
    """The names of list setting ``setting``: a list (tuple, set) of names, or a comma-separated
    string (from the environment). :class:`ImproperlyConfigured` for anything else (``None``, a
    number, a list holding one), which would otherwise stop ``check --deploy`` and the daily
    job with a ``TypeError`` instead of saying which setting to correct."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple | set | frozenset) or not all(
        isinstance(name, str) for name in value
    ):
        raise ImproperlyConfigured(
            f"{setting}={value!r} is no list of names; give a list of strings or one "
            "comma-separated string."
        )
    return [name for name in value if name.strip()]


def weak_hash_algorithms() -> frozenset[str]:
    """``RECORDS_WEAK_HASH_ALGORITHMS`` (a list, or a comma-separated string); a name nobody
    knows is refused, lest a typo leave a weak hash unrenewed."""
    names = getattr(settings, "RECORDS_WEAK_HASH_ALGORITHMS", DEFAULT_WEAK_HASH_ALGORITHMS)
    weak = frozenset(hash_name(name) for name in _names("RECORDS_WEAK_HASH_ALGORITHMS", names))
    if unknown := sorted(weak - KNOWN_HASHES):
        raise ImproperlyConfigured(
            f"RECORDS_WEAK_HASH_ALGORITHMS names unknown hash algorithms: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(KNOWN_HASHES))})."
        )
    return weak


def renewal_hash() -> str:
    """``RECORDS_ARCHIVE_TIMESTAMP_HASH``, the hash a renewal stamps with. Refused
    (:class:`ImproperlyConfigured`, and ``check --deploy`` says so: records.E001) when it is no
    hash a renewal can use or when it is listed weak itself: a renewal with it would be due
    again at once and protect nothing."""
    name = hash_name(str(getattr(settings, "RECORDS_ARCHIVE_TIMESTAMP_HASH", DEFAULT_RENEWAL_HASH)))
    if name in weak_hash_algorithms():
        raise ImproperlyConfigured(
            f"RECORDS_ARCHIVE_TIMESTAMP_HASH={name} is itself listed in "
            "RECORDS_WEAK_HASH_ALGORITHMS: renewed stamps would be as weak as those they "
            "replace. No archive time stamp is renewed until a stronger hash is configured "
            "(e.g. sha512 or sha3_512)."
        )
    if name not in RENEWAL_HASHES:
        raise ImproperlyConfigured(
            f"RECORDS_ARCHIVE_TIMESTAMP_HASH={name} is no hash a renewed archive time stamp "
            f"can use; choose one of {', '.join(sorted(RENEWAL_HASHES))}."
        )
    return name


# -- signature schemes and key lengths -----------------------------------------------------

#: DSA is no longer approved for making signatures (FIPS 186-5, 2023) and hardly any TSA uses
#: it; a stamp resting on it is renewed whatever its key length.
DEFAULT_WEAK_SIGNATURE_ALGORITHMS = ("dsa",)
#: BSI TR-02102-1 (from 2024 on): RSA (and DSA) keys of at least 3000 bits; 2000 bits were
#: accepted until the end of 2023. EC curves of at least 250 bits.
DEFAULT_MIN_RSA_KEY_BITS = 3000
DEFAULT_MIN_EC_KEY_BITS = 250
#: What a key-length setting may say: more than this is no setting but a typo.
MAX_KEY_BITS = 16384


def weak_signature_algorithms() -> frozenset[str]:
    """``RECORDS_WEAK_SIGNATURE_ALGORITHMS``: signature schemes no longer trusted, as asn1crypto
    names them (rsassa_pkcs1v15, rsassa_pss, dsa, ecdsa, ed25519, ed448); a list or a
    comma-separated string. A name nobody knows is refused, lest a typo leave a weak stamp
    unrenewed; a combined name such as sha1WithRSAEncryption too: its hash belongs in
    ``RECORDS_WEAK_HASH_ALGORITHMS``, which covers the signature's hash."""
    names = getattr(
        settings, "RECORDS_WEAK_SIGNATURE_ALGORITHMS", DEFAULT_WEAK_SIGNATURE_ALGORITHMS
    )
    weak = frozenset(
        name.strip().lower() for name in _names("RECORDS_WEAK_SIGNATURE_ALGORITHMS", names)
    )
    if unknown := sorted(weak - KNOWN_MECHANISMS):
        raise ImproperlyConfigured(
            f"RECORDS_WEAK_SIGNATURE_ALGORITHMS names unknown signature schemes: "
            f"{', '.join(unknown)} (known: {', '.join(sorted(KNOWN_MECHANISMS))}; a weak hash "
            "such as the SHA-1 of sha1WithRSAEncryption goes into RECORDS_WEAK_HASH_ALGORITHMS)."
        )
    return weak


_KEY_BITS = re.compile(r"\s*[0-9]+\s*")


def _key_bits(name: str, default: int) -> int:
    """A key-length setting: a number, or its digits as text (the environment's)."""
    value = getattr(settings, name, default)
    bits = -1
    if isinstance(value, int) and not isinstance(value, bool):
        bits = value
    elif isinstance(value, str) and _KEY_BITS.fullmatch(value):
        bits = int(value)
    if not 0 <= bits <= MAX_KEY_BITS:
        raise ImproperlyConfigured(
            f"{name}={value!r} is no key length; give the number of bits (0 to {MAX_KEY_BITS}, "
            "0: no minimum)."
        )
    return bits


def min_key_bits() -> dict[str, int]:
    """``RECORDS_MIN_RSA_KEY_BITS`` (for RSA and DSA keys: BSI TR-02102-1 asks the same length
    of both) and ``RECORDS_MIN_EC_KEY_BITS``: a TSA key shorter than these is below the
    recommended minimum. :class:`ImproperlyConfigured` for a setting that cannot be read."""
    rsa_bits = _key_bits("RECORDS_MIN_RSA_KEY_BITS", DEFAULT_MIN_RSA_KEY_BITS)
    ec_bits = _key_bits("RECORDS_MIN_EC_KEY_BITS", DEFAULT_MIN_EC_KEY_BITS)
    return {"rsa": rsa_bits, "dsa": rsa_bits, "ec": ec_bits}


def _min_key_bits_or_defaults() -> dict[str, int]:
    """:func:`min_key_bits`, with the default (BSI TR-02102-1) for a setting that cannot be
    read: a typo must neither stop the renewals nor weaken them. The job warns about it and
    ``check --deploy`` reports it (records.E002)."""
    bits = {}
    for name, default in (
        ("RECORDS_MIN_RSA_KEY_BITS", DEFAULT_MIN_RSA_KEY_BITS),
        ("RECORDS_MIN_EC_KEY_BITS", DEFAULT_MIN_EC_KEY_BITS),
    ):
        try:
            bits[name] = _key_bits(name, default)
        except ImproperlyConfigured:
            bits[name] = default
    rsa_bits, ec_bits = bits["RECORDS_MIN_RSA_KEY_BITS"], bits["RECORDS_MIN_EC_KEY_BITS"]
    return {"rsa": rsa_bits, "dsa": rsa_bits, "ec": ec_bits}


def recommended_minimum() -> Weakness:
    """What the settings call weak, below the recommended minimum: the hashes of
    ``RECORDS_WEAK_HASH_ALGORITHMS``, the schemes of ``RECORDS_WEAK_SIGNATURE_ALGORITHMS``,
    keys shorter than ``RECORDS_MIN_RSA_KEY_BITS`` and ``RECORDS_MIN_EC_KEY_BITS`` (their
    defaults while they cannot be read). :class:`ImproperlyConfigured` for a list that
    cannot be read."""
    return Weakness(
        hashes=weak_hash_algorithms(),
        mechanisms=weak_signature_algorithms(),
        min_key_bits=_min_key_bits_or_defaults(),
    )


def sunset_weakness(*, now: datetime | None = None) -> Weakness:
    """Whatever reaches its sunset (``DOCUMENTS_ALGORITHM_SUNSETS``) within
    :func:`renew_within`: the validation stops trusting it by then."""
    now = now or timezone.now()
    return configured_sunsets().weakness_at(now + renew_within())


def renewal_weakness(*, now: datetime | None = None) -> Weakness:
    """What makes a stamp due for renewal: :func:`recommended_minimum` and
    :func:`sunset_weakness`, so that every stamp is renewed before the validation stops
    trusting it. :class:`ImproperlyConfigured` for a list setting that cannot be read."""
    return recommended_minimum() | sunset_weakness(now=now)


#: The algorithms of a document time stamp, as the job reads and records them.
StampAlgorithms = TokenAlgorithms


def algorithms_of(stamp: ArchiveTimestamp) -> TokenAlgorithms:
    """The algorithms recorded for ``stamp``."""
    return TokenAlgorithms(
        imprint=stamp.imprint_algorithm,
        signature=stamp.signature_algorithm,
        mechanism=stamp.signature_mechanism,
        key_algorithm=stamp.key_algorithm,
        key_bits=stamp.key_bits,
    )


def weak_algorithms_of(stamp: ArchiveTimestamp, weak: Weakness) -> list[str]:
    """Which of the recorded hash algorithms of ``stamp`` are weak."""
    return weak.weak_hashes(algorithms_of(stamp))


def weak_signature_of(stamp: ArchiveTimestamp, weak: Weakness) -> list[str]:
    """What of the recorded signature of ``stamp`` is weak: its scheme (``dsa``), its key
    (``rsa-1024``)."""
    return weak.weak_signature(algorithms_of(stamp))


def _algorithm_fields(algorithms: TokenAlgorithms | None) -> dict[str, object]:
    """The ``ArchiveTimestamp`` fields for ``algorithms`` (all empty for None)."""
    if algorithms is None:
        return {
            "imprint_algorithm": "",
            "signature_algorithm": "",
            "signature_mechanism": "",
            "key_algorithm": "",
            "key_bits": None,
        }
    return {
        "imprint_algorithm": algorithms.imprint[:32],
        "signature_algorithm": algorithms.signature[:32],
        "signature_mechanism": algorithms.mechanism[:32],
        "key_algorithm": algorithms.key_algorithm[:16],
        "key_bits": algorithms.key_bits,
    }


@dataclass
class PreservationResult:
    """What one run of the job did."""

    checked: int = 0
    renewed: list[str] = field(default_factory=list)  # "<file reference> <document> v<n>"
    failed: list[str] = field(default_factory=list)  # the same, with the reason
    #: why nothing (more) was renewed (a configuration or a TSA that must be corrected), else ""
    problem: str = ""
    #: what the run did all the same but should be corrected: a TSA that signs below the
    #: recommended minimum, a key-length setting that cannot be read
    warnings: list[str] = field(default_factory=list)


def record_archive_timestamps(*, limit: int = 500) -> int:
    """Record the archive time stamp (expiry and algorithms) of the notices' PDF versions
    not looked at yet (in files not disposed of), then :func:`read_missing_algorithms`; returns
    how many were read. Only notices: they are what the authority seals; the files citizens
    uploaded are never parsed here."""
    versions = (
        DocumentVersion.objects.filter(
            document__kind=DocumentKind.NOTICE,
            content_type=PDF,
            archive_timestamp__isnull=True,
            document__file__disposed_on__isnull=True,
        )
        .select_related("document")
        .order_by("pk")[:limit]
    )
    count = 0
    for version in versions:
        problem = ""
        expires: datetime | None = None
        algorithms: StampAlgorithms | None = None
        try:
            content = read_version(version)
            expires = archive_timestamp_expiry(content)
            if expires is not None:
                algorithms = archive_timestamp_algorithms(content)
        except (IntegrityError, SealError) as exc:
            problem = str(exc)[:500]
            logger.error(
                "records: archive time stamp of version %s unreadable: %s", version.pk, exc
            )
        ArchiveTimestamp.objects.get_or_create(
            version=version,
            defaults={
                "expires_at": expires,
                **_algorithm_fields(algorithms),
                "problem": problem,
                "problem_at": timezone.now() if problem else None,
            },
        )
        count += 1
    return count + read_missing_algorithms(limit=limit)


def read_missing_algorithms(*, limit: int = 500, now: datetime | None = None) -> int:
    """Read the algorithms of stamps recorded before they were kept (an expiry but no hashes,
    or no signature scheme and key: before migration 0009), in files not disposed of and not
    renewed yet: a batch per run, like new
    versions, rather than all at once in a migration (which would read every PDF of a large
    archive in one transaction during the deployment). A stamp that cannot be read gets the
    problem and is tried again after :data:`RETRY_AFTER`; returns how many were read."""
    now = now or timezone.now()
    stamps = (
        ArchiveTimestamp.objects.filter(
            Q(imprint_algorithm="") | Q(signature_mechanism=""),
            expires_at__isnull=False,
            renewed_by__isnull=True,
            version__document__file__disposed_on__isnull=True,
        )
        .exclude(problem_at__gt=now - RETRY_AFTER)
        .select_related("version__document")
        .order_by("pk")[:limit]
    )
    count = 0
    for stamp in stamps:
        try:
            algorithms = archive_timestamp_algorithms(read_version(stamp.version))
            if algorithms is None:
                raise SealError("The document carries no document time stamp any more.")
        except (IntegrityError, SealError) as exc:
            logger.error(
                "records: archive time stamp of version %s unreadable: %s", stamp.version_id, exc
            )
            ArchiveTimestamp.objects.filter(pk=stamp.pk).update(
                problem=str(exc)[:500], problem_at=now
            )
        else:
            ArchiveTimestamp.objects.filter(pk=stamp.pk).update(**_algorithm_fields(algorithms))
        count += 1
    return count


def _resting_on(weak: Weakness) -> Q:
    """Stamps recorded with an algorithm of ``weak``."""
    rests = (
        Q(imprint_algorithm__in=weak.hashes)
        | Q(signature_algorithm__in=weak.hashes)
        | Q(signature_mechanism__in=weak.mechanisms)
    )
    for kind, bits in weak.min_key_bits.items():
        if bits:  # a key whose length could not be read counts as shorter (Weakness.short_key)
            rests |= Q(key_algorithm=kind, key_bits__lt=bits) | Q(
                key_algorithm=kind, key_bits__isnull=True
            )
    return rests


@dataclass(frozen=True)
class RenewalPolicy:
    """How the job judges a stamp due for renewal and the TSA's new stamp for it.

    A stamp *lapses* when its TSA certificate expires or an algorithm of it reaches its
    sunset: renewed too late, it proves nothing any more. Those are renewed even by a TSA below
    the recommended minimum, as long as the new stamp is no weaker than the old one (it only
    adds evidence). A stamp due only for resting on something below the recommended minimum
    is renewed only by a stamp that is not, lest it be replaced by an equally weak one every
    day. A new stamp on an algorithm that reaches its sunset within the renewal window is
    refused whatever the reason: it would not count for long."""

    now: datetime
    sunsets: AlgorithmSunsets
    #: reaching the sunset within the renewal window
    sunset_weak: Weakness
    #: below the recommended minimum (the settings: :func:`recommended_minimum`)
    below: Weakness

    @classmethod
    def at(cls, now: datetime | None = None) -> RenewalPolicy:
        """:class:`ImproperlyConfigured` for a list setting that cannot be read."""
        now = now or timezone.now()
        sunsets = configured_sunsets()
        return cls(
            now=now,
            sunsets=sunsets,
            sunset_weak=sunsets.weakness_at(now + renew_within()),
            below=recommended_minimum(),
        )

    @property
    def due(self) -> Weakness:
        return self.below | self.sunset_weak

    def expiring(self, stamp: ArchiveTimestamp) -> bool:
        return stamp.expires_at is not None and stamp.expires_at <= self.now + renew_within()

    def lapsing(self, stamp: ArchiveTimestamp) -> bool:
        """Its TSA certificate expires, or an algorithm of it reaches its sunset, within the
        renewal window."""
        return self.expiring(stamp) or bool(self.weak_by_sunset(algorithms_of(stamp)))

    def weak_by_sunset(self, algorithms: TokenAlgorithms) -> list[str]:
        return self.sunset_weak.weak_hashes(algorithms) + self.sunset_weak.weak_signature(
            algorithms
        )

    def below_minimum(self, algorithms: TokenAlgorithms) -> list[str]:
        return self.below.weak_hashes(algorithms) + self.below.weak_signature(algorithms)

    def lasts_until(self, algorithms: TokenAlgorithms) -> date:
        """The earliest sunset of its algorithms: until then it counts as evidence."""
        return min((day for _, day in self.sunsets.sunsets(algorithms)), default=date.max)

    def refusal(self, new: TokenAlgorithms, *, old: TokenAlgorithms, lapsing: bool) -> str:
        """Why a new stamp on ``new`` does not renew a stamp on ``old`` (due because it lapses,
        or not: only because it is below the minimum); "" when it does. The case of a new
        stamp weak by the sunsets is :meth:`weak_by_sunset`'s."""
        tsa = f"The time-stamping authority signs with {_labels(new)}"
        if (ends := self.lasts_until(new)) < self.lasts_until(old):
            ending = min(self.sunsets.sunsets(new), key=lambda part: part[1])[0]
            return (
                f"{tsa}, weaker than the stamp to renew ({_labels(old)}): {ending} counts only "
                f"until {ends.isoformat()}. A renewal must not weaken the evidence; it needs a "
                "TSA at least as strong as the stamp it renews."
            )
        below = self.below_minimum(new)
        if below and not self.below_minimum(old):
            return (
                f"{tsa}, weaker than the stamp to renew ({_labels(old)}): "
                f"{self.below_text(new)}. A renewal must not weaken the evidence; it needs a "
                "TSA at least as strong as the stamp it renews."
            )
        if below and not lapsing:
            sentences = [
                f"{tsa}: {self.below_text(new)}. Its stamp would be no stronger than this one, "
                "which is due only for resting on an algorithm below the recommended minimum "
                "itself, and would be due again at once; the stamp is left as it is."
            ]
            if self.below.weak_hashes(new):
                sentences.append("The renewal needs a TSA that signs with a strong hash.")
            if self.below.weak_signature(new):
                sentences.append("The renewal needs a TSA with a strong signature scheme and key.")
            return " ".join(sentences)
        return ""

    def below_text(self, algorithms: TokenAlgorithms) -> str:
        """What of ``algorithms`` is below the recommended minimum, with the settings that say
        so: ``rsa-2048 below RECORDS_MIN_RSA_KEY_BITS=3000``."""
        parts = []
        if hashes := self.below.weak_hashes(algorithms):
            parts.append(f"{', '.join(hashes)} listed in RECORDS_WEAK_HASH_ALGORITHMS")
        if algorithms.mechanism in self.below.mechanisms:
            parts.append(f"{algorithms.mechanism} listed in RECORDS_WEAK_SIGNATURE_ALGORITHMS")
        if self.below.short_key(algorithms):
            ec = algorithms.key_algorithm == "ec"
            name = "RECORDS_MIN_EC_KEY_BITS" if ec else "RECORDS_MIN_RSA_KEY_BITS"
            minimum = self.below.min_key_bits[algorithms.key_algorithm]
            parts.append(f"{algorithms.key_name()} below {name}={minimum}")
        return "; ".join(parts) + " (below the recommended minimum, BSI TR-02102-1)"


def _labels(algorithms: TokenAlgorithms) -> str:
    return ", ".join(algorithms.labels()) or "unknown algorithms"


#: A renewal that failed is tried again after this long (every day would ask the TSA for a
#: stamp per document per day while, say, its certificate has not been replaced yet).
RETRY_AFTER = timedelta(days=7)


def due_for_renewal(
    *, now: datetime | None = None, limit: int | None = None
) -> list[ArchiveTimestamp]:
    """Stamps of latest versions, in files not disposed of, whose TSA certificate expires within
    :func:`renew_within` or that rest on an algorithm of :func:`renewal_weakness`, that no
    later version renewed and whose last failed renewal (if any) is :data:`RETRY_AFTER` ago;
    those that lapse (:meth:`RenewalPolicy.lapsing`) first, then soonest expiry first, at most
    ``limit``."""
    policy = RenewalPolicy.at(now)
    newer = DocumentVersion.objects.filter(
        document=OuterRef("version__document"), number__gt=OuterRef("version__number")
    )
    lapsing = Q(expires_at__lte=policy.now + renew_within()) | _resting_on(policy.sunset_weak)
    stamps = (
        ArchiveTimestamp.objects.filter(
            lapsing | _resting_on(policy.below),
            expires_at__isnull=False,
            renewed_by__isnull=True,
            version__document__file__disposed_on__isnull=True,
        )
        .exclude(Exists(newer))
        .exclude(problem_at__gt=policy.now - RETRY_AFTER)
        .annotate(
            lapses=Case(When(lapsing, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .select_related("version__document__file")
        .order_by("lapses", "expires_at", "pk")
    )
    return list(stamps if limit is None else stamps[:limit])


class WeakTimestampAuthority(SealError):
    """The TSA signed the renewal with an algorithm that reaches its sunset within the renewal
    window: so it would sign them all, and none would count for long."""


class RenewalRefused(SealError):
    """The TSA's new stamp does not renew this stamp (:meth:`RenewalPolicy.refusal`);
    ``tsa``: what the TSA signs with, to judge the other due stamps by without asking it."""

    def __init__(self, message: str, *, tsa: TokenAlgorithms) -> None:
        super().__init__(message)
        self.tsa = tsa


def renew(stamp: ArchiveTimestamp, *, now: datetime | None = None) -> DocumentVersion:
    """File a copy of ``stamp``'s version with a renewed archive time stamp, hashed with
    :func:`renewal_hash`, as the document's next version. :class:`SealError` when it cannot be
    renewed (:class:`WeakTimestampAuthority` when the TSA signs with an algorithm that reaches
    its sunset within the renewal window, :class:`RenewalRefused` when its stamp would be
    weaker than the one it renews, or no stronger for a stamp due only for being below the
    recommended minimum: :class:`RenewalPolicy`), :class:`RecordsError` when the file was
    disposed of or the version renewed meanwhile (:class:`IntegrityError` for a stored content
    that no longer matches its hash), :class:`ImproperlyConfigured` for a renewal hash listed
    weak or a setting that cannot be read: nothing is filed then."""
    now = now or timezone.now()
    algorithm = renewal_hash()
    policy = RenewalPolicy.at(now)
    weak = policy.due
    with transaction.atomic():
        # the file row is the lock of its documents' version numbers (records.services)
        file = (
            File.objects.select_for_update(of=("self",))
            .select_related("authority__municipality")
            .get(pk=stamp.version.document.file_id)
        )
        # Disposed of since due_for_renewal: the versions and their stamps are gone.
        current = ArchiveTimestamp.objects.select_for_update().filter(pk=stamp.pk).first()
        if current is None or file.is_disposed:
            raise RecordsError(f"The file {file.reference} was disposed of meanwhile.")
        if current.renewed_by_id is not None:
            raise RecordsError("The version was renewed meanwhile.")
        document = current.version.document
        document.file = file
        weakened = weak_algorithms_of(current, weak)
        weak_signature = weak_signature_of(current, weak)
        expiring = policy.expiring(current)
        renewed = renew_archive_timestamp(read_version(current.version), digest_algorithm=algorithm)
        expires = archive_timestamp_expiry(renewed)
        if expires is None or (
            expiring and current.expires_at is not None and expires <= current.expires_at
        ):
            # The TSA still signs with the certificate that is about to expire (or an older
            # one): a copy stamped with it would be due again at once. (A stamp renewed only
            # for its hash may keep the TSA certificate.)
            raise SealError(
                f"The time-stamping authority signs with a certificate that expires on "
                f"{_iso(expires)}, not later than the stamp to renew ({_iso(current.expires_at)}); "
                "the renewal needs a TSA certificate that outlives it."
            )
        algorithms = archive_timestamp_algorithms(renewed)
        if algorithms is None:  # pragma: no cover - the renewal appends a document time stamp
            raise SealError("The renewed copy carries no document time stamp.")
        if sunset := policy.weak_by_sunset(algorithms):
            # asked for a strong hash, a TSA may still sign with a weak one
            raise WeakTimestampAuthority(
                f"The time-stamping authority signs with {_labels(algorithms)} (message imprint "
                f"{algorithms.imprint}, asked for {algorithm}); {', '.join(sunset)} reaches its "
                "sunset within the renewal window or has passed it (DOCUMENTS_ALGORITHM_SUNSETS), "
                "so its stamps would not count for long. The renewal needs a TSA that signs with "
                "a strong hash, signature scheme and key."
            )
        old = algorithms_of(current)
        if refusal := policy.refusal(algorithms, old=old, lapsing=policy.lapsing(current)):
            raise RenewalRefused(refusal, tsa=algorithms)
        version = add_preservation_copy(
            document=document,
            content=renewed,
            original_name=current.version.original_name,
            content_type=PDF,
        )
        ArchiveTimestamp.objects.create(
            version=version, expires_at=expires, **_algorithm_fields(algorithms)
        )
        current.renewed_by = version
        current.problem, current.problem_at = "", None
        current.save(update_fields=["renewed_by", "problem", "problem_at"])
        audit.record(
            actor=None,
            action="records.archive_timestamp_renewed",
            obj=version,
            before={
                "version": current.version.number,
                "expires": _iso(current.expires_at),
                "imprint_algorithm": current.imprint_algorithm,
                "signature_algorithm": current.signature_algorithm,
                "signature_key": old.key_label(),
            },
            after={
                "version": version.number,
                "expires": _iso(expires),
                "file": file.reference,
                "imprint_algorithm": algorithms.imprint,
                "signature_algorithm": algorithms.signature,
                "signature_key": algorithms.key_label(),
                # why: the TSA certificate expires soon, a hash, the TSA's signature scheme
                # or its key length is weak now
                "reasons": (["certificate_expires"] if expiring else [])
                + (["weak_hash"] if weakened else [])
                + (["weak_signature"] if weak_signature else []),
                "weak_algorithms": weakened,
                "weak_signature": weak_signature,
                # the new stamp's TSA signs below the recommended minimum (renewed all the
                # same: the stamp lapsed otherwise, and the new one is no weaker)
                "tsa_below_minimum": policy.below_minimum(algorithms),
            },
            municipality=file.authority.municipality,
        )
    return version


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def renew_archive_timestamps(
    *, now: datetime | None = None, limit: int = 500
) -> PreservationResult:
    """The daily job: record new versions' stamps, then renew those due (see the module).

    With a renewal hash that is itself listed weak (or a list setting that cannot be read)
    nothing is renewed, and a TSA that signs with an algorithm reaching its sunset within the
    renewal window stops the run: the job says why in ``problem`` and logs it as an error.
    A TSA below the recommended minimum still renews the stamps that lapse (those come first);
    the stamps due only for being below the minimum themselves are left (tried again after
    :data:`RETRY_AFTER`), judged by what the TSA signed with before rather than asking it for
    each: the job says so in ``warnings`` and logs it."""
    result = PreservationResult(checked=record_archive_timestamps(limit=limit))
    try:
        renewal_hash()
        policy = RenewalPolicy.at(now)
    except ImproperlyConfigured as exc:
        logger.error("records: no archive time stamp renewed: %s", exc)
        result.problem = str(exc)
        return result
    try:
        min_key_bits()
    except ImproperlyConfigured as exc:
        warning = (
            f"{exc} Until it is corrected, the default applies ({DEFAULT_MIN_RSA_KEY_BITS} bits "
            f"for RSA and DSA, {DEFAULT_MIN_EC_KEY_BITS} for EC; BSI TR-02102-1)."
        )
        logger.error("records: %s", warning)  # a setting to correct: an error
        result.warnings.append(warning)
    #: what the TSA signed this run's last renewal with (None: not asked yet)
    tsa: TokenAlgorithms | None = None
    renewed_below: list[str] = []  # lapsing stamps renewed by a TSA below the minimum
    below_by: TokenAlgorithms | None = None  # what that TSA signed them with
    left: list[tuple[str, str]] = []  # stamps due only for the minimum, the TSA no stronger
    when = now or timezone.now()
    for stamp in due_for_renewal(now=now, limit=limit):
        version = stamp.version
        label = f"{version.document.file.reference} {version.document.title} v{version.number}"
        if weakened := weak_algorithms_of(stamp, policy.due):
            label += f" (weak hash: {', '.join(weakened)})"
        if weak_signature := weak_signature_of(stamp, policy.due):
            label += f" (weak signature: {', '.join(weak_signature)})"
        lapsing = policy.lapsing(stamp)
        try:
            if tsa is not None and (
                refusal := policy.refusal(tsa, old=algorithms_of(stamp), lapsing=lapsing)
            ):
                # judged by what the TSA signs with, without asking it (and paying) again
                raise RenewalRefused(refusal, tsa=tsa)
            renewed = renew(stamp, now=now)
        except Exception as exc:  # one stamp's failure must not stop the others
            if not isinstance(exc, SealError | RecordsError):
                logger.exception("records: renewing the archive time stamp of %s failed", label)
            ArchiveTimestamp.objects.filter(pk=stamp.pk).update(
                problem=str(exc)[:500], problem_at=when
            )
            if isinstance(exc, RenewalRefused):
                tsa = exc.tsa
                if not lapsing:  # nothing lapses: a warning, not a failure
                    logger.warning("records: archive time stamp of %s left: %s", label, exc)
                    left.append((label, str(exc)))
                    continue
            logger.error("records: archive time stamp of %s not renewed: %s", label, exc)
            result.failed.append(f"{label}: {exc}")
            if isinstance(exc, WeakTimestampAuthority):
                # the TSA would sign every other renewal as weakly (and may bill each one)
                result.problem = f"No more archive time stamps renewed in this run: {exc}"
                logger.error("records: %s", result.problem)
                break
        else:
            result.renewed.append(f"{label} -> v{renewed.number}")
            tsa = algorithms_of(ArchiveTimestamp.objects.get(version=renewed))
            if policy.below_minimum(tsa):
                renewed_below.append(label)
                below_by = tsa
    if renewed_below and below_by is not None:
        _warn(
            result,
            f"The time-stamping authority signs with {_labels(below_by)}: "
            f"{policy.below_text(below_by)}. {len(renewed_below)} archive time stamp(s) whose TSA "
            "certificate expires or whose algorithms reach their sunset within the renewal "
            "window were renewed with it all the same: no weaker than the stamps they renew, "
            "the new stamps only add evidence. Ask the TSA for a stronger key (RSA of 3072 "
            "bits or more) or hash.",
        )
    if left:
        label, reason = left[0]
        _warn(
            result,
            f"{len(left)} archive time stamp(s) due only for resting on an algorithm below the "
            f"recommended minimum were left as they are, e.g. {label}: {reason} They are "
            f"tried again in {RETRY_AFTER.days} days.",
        )
    return result


def _warn(result: PreservationResult, warning: str) -> None:
    logger.warning("records: %s", warning)
    result.warnings.append(warning)
