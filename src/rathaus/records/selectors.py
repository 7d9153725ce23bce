"""Reads of the electronic file that are more than a ``get``."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from rathaus.core.models import Authority
from rathaus.records.models import (
    DisposalItem,
    DocumentVersion,
    File,
    LegalHold,
    RecordDocument,
)


def held() -> Exists:
    """For a ``File`` queryset: the file has a legal hold that has not been released."""
    return Exists(LegalHold.objects.filter(file=OuterRef("pk"), released_at__isnull=True))


def _in_open_run() -> Exists:
    return Exists(
        DisposalItem.objects.filter(file=OuterRef("pk"), active=True, disposed_at__isnull=True)
    )


def files_due_for_disposal(
    *, authority: Authority | None = None, on: datetime.date | None = None
) -> QuerySet[File]:
    """Closed files whose retention period has run out by ``on`` (today), oldest due first,
    each annotated with ``held`` (a legal hold stops its disposal).

    Files kept permanently have no due date and never appear; disposed files neither.
    """
    on = on or timezone.localdate()
    files = File.objects.filter(
        closed_at__isnull=False,
        disposal_due_on__isnull=False,
        disposal_due_on__lte=on,
        disposed_on__isnull=True,
    ).annotate(held=held())
    if authority is not None:
        files = files.filter(authority=authority)
    return files.select_related("authority", "plan_entry", "org_unit").order_by(
        "disposal_due_on", "reference"
    )


def documents_of(file: File) -> QuerySet[RecordDocument]:
    """The file's documents in the order they were filed, with their versions."""
    return file.documents.prefetch_related("versions").order_by("created_at", "id")


def latest_version(document: RecordDocument) -> DocumentVersion | None:
    return document.versions.order_by("-number").first()


def files_ready_for_disposal(*, authority: Authority, on: datetime.date) -> QuerySet[File]:
    """The files a new disposal run of ``authority`` takes: due by ``on``, not on hold, not
    disposed and not in another run that is still open."""
    return (
        files_due_for_disposal(authority=authority, on=on).exclude(held()).exclude(_in_open_run())
    )


def is_on_hold(file: File) -> bool:
    return LegalHold.objects.filter(file=file, released_at__isnull=True).exists()
