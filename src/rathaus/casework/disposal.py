"""What casework does when the E-Akte disposes of a case's file (Aussonderung).

Two receivers of the records signals, connected in ``CaseworkConfig.ready``:

- :func:`release_file` (``file_disposing``, inside the destroying transaction): a case keeps its
  file while it is still being worked on or a letter still has to be posted; otherwise the
  notices and postal tasks let go of the document versions they ``PROTECT``.
- :func:`purge_case` (``file_disposed``, after commit): the case's personal data go (the
  retention period that justified keeping them has run out, Art. 5 Abs. 1 lit. e, Art. 17
  DSGVO); the row with its numbers, dates, status and outcome stays for statistics, and the
  notices keep their SHA-256 and GovChain code so that a citizen's copy can still be proven
  genuine.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.casework.errors import CaseworkError
from rathaus.casework.models import (
    Case,
    CaseEvent,
    CaseNote,
    DocumentRequest,
    Notice,
    PostalDeliveryTask,
)
from rathaus.core import audit
from rathaus.core.purge import APPLICANT_LABEL, purging, unguarded
from rathaus.records.errors import RecordsError
from rathaus.records.models import DocumentVersion, File, RecordDocument

logger = logging.getLogger(__name__)

S = Case.Status
#: The title a purged notice keeps: titles may name people, statistics need none.
PURGED_NOTICE_TITLE = "Bescheid (ausgesondert)"


# --- file_disposing: release the file's versions ----------------------------------------------


def release_file(*, file: File, outcome: str, actor: Any = None) -> list[Case]:
    """Let go of ``file``'s document versions before the E-Akte deletes them, or refuse.

    Runs in the disposal's transaction, so a refusal (:class:`RecordsError`, which the disposal
    records on the run's item) keeps the file and everything in it. Refused while the case is
    not closed or withdrawn (the file may have been closed in the E-Akte directly) or while a
    notice or revocation letter still waits to be posted (the citizen has not received it).
    Otherwise the notices drop their links to the filed PDFs (they keep SHA-256 and GovChain
    code), and the done revocation postal tasks, whose letter is required by
    ``postaltask_letter_for_revocation``, are deleted; notice postal tasks hold no version. The
    audit events of the file, its documents and the deleted tasks lose their values and the
    citizen's name (:func:`rathaus.core.audit.redact`).
    """
    cases = list(
        Case.objects.select_for_update(of=("self",))
        .select_related("authority__municipality")
        .filter(file=file)
        .order_by("pk")
    )
    for case in cases:
        if case.status not in (S.CLOSED, S.WITHDRAWN):
            raise RecordsError(
                _(
                    "Case %(number)s is “%(status)s”; its file can be disposed of only once the "
                    "case is closed or withdrawn."
                )
                % {"number": case.number, "status": case.get_status_display()}
            )
        if case.postal_tasks.filter(status=PostalDeliveryTask.Status.OPEN).exists():
            raise RecordsError(
                _(
                    "Case %(number)s still has a notice or letter to be sent by post; its file "
                    "can be disposed of only after it has been posted."
                )
                % {"number": case.number}
            )
    if not cases:
        return []
    notices = list(
        Notice.objects.filter(
            models.Q(record_version__document__file=file)
            | models.Q(revocation_letter__document__file=file)
        ).values_list("pk", flat=True)
    )
    Notice.objects.filter(record_version__document__file=file).update(record_version=None)
    Notice.objects.filter(revocation_letter__document__file=file).update(revocation_letter=None)
    tasks = PostalDeliveryTask.objects.filter(letter__document__file=file)
    task_ids = list(tasks.values_list("pk", flat=True))
    tasks.delete()
    # The audit events of the file's documents and of the deleted tasks: after the disposal
    # nothing finds them by case any more, so their values go now, and the citizen's name on
    # the documents they sent (records redacts the values again, without knowing the citizen).
    redacted = {
        File: [file.pk],
        RecordDocument: list(RecordDocument.objects.filter(file=file).values_list("pk", flat=True)),
        DocumentVersion: list(
            DocumentVersion.objects.filter(document__file=file).values_list("pk", flat=True)
        ),
        PostalDeliveryTask: task_ids,
    }
    for case in cases:
        audit.redact(targets=redacted, person=case.applicant, role=APPLICANT_LABEL)
        audit.record(
            actor=actor,
            action="case.file_released_for_disposal",
            obj=case,
            after={
                "file": file.reference,
                "outcome": outcome,
                "notices": sorted(notices),
                "postal_tasks_deleted": task_ids,
            },
            municipality=case.authority.municipality,
        )
    return cases


def on_file_disposing(sender: Any, *, file: File, outcome: str, **kwargs: Any) -> None:
    """Receiver of ``records.signals.file_disposing``."""
    release_file(file=file, outcome=outcome)


# --- file_disposed: purge the personal data ---------------------------------------------------


@dataclass
class PurgeResult:
    """How many rows :func:`purge_case` changed; all zero when there was nothing left to do."""

    case: int = 0
    notices: int = 0
    notes: int = 0
    requests: int = 0
    events: int = 0
    audit_events: int = 0
    pdfs: int = 0

    def __bool__(self) -> bool:
        return any(asdict(self).values())


def _purged_event_data(data: Any) -> Any:
    """An event's details without personal text: the names of the citizen's files go (their
    SHA-256 stays); everything else there is ids, dates and statuses."""
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return data
    return {
        **data,
        "files": [
            {"sha256": f.get("sha256", "")} if isinstance(f, dict) else {} for f in data["files"]
        ],
    }


def purge_case(*, case: Case, actor: Any = None) -> PurgeResult:
    """Purge the personal data of ``case`` once its file has been disposed of.

    Cleared: the applicant's name (and with it the generated ``name_vector`` search column on
    PostgreSQL, migration 0007) and link, the submitted particulars, the notices' texts (title
    neutral) and stored PDFs, the clerks' notes, the requests' descriptions and the citizen's
    comments, and the notes and file names in the history (``CaseEvent``, past its append-only
    trigger through :func:`rathaus.core.purge.purging`), where the citizen's own events also lose
    the link to the account and its label (``APPLICANT_LABEL`` instead of the e-mail address);
    the values of the audit events of the case, its notices, requests and postal tasks
    (:func:`rathaus.core.audit.redact`). Kept: the case row with number, dates, status, outcome
    and authority; the notices' status, dates, SHA-256 and GovChain codes; the clerks' names in
    the history and the audit trail, and what was done when.

    Idempotent: a second call changes nothing and returns an empty result; it retries the
    deletion of PDFs the storage could not delete before. Raises :class:`CaseworkError` for a
    case whose file has not been disposed of: its data are still within their retention period.
    """
    result = PurgeResult()
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("file", "authority__municipality")
            .get(pk=case.pk)
        )
        if locked.file is None or not locked.file.is_disposed:
            raise CaseworkError(
                _("Case %(number)s keeps its personal data until its file has been disposed of.")
                % {"number": locked.number}
            )
        # the citizen's own events name the citizen (``actor_label`` is the account's e-mail)
        citizen = locked.applicant
        citizen_events = (
            models.Q(actor=citizen) | models.Q(actor_label=str(citizen))
            if citizen is not None
            else None
        )
        if (
            locked.purged_on is None
            or locked.applicant_name
            or locked.particulars
            or locked.applicant_id is not None
        ):
            locked.applicant_name = ""
            locked.particulars = {}
            locked.applicant = None
            locked.purged_on = locked.purged_on or timezone.localdate()
            locked.save(update_fields=["applicant_name", "particulars", "applicant", "purged_on"])
            result.case = 1
        purged_notice = {
            "title": PURGED_NOTICE_TITLE,
            "body": "",
            "legal_basis": "",
            "remedy": "",
            "revocation_reason": "",
            "revocation_legal_basis": "",
        }
        result.notices = (
            Notice.objects.filter(case=locked).exclude(**purged_notice).update(**purged_notice)
        )
        result.requests = (
            DocumentRequest.objects.filter(case=locked)
            .exclude(description="", answer_note="")
            .update(description="", answer_note="")
        )
        by_citizen: set[int] = set()
        if citizen_events is not None:
            by_citizen.update(
                CaseEvent.objects.filter(citizen_events, case=locked).values_list("pk", flat=True)
            )
        events = [
            (event.pk, _purged_event_data(event.data), event.pk in by_citizen)
            for event in CaseEvent.objects.filter(case=locked).only("pk", "note", "data")
            if event.note or _purged_event_data(event.data) != event.data or event.pk in by_citizen
        ]
        with purging():
            result.notes = unguarded(CaseNote).filter(case=locked).exclude(text="").update(text="")
            for pk, data, citizens in events:
                rows = unguarded(CaseEvent).filter(pk=pk)
                if citizens:
                    rows.update(note="", data=data, actor=None, actor_label=APPLICANT_LABEL)
                else:
                    rows.update(note="", data=data)
        result.events = len(events)
        result.audit_events = audit.redact(
            targets={
                Case: [locked.pk],
                Notice: Notice.objects.filter(case=locked).values_list("pk", flat=True),
                DocumentRequest: DocumentRequest.objects.filter(case=locked).values_list(
                    "pk", flat=True
                ),
                PostalDeliveryTask: locked.postal_tasks.values_list("pk", flat=True),
            },
            person=citizen,
            role=APPLICANT_LABEL,
            keep=["case.purged", "case.file_released_for_disposal"],
        )
        pdfs = list(Notice.objects.filter(case=locked).exclude(pdf="").values_list("pk", "pdf"))
        result.pdfs = len(pdfs)
        if result:
            audit.record(
                actor=actor,
                action="case.purged",
                obj=locked,
                after={"purged_on": locked.purged_on.isoformat(), **asdict(result)},
                municipality=locked.authority.municipality,
            )
        transaction.on_commit(partial(_delete_notice_pdfs, pdfs))
    return result


def _delete_notice_pdfs(pdfs: list[tuple[int, str]]) -> None:
    """After the purge committed: delete each stored notice PDF, then forget its name. A PDF
    the storage could not delete keeps its name, so the next :func:`purge_case` retries it."""
    storage = Notice._meta.get_field("pdf").storage
    for pk, name in pdfs:
        try:
            storage.delete(name)
        except Exception as exc:  # any storage failure: keep the name, retry later
            logger.error("casework: could not delete notice PDF %s: %r", name, exc)
            continue
        Notice.objects.filter(pk=pk, pdf=name).update(pdf="")


def purge_cases_of_file(*, file_id: int, actor: Any = None) -> list[PurgeResult]:
    """Purge every case whose file is ``file_id`` (one, as ``Case.file`` is one-to-one)."""
    return [purge_case(case=case, actor=actor) for case in Case.objects.filter(file_id=file_id)]


def purge_disposed_cases(*, actor: Any = None) -> int:
    """Purge the cases whose file was disposed of but which are not purged yet, or still have
    a notice PDF in the storage (a receiver that failed, or a storage that was unavailable:
    ``file_disposed`` is sent only once). Returns how many cases changed."""
    pending = (
        Case.objects.filter(file__disposed_on__isnull=False)
        .filter(
            models.Q(purged_on__isnull=True)
            | models.Exists(Notice.objects.filter(case=models.OuterRef("pk")).exclude(pdf=""))
        )
        .order_by("pk")
    )
    return sum(1 for case in pending if purge_case(case=case, actor=actor))


def on_file_disposed(sender: Any, *, file_id: int, **kwargs: Any) -> None:
    """Receiver of ``records.signals.file_disposed`` (sent robustly: a failure is logged)."""
    purge_cases_of_file(file_id=file_id)
