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
   ``RECORDS_ARCHIVE_TIMESTAMP_RENEW_DAYS`` (default 365) gets a renewed copy from
   :func:`rathaus.documents.seal.renew_archive_timestamp`, filed as the document's next version
   (also in closed files: it preserves the content and changes nothing in it), audited.

The renewed file is the issued file with an appended revision: its first bytes are exactly the
issued document, whose SHA-256 GovChain logged. A renewal the TSA refuses is recorded on the
stamp, logged as an error and tried again a week later (:data:`RETRY_AFTER`); so is a renewal
whose new stamp would expire no later than the old one (the TSA has not replaced its
certificate yet).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from rathaus.core import audit
from rathaus.documents.seal import SealError, archive_timestamp_expiry, renew_archive_timestamp
from rathaus.records.errors import IntegrityError, RecordsError
from rathaus.records.models import ArchiveTimestamp, DocumentKind, DocumentVersion, File
from rathaus.records.services import add_preservation_copy, read_version

logger = logging.getLogger(__name__)

PDF = "application/pdf"


def renew_within() -> timedelta:
    return timedelta(days=int(getattr(settings, "RECORDS_ARCHIVE_TIMESTAMP_RENEW_DAYS", 365)))


@dataclass
class PreservationResult:
    """What one run of the job did."""

    checked: int = 0
    renewed: list[str] = field(default_factory=list)  # "<file reference> <document> v<n>"
    failed: list[str] = field(default_factory=list)  # the same, with the reason


def record_archive_timestamps(*, limit: int = 500) -> int:
    """Record the archive time stamp of the notices' PDF versions not looked at yet (in files not
    disposed of); returns how many were read. Only notices: they are what the authority seals;
    the files citizens uploaded are never parsed here."""
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
        try:
            expires = archive_timestamp_expiry(read_version(version))
        except (IntegrityError, SealError) as exc:
            problem = str(exc)[:500]
            logger.error(
                "records: archive time stamp of version %s unreadable: %s", version.pk, exc
            )
        ArchiveTimestamp.objects.get_or_create(
            version=version,
            defaults={
                "expires_at": expires,
                "problem": problem,
                "problem_at": timezone.now() if problem else None,
            },
        )
        count += 1
    return count


#: A renewal that failed is tried again after this long (every day would ask the TSA for a
#: stamp per document per day while, say, its certificate has not been replaced yet).
RETRY_AFTER = timedelta(days=7)


def due_for_renewal(*, now: datetime | None = None) -> list[ArchiveTimestamp]:
    """Stamps of latest versions, in files not disposed of, whose TSA certificate expires within
    :func:`renew_within`, that no later version renewed and whose last failed renewal (if any)
    is :data:`RETRY_AFTER` ago; soonest first."""
    now = now or timezone.now()
    newer = DocumentVersion.objects.filter(
        document=OuterRef("version__document"), number__gt=OuterRef("version__number")
    )
    return list(
        ArchiveTimestamp.objects.filter(
            expires_at__isnull=False,
            expires_at__lte=now + renew_within(),
            renewed_by__isnull=True,
            version__document__file__disposed_on__isnull=True,
        )
        .exclude(Exists(newer))
        .exclude(problem_at__gt=now - RETRY_AFTER)
        .select_related("version__document__file")
        .order_by("expires_at", "pk")
    )


def renew(stamp: ArchiveTimestamp) -> DocumentVersion:
    """File a copy of ``stamp``'s version with a renewed archive time stamp as the document's
    next version. :class:`SealError` when it cannot be renewed, :class:`RecordsError` when the
    file was disposed of or the version renewed meanwhile (:class:`IntegrityError` for a stored
    content that no longer matches its hash): nothing is filed then."""
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
        renewed = renew_archive_timestamp(read_version(current.version))
        expires = archive_timestamp_expiry(renewed)
        if expires is None or (current.expires_at is not None and expires <= current.expires_at):
            # The TSA still signs with the certificate that is about to expire (or an older
            # one): a copy stamped with it would be due again at once.
            raise SealError(
                f"The time-stamping authority signs with a certificate that expires on "
                f"{_iso(expires)}, not later than the stamp to renew ({_iso(current.expires_at)}); "
                "the renewal needs a TSA certificate that outlives it."
            )
        version = add_preservation_copy(
            document=document,
            content=renewed,
            original_name=current.version.original_name,
            content_type=PDF,
        )
        ArchiveTimestamp.objects.create(version=version, expires_at=expires)
        current.renewed_by = version
        current.problem, current.problem_at = "", None
        current.save(update_fields=["renewed_by", "problem", "problem_at"])
        audit.record(
            actor=None,
            action="records.archive_timestamp_renewed",
            obj=version,
            before={"version": current.version.number, "expires": _iso(current.expires_at)},
            after={"version": version.number, "expires": _iso(expires), "file": file.reference},
            municipality=file.authority.municipality,
        )
    return version


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def renew_archive_timestamps(
    *, now: datetime | None = None, limit: int = 500
) -> PreservationResult:
    """The daily job: record new versions' stamps, then renew those due (see the module)."""
    result = PreservationResult(checked=record_archive_timestamps(limit=limit))
    for stamp in due_for_renewal(now=now)[:limit]:
        version = stamp.version
        label = f"{version.document.file.reference} {version.document.title} v{version.number}"
        try:
            renewed = renew(stamp)
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
