"""Uploads in application forms: checked by content and by the virus scanner, then stored."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from rathaus.applications.models import Application, Attachment
from rathaus.core.uploads import UploadPolicy, check_upload, sniff_type
from rathaus.forms.schema import Field


def _read(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


class ScanningInspector:
    """The form engine's upload hook: type by content and a ClamAV scan (``core.uploads``)."""

    def inspect(self, upload: UploadedFile, *, field: Field) -> str | None:
        verdict = check_upload(
            name=upload.name or "",
            data=_read(upload),
            policy=UploadPolicy(max_file_bytes=field.max_size_bytes),
        )
        return None if verdict.accepted else verdict.message


def store_uploads(
    *, application: Application, field_id: str, uploads: list[UploadedFile]
) -> list[dict[str, Any]]:
    """Store checked uploads as attachments; returns their descriptors for the answers."""
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
