"""Uploads in application forms: checked by content and by the virus scanner, then stored."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Sum
from django.utils.translation import gettext as _

from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application, Attachment
from rathaus.core.uploads import UploadPolicy, check_upload, sniff_type
from rathaus.forms.schema import Field


def _read(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def upload_limit_mb() -> int:
    """The size all files of one application may have together (``APPLICATION_UPLOAD_LIMIT_MB``)."""
    return int(getattr(settings, "APPLICATION_UPLOAD_LIMIT_MB", 50))


def upload_room(application: Application) -> int:
    """How many bytes of files the application may still take."""
    used = application.attachments.aggregate(total=Sum("size"))["total"] or 0
    return upload_limit_mb() * 1024 * 1024 - used


def _too_much() -> str:
    return _(
        "All files of an application may have at most %(size)d MB together. Remove files you "
        "no longer need and save the step, then upload this one again."
    ) % {"size": upload_limit_mb()}


class ScanningInspector:
    """The form engine's upload hook: type by content and a ClamAV scan (``core.uploads``), and
    the files of the application within ``room`` bytes together (``None``: no limit)."""

    def __init__(self, *, room: int | None = None) -> None:
        self.room = room

    def inspect(self, upload: UploadedFile, *, field: Field) -> str | None:
        verdict = check_upload(
            name=upload.name or "",
            data=_read(upload),
            policy=UploadPolicy(max_file_bytes=field.max_size_bytes),
        )
        if not verdict.accepted:
            return verdict.message
        if self.room is not None:
            if verdict.size > self.room:
                return _too_much()
            self.room -= verdict.size
        return None


def store_uploads(
    *, application: Application, field_id: str, uploads: list[UploadedFile]
) -> list[dict[str, Any]]:
    """Store checked uploads as attachments; returns their descriptors for the answers.

    Call it with the draft's row locked: the total is checked again here, as two tabs may have
    uploaded at once, each checked against the files stored before either.
    """
    if sum(upload.size or 0 for upload in uploads) > upload_room(application):
        raise ApplicationError(_too_much())
    descriptors = []
    for upload in uploads:
        data = _read(upload)
        digest = hashlib.sha256(data).hexdigest()
        attachment = Attachment(
            application=application,
            field_id=field_id,
            original_name=(upload.name or "upload")[:255],
            # by content (checked by ScanningInspector), not the browser's claim
            content_type=sniff_type(data) or "application/octet-stream",
            size=len(data),
            sha256=digest,
        )
        attachment.file.save(digest, ContentFile(data), save=False)
        attachment.save()
        descriptors.append(
            {
                "id": str(attachment.pk),
                "name": attachment.original_name,
                "size": attachment.size,
                "sha256": digest,
            }
        )
    return descriptors
