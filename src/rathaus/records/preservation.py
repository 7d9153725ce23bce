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
   ``RECORDS_ARCHIVE_TIMESTAMP_RENEW_DAYS`` (default 365), or whose stamp uses a hash algorithm
   listed in ``RECORDS_WEAK_HASH_ALGORITHMS`` (its message imprint's or its signature's, read
   from the token), gets a renewed copy from
   :func:`rathaus.documents.seal.renew_archive_timestamp`, stamped with
   ``RECORDS_ARCHIVE_TIMESTAMP_HASH``, filed as the document's next version (also in closed
   files: it preserves the content and changes nothing in it), audited with the reason.

A hash algorithm has to be replaced before it becomes breakable (BSI TR-ESOR, RFC 4998 § 5.2,
ETSI EN 319 102-1): a document time stamp hashes the whole file, earlier stamps included, so a
new stamp with a strong hash renews the hash as well as the time stamp.

The renewed file is the issued file with an appended revision: its first bytes are exactly the
issued document, whose SHA-256 GovChain logged. A renewal the TSA refuses is recorded on the
stamp, logged as an error and tried again a week later (:data:`RETRY_AFTER`); so is a renewal
whose new stamp would expire no later than the old one (the TSA has not replaced its
certificate yet), or that the TSA signed with a weak hash.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from asn1crypto import algos
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader

from rathaus.core import audit
from rathaus.documents.seal import SealError, archive_timestamp_expiry, renew_archive_timestamp
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
#: The hash algorithms asn1crypto knows by name (the names the settings use).
KNOWN_HASHES = frozenset(algos.DigestAlgorithmId._map.values())


def hash_name(name: str) -> str:
    """asn1crypto's name of a hash algorithm as an operator may write it: ``SHA-256`` is
    ``sha256``, ``SHA3-512`` is ``sha3_512``, ``SHA-512/256`` is ``sha512_256``."""
    return name.strip().lower().replace("sha-", "sha").replace("-", "_").replace("/", "_")


def weak_hash_algorithms() -> frozenset[str]:
    """``RECORDS_WEAK_HASH_ALGORITHMS`` (a list, or a comma-separated string); a name nobody
    knows is refused, lest a typo leave a weak hash unrenewed."""
    names: str | Iterable[str] = getattr(
        settings, "RECORDS_WEAK_HASH_ALGORITHMS", DEFAULT_WEAK_HASH_ALGORITHMS
    )
    if isinstance(names, str):
        names = names.split(",")
    weak = frozenset(hash_name(name) for name in names if name.strip())
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


class StampAlgorithms(NamedTuple):
    """The hash algorithms a document time stamp rests on."""

    imprint: str  #: of its message imprint: the hash of the document (RFC 3161 § 2.4.2)
    signature: str  #: of the TSA's signature over the token (its signer's digest algorithm)


def archive_timestamp_algorithms(pdf: bytes) -> StampAlgorithms | None:
    """The hash algorithms of the newest document time stamp in ``pdf``, read from the token
    itself; None without one, :class:`SealError` when it cannot be read. RFC 8933 requires a
    signature algorithm that names a hash of its own (sha256WithRSAEncryption) to name the
    signer's digest algorithm, and pyHanko refuses a token where they differ, so the digest
    algorithm is the signature's hash."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        stamps = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
        if not stamps:
            return None
        token = stamps[-1].signed_data
        info = token["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]["hash_algorithm"]["algorithm"].native
        signature = token["signer_infos"][0]["digest_algorithm"]["algorithm"].native
    except Exception as exc:  # pyHanko and asn1crypto raise many kinds for damaged files
        raise SealError(f"The document time stamp cannot be read: {exc}") from exc
    return StampAlgorithms(imprint=str(imprint), signature=str(signature))


def weak_algorithms_of(stamp: ArchiveTimestamp, weak: frozenset[str]) -> list[str]:
    """Which of the recorded hash algorithms of ``stamp`` are in ``weak``."""
    return sorted(weak & {stamp.imprint_algorithm, stamp.signature_algorithm})


@dataclass
class PreservationResult:
    """What one run of the job did."""

    checked: int = 0
    renewed: list[str] = field(default_factory=list)  # "<file reference> <document> v<n>"
    failed: list[str] = field(default_factory=list)  # the same, with the reason
    #: why nothing was renewed at all (a configuration that must be corrected), else ""
    problem: str = ""


def record_archive_timestamps(*, limit: int = 500) -> int:
    """Record the archive time stamp (expiry and hash algorithms) of the notices' PDF versions
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
                "imprint_algorithm": algorithms.imprint if algorithms else "",
                "signature_algorithm": algorithms.signature if algorithms else "",
                "problem": problem,
                "problem_at": timezone.now() if problem else None,
            },
        )
        count += 1
    return count + read_missing_algorithms(limit=limit)


