"""The citizen's side of a case: answering a request for documents, withdrawing.

Uploads pass the same checks as in the application form (type by content, size, virus scan, a
name that fits the content and a whole file, ``core.uploads.check_upload``) before they go to
the case (``casework.services``), which files them under the name the citizen gave.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from rathaus.accounts.models import User
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.casework import services as casework
from rathaus.casework.errors import CaseworkError
from rathaus.casework.models import DocumentRequest
from rathaus.core import audit
from rathaus.core.uploads import check_upload

MAX_FILES = 10
MAX_NOTE_CHARS = 2000


@dataclass
class AnswerRefused(ApplicationError):
    """The answer cannot be accepted; ``field_errors`` are shown next to the fields."""

    field_errors: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return " ".join(e for errors in self.field_errors.values() for e in errors)


def open_request_for(
    *, application: Application, request_id: str | uuid.UUID
) -> DocumentRequest | None:
    """The open request ``request_id`` of the application's case (None: none such or done)."""
    if application.case_id is None:
        return None
    try:
        return DocumentRequest.objects.select_related("case").get(
            case_id=application.case_id, public_id=request_id
        )
    except (DocumentRequest.DoesNotExist, ValueError, TypeError):
        return None


def too_many_files(count: int) -> str | None:
    """The message for ``count`` files where at most :data:`MAX_FILES` are taken (None: fine);
    the page checks it before it reads a single file."""
    if count > MAX_FILES:
        return _("Please upload at most %(limit)s files.") % {"limit": MAX_FILES}
    return None


def answer_document_request(
    *,
    application: Application,
    request: DocumentRequest,
    files: Sequence[tuple[str, Callable[[], bytes]]],
    note: str,
    actor: User,
) -> DocumentRequest:
    """Check the uploaded files and hand them to the case; the case goes back to review.

    ``files``: each file's name and a function that reads it, called only once the number of
    files is accepted and only as that file is checked: too many files are refused unread."""
    if request.case_id != application.case_id or application.applicant_id != actor.pk:
        raise ApplicationError(_("This request does not belong to your application."))
    errors: dict[str, list[str]] = {}
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        errors["note"] = [
            _("Please keep your comment under %(limit)s characters.") % {"limit": MAX_NOTE_CHARS}
        ]
    if not files:
        errors["files"] = [_("Please choose at least one file.")]
    elif refusal := too_many_files(len(files)):
        errors["files"] = [refusal]
    checked: list[tuple[str, str, bytes]] = []
    for name, read in files if "files" not in errors else []:
        verdict = check_upload(name=name, data=read())
        if not verdict.accepted:
            errors.setdefault("files", []).append(f"{name}: {verdict.message}")
        else:
            checked.append((verdict.name, verdict.content_type, verdict.data))
    if errors:
        raise AnswerRefused(field_errors=errors)
    try:
        return casework.receive_documents(request=request, files=checked, actor=actor, note=note)
    except CaseworkError as exc:
        raise ApplicationError(str(exc)) from exc


def withdraw_application(*, application: Application, actor: User) -> Application:
    """The citizen withdraws a submitted application; its case ends as withdrawn."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status != Application.Status.SUBMITTED or locked.case_id is None:
            raise ApplicationError(_("This application can no longer be withdrawn."))
        try:
            casework.withdraw_case(case=locked.case, actor=actor)  # type: ignore[arg-type]
        except CaseworkError as exc:
            raise ApplicationError(
                _("This application has already been decided and can no longer be withdrawn.")
            ) from exc
        locked.status = Application.Status.WITHDRAWN
        locked.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action="application.withdrawn",
            obj=locked,
            before={"status": Application.Status.SUBMITTED},
            after={"status": locked.status},
            municipality=locked.municipality,
        )
    return locked


def citizen_case_context(application: Application) -> dict[str, Any]:
    """What "Meine Anträge" shows of the case: timeline, open request, the issued notice."""
    from rathaus.casework import selectors

    case = application.case
    if case is None:
        return {"case": None}
    notice = selectors.issued_notice(case)
    return {
        "case": case,
        "timeline": selectors.citizen_timeline(case),
        "open_request": selectors.open_request(case),
        "notice": notice,
        "revocations": list(selectors.revocations(case)),
        "can_withdraw": application.status == Application.Status.SUBMITTED and case.is_open,
    }
