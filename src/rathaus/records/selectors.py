"""Reads of the electronic file that are more than a ``get``."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from rathaus.core.models import Authority
from rathaus.records.models import DocumentVersion, File, RecordDocument


def files_due_for_disposal(
    *, authority: Authority | None = None, on: datetime.date | None = None
) -> QuerySet[File]:
    """Closed files whose retention period has run out by ``on`` (today), oldest due first.

    Files kept permanently have no due date and never appear.
    """
    on = on or timezone.localdate()
    files = File.objects.filter(
        closed_at__isnull=False, disposal_due_on__isnull=False, disposal_due_on__lte=on
    )
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