def read_missing_algorithms(*, limit: int = 500, now: datetime | None = None) -> int:
    """Read the hash algorithms of stamps recorded before they were kept (an expiry but no
    algorithms), in files not disposed of and not renewed yet: a batch per run, like new
    versions, rather than all at once in a migration (which would read every PDF of a large
    archive in one transaction during the deployment). A stamp that cannot be read gets the
    problem and is tried again after :data:`RETRY_AFTER`; returns how many were read."""
    now = now or timezone.now()
    stamps = (
        ArchiveTimestamp.objects.filter(
            expires_at__isnull=False,
            imprint_algorithm="",
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
            ArchiveTimestamp.objects.filter(pk=stamp.pk).update(
                imprint_algorithm=algorithms.imprint, signature_algorithm=algorithms.signature
            )
        count += 1
    return count


#: A renewal that failed is tried again after this long (every day would ask the TSA for a
#: stamp per document per day while, say, its certificate has not been replaced yet).
RETRY_AFTER = timedelta(days=7)


def due_for_renewal(
    *, now: datetime | None = None, limit: int | None = None
) -> list[ArchiveTimestamp]:
    """Stamps of latest versions, in files not disposed of, whose TSA certificate expires within
    :func:`renew_within` or that use a hash of :func:`weak_hash_algorithms`, that no later
    version renewed and whose last failed renewal (if any) is :data:`RETRY_AFTER` ago; soonest
    expiry first, at most ``limit``."""
    now = now or timezone.now()
    weak = weak_hash_algorithms()
    newer = DocumentVersion.objects.filter(
        document=OuterRef("version__document"), number__gt=OuterRef("version__number")
    )
    stamps = (
        ArchiveTimestamp.objects.filter(
            Q(expires_at__lte=now + renew_within())
            | Q(imprint_algorithm__in=weak)
            | Q(signature_algorithm__in=weak),
            expires_at__isnull=False,
            renewed_by__isnull=True,
            version__document__file__disposed_on__isnull=True,
        )
        .exclude(Exists(newer))
        .exclude(problem_at__gt=now - RETRY_AFTER)
        .select_related("version__document__file")
        .order_by("expires_at", "pk")
    )
    return list(stamps if limit is None else stamps[:limit])


def renew(stamp: ArchiveTimestamp, *, now: datetime | None = None) -> DocumentVersion:
    """File a copy of ``stamp``'s version with a renewed archive time stamp, hashed with
    :func:`renewal_hash`, as the document's next version. :class:`SealError` when it cannot be
    renewed (the TSA answers with a weak hash, too), :class:`RecordsError` when the
    file was disposed of or the version renewed meanwhile (:class:`IntegrityError` for a stored
    content that no longer matches its hash), :class:`ImproperlyConfigured` for a renewal hash
    listed weak: nothing is filed then."""
    now = now or timezone.now()
    algorithm = renewal_hash()
    weak = weak_hash_algorithms()
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
        expiring = current.expires_at is not None and current.expires_at <= now + renew_within()
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
        if still_weak := sorted(weak & set(algorithms)):
            # asked for a strong hash, a TSA may still sign with a weak one
            raise SealError(
                f"The time-stamping authority stamped with {algorithms.imprint} (message "
                f"imprint) and {algorithms.signature} (signature), asked for {algorithm}; "
                f"{', '.join(still_weak)} is listed in RECORDS_WEAK_HASH_ALGORITHMS. The renewal "
                "needs a TSA that signs with a strong hash."
            )
        version = add_preservation_copy(
            document=document,
            content=renewed,
            original_name=current.version.original_name,
            content_type=PDF,
        )
        ArchiveTimestamp.objects.create(
            version=version,
            expires_at=expires,
            imprint_algorithm=algorithms.imprint,
            signature_algorithm=algorithms.signature,
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
            },
            after={
                "version": version.number,
                "expires": _iso(expires),
                "file": file.reference,
                "imprint_algorithm": algorithms.imprint,
                "signature_algorithm": algorithms.signature,
                # why: the TSA certificate expires soon and/or a hash it used is weak now
                "reasons": (["certificate_expires"] if expiring else [])
                + (["weak_hash"] if weakened else []),
                "weak_algorithms": weakened,
            },
            municipality=file.authority.municipality,
        )
    return version


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def renew_archive_timestamps(
    *, now: datetime | None = None, limit: int = 500
) -> PreservationResult:
    """The daily job: record new versions' stamps, then renew those due (see the module). With
    a renewal hash that is itself listed weak (or an unknown name in either setting) nothing is
    renewed: the job says why in ``problem`` and logs it as an error."""
    result = PreservationResult(checked=record_archive_timestamps(limit=limit))
    try:
        renewal_hash()
        weak = weak_hash_algorithms()
    except ImproperlyConfigured as exc:
        logger.error("records: no archive time stamp renewed: %s", exc)
        result.problem = str(exc)
        return result
    for stamp in due_for_renewal(now=now, limit=limit):
        version = stamp.version
        label = f"{version.document.file.reference} {version.document.title} v{version.number}"
        if weakened := weak_algorithms_of(stamp, weak):
            label += f" (weak hash: {', '.join(weakened)})"
        try:
            renewed = renew(stamp, now=now)
        except Exception as exc:  # one stamp's failure must not stop the others
            if not isinstance(exc, SealError | RecordsError):
                logger.exception("records: renewing the archive time stamp of %s failed", label)
            ArchiveTimestamp.objects.filter(pk=stamp.pk).update(
                problem=str(exc)[:500], problem_at=now or timezone.now()
            )
            logger.error("records: archive time stamp of %s not renewed: %s", label, exc)
            result.failed.append(f"{label}: {exc}")
        else:
            result.renewed.append(f"{label} -> v{renewed.number}")
    return result
