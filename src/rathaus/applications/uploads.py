"""Uploads in application forms: checked by content and by the virus scanner, then stored."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application, Attachment, PendingFileDeletion
from rathaus.core.stored_files import delete_pending
from rathaus.core.uploads import UploadPolicy, check_upload, kept_file, sniff_type
from rathaus.forms.schema import Field, FormSchema

logger = logging.getLogger(__name__)


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
    """The form engine's upload hook: the files of the application within ``room`` bytes
    together (``None``: no limit), checked first, so that a file that cannot be kept is not
    scanned; then type by content and a ClamAV scan (``core.uploads``)."""

    def __init__(self, *, room: int | None = None) -> None:
        self.room = room

    def inspect(self, upload: UploadedFile, *, field: Field) -> str | None:
        data = _read(upload)
        if self.room is not None and len(data) > self.room:
            return _too_much()
        verdict = check_upload(
            name=upload.name or "",
            data=data,
            policy=UploadPolicy(max_file_bytes=field.max_size_bytes),
        )
        if not verdict.accepted:
            return verdict.message
        if self.room is not None:
            self.room -= verdict.size
        return None


class UploadRoomExceeded(ApplicationError):
    """The files of a step do not fit into the room the application has left (checked again
    under the draft's row lock); ``field_ids`` are the fields whose new files were refused."""

    def __init__(self, *, field_ids: list[str]) -> None:
        self.field_ids = field_ids
        super().__init__(_too_much())


def schema_has_files(schema: FormSchema) -> bool:
    """True if the form asks for files at all (most do not: no attachment query for them)."""
    return any(item.type == "file" for item in schema.all_fields())


def referenced_attachment_ids(schema: FormSchema, answers: Mapping[str, Any]) -> set[str]:
    """The ids of the attachments that the file answers in ``answers`` refer to."""
    return {
        str(descriptor.get("id"))
        for item in schema.all_fields()
        if item.type == "file" and isinstance(answers.get(item.id), list)
        for descriptor in answers[item.id]
        if isinstance(descriptor, dict)
    }


def store_uploads(
    *,
    application: Application,
    uploads: Mapping[str, list[UploadedFile]],
    written: list[Attachment],
) -> dict[str, list[dict[str, Any]]]:
    """Store a step's checked uploads (by field) as attachments; returns their descriptors for
    the answers, by field.

    Call it with the draft's row locked: the total of all the step's files is checked again here,
    before any is written, as two tabs may have uploaded at once, each checked against the files
    stored before either. Every attachment whose file was written is appended to ``written``, so
    that the caller can delete the files if its transaction fails.
    """
    new = {field_id: files for field_id, files in uploads.items() if files}
    if not new:
        return {}
    total = sum(upload.size or 0 for files in new.values() for upload in files)
    if total > upload_room(application):
        raise UploadRoomExceeded(field_ids=list(new))
    stored: dict[str, list[dict[str, Any]]] = {}
    for field_id, files in new.items():
        stored[field_id] = [_store(application, field_id, upload, written) for upload in files]
    return stored


def _store(
    application: Application, field_id: str, upload: UploadedFile, written: list[Attachment]
) -> dict[str, Any]:
    kept = kept_file(name=upload.name or "", data=_read(upload))
    if kept is None:  # checked whole by ScanningInspector; the upload is no longer the same
        raise ApplicationError(
            _("A file changed while it was being saved. Please upload it again.")
        )
    name, data = kept
    digest = hashlib.sha256(data).hexdigest()
    attachment = Attachment(
        application=application,
        field_id=field_id,
        original_name=name,
        # by content (checked by ScanningInspector), not the browser's claim
        content_type=sniff_type(data) or "application/octet-stream",
        size=len(data),
        sha256=digest,
    )
    attachment.file.save(digest, ContentFile(data), save=False)
    written.append(attachment)
    attachment.save()
    return {
        "id": str(attachment.pk),
        "name": attachment.original_name,
        "size": attachment.size,
        "sha256": digest,
    }


def delete_written(attachments: list[Attachment]) -> None:
    """Delete the files written for ``attachments`` whose transaction did not commit."""
    for attachment in attachments:
        try:
            attachment.file.delete(save=False)
        except OSError:
            logger.exception(
                "file of a rolled-back upload not deleted", extra={"file": attachment.file.name}
            )


def delete_files_after_commit(attachments: Iterable[Attachment]) -> None:
    """Delete the stored files of ``attachments`` once their deletion commits (a rolled-back
    deletion keeps them). Each is noted as pending in the caller's transaction, so that a file
    the storage does not delete is retried by :func:`delete_pending_files`, not forgotten."""
    names = [attachment.file.name for attachment in attachments if attachment.file.name]
    if not names:
        return
    PendingFileDeletion.objects.bulk_create([PendingFileDeletion(storage_name=n) for n in names])
    # robust: the deletion never fails the request or job whose transaction has committed, nor
    # keeps the hooks after it (the receipt job) from running
    transaction.on_commit(partial(delete_pending_files, names=names), robust=True)


def delete_pending_files(*, names: Iterable[str] | None = None) -> int:
    """Delete the stored files still pending deletion (all of them, or those ``names``), each
    on its own: one the storage refuses is logged with its storage name, kept for the next run
    (hourly, ``tasks.delete_expired_drafts_job``) and does not stop the others. Returns how many
    are still pending."""
    pending = PendingFileDeletion.objects.all()
    if names is not None:
        pending = pending.filter(storage_name__in=list(names))
    storage = Attachment._meta.get_field("file").storage
    return delete_pending(pending, storage=storage, what="file of a deleted attachment")
