"""What an application loses when the E-Akte disposes of its case's file (Aussonderung).

:func:`purge_application` receives ``records.signals.file_disposed`` (connected in
``ApplicationsConfig.ready``): the retention period that justified keeping the citizen's
declaration has run out (Art. 5 Abs. 1 lit. e, Art. 17 DSGVO), so the answers, the uploaded
files and the receipt go. The row stays, with its reference, dates and status, in the citizen's
"Meine Anträge" and for the payments booked on it: payments are accounting records with a
retention period of their own (§ 147 AO) and are not touched here.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application, Attachment
from rathaus.core import audit
from rathaus.core.purge import APPLICANT_LABEL

logger = logging.getLogger(__name__)


@dataclass
class PurgeResult:
    """What :func:`purge_application` changed; all zero/False when nothing was left to do."""

    application: int = 0
    audit_events: int = 0
    attachments: int = 0
    receipt: int = 0

    def __bool__(self) -> bool:
        return any(asdict(self).values())


def purge_application(*, application: Application, actor: Any = None) -> PurgeResult:
    """Purge the personal data of ``application`` once its case's file has been disposed of.

    Cleared at once: the answers, the frozen declaration (``submitted_data``), the service
    context and the current step. After commit: the stored attachments (then their rows) and the
    receipt PDF (then its name); a file the storage could not delete stays referenced, so the
    next call retries it. The values of the application's audit events, and the citizen's name
    on them (:func:`rathaus.core.audit.redact`). Kept: reference, dates, status, the fee quote
    (what was charged, for the payments) and the receipt's SHA-256 (its GovChain entry still
    proves the citizen's copy genuine). Idempotent. Raises :class:`ApplicationError` while the
    file has not been disposed of: the declaration is still within its retention period.
    """
    result = PurgeResult()
    with transaction.atomic():
        locked = (
            Application.objects.select_for_update(of=("self",))
            .select_related("case__file", "municipality")
            .get(pk=application.pk)
        )
        file = locked.case.file if locked.case is not None else None
        if file is None or not file.is_disposed:
            raise ApplicationError(
                _(
                    "Application %(reference)s keeps its data until the file of its case has "
                    "been disposed of."
                )
                % {"reference": locked.reference or locked.public_id}
            )
        if (
            locked.purged_on is None
            or locked.answers
            or locked.submitted_data
            or locked.context
            or locked.current_step
        ):
            locked.answers = {}
            locked.submitted_data = {}
            locked.context = {}
            locked.current_step = ""
            locked.purged_on = locked.purged_on or timezone.localdate()
            locked.save(
                update_fields=[
                    "answers",
                    "submitted_data",
                    "context",
                    "current_step",
                    "purged_on",
                    "updated_at",
                ]
            )
            result.application = 1
        result.audit_events = audit.redact(
            targets={
                Application: [locked.pk],
                Attachment: locked.attachments.values_list("pk", flat=True),
            },
            person=locked.applicant,
            role=APPLICANT_LABEL,
            keep=["application.purged"],
        )
        attachments = list(locked.attachments.values_list("pk", "file"))
        result.attachments = len(attachments)
        receipt = locked.receipt.name or ""
        result.receipt = int(bool(receipt))
        if result:
            audit.record(
                actor=actor,
                action="application.purged",
                obj=locked,
                after={"purged_on": locked.purged_on.isoformat(), **asdict(result)},
                municipality=locked.municipality,
            )
        transaction.on_commit(
            partial(
                _delete_files, application_id=locked.pk, attachments=attachments, receipt=receipt
            )
        )
    return result


def _delete_files(*, application_id: int, attachments: list[tuple[int, str]], receipt: str) -> None:
    """After the purge committed: delete each stored file, then the row or name that refers to
    it. A failure is logged and leaves the reference for the next :func:`purge_application`."""
    storage = Attachment._meta.get_field("file").storage
    for pk, name in attachments:
        if _delete(storage, name):
            Attachment.objects.filter(pk=pk).delete()
    if receipt:
        receipt_storage = Application._meta.get_field("receipt").storage
        if _delete(receipt_storage, receipt):
            Application.objects.filter(pk=application_id, receipt=receipt).update(receipt="")


def _delete(storage: Any, name: str) -> bool:
    if not name:
        return True
    try:
        storage.delete(name)
    except Exception as exc:  # any storage failure: keep the reference, retry later
        logger.error("applications: could not delete %s: %r", name, exc)
        return False
    return True


def purge_applications_of_file(*, file_id: int, actor: Any = None) -> list[PurgeResult]:
    """Purge the application whose case has the file ``file_id`` (one at most)."""
    return [
        purge_application(application=application, actor=actor)
        for application in Application.objects.filter(case__file_id=file_id)
    ]


def purge_disposed_applications(*, actor: Any = None) -> int:
    """Purge the applications whose case's file was disposed of but which are not purged yet or
    still have a stored file (a failed receiver or storage: ``file_disposed`` is sent once).
    Returns how many applications changed."""
    pending = (
        Application.objects.filter(case__file__disposed_on__isnull=False)
        .filter(
            models.Q(purged_on__isnull=True)
            | ~models.Q(receipt="")
            | models.Exists(Attachment.objects.filter(application=models.OuterRef("pk")))
        )
        .order_by("pk")
    )
    return sum(
        1 for application in pending if purge_application(application=application, actor=actor)
    )


def on_file_disposed(sender: Any, *, file_id: int, **kwargs: Any) -> None:
    """Receiver of ``records.signals.file_disposed`` (sent robustly: a failure is logged)."""
    purge_applications_of_file(file_id=file_id)
