"""Disposal (Aussonderung) of closed files whose retention period has run out.

One run per authority (:class:`~rathaus.records.models.DisposalRun`) goes through the xdomea
steps: the files to evaluate or archive are offered to the archive (0501), the archive decides
per file (0502: A archive, V destroy), the files to archive are handed over (0503) and the
archive confirms their import (0506). The receipts on the way (the archive's 0504 for the offer
and 0507 for the package, the authority's 0505 for the evaluation) are recorded on the run; they
acknowledge a message and change no step. Then, after a person approved it, every file of the run
is disposed of: its documents and versions and their stored contents are deleted, the file row
stays as a tombstone with a neutral title, and a :class:`DisposalRecord` proves what happened.
Files whose plan entry says ``destroy`` skip the archive.

A file on legal hold (:func:`place_hold`) is never taken into a run; a hold placed later (or
reopening the file) withdraws it from its run, and every step checks again.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO

from django.db import IntegrityError as DatabaseIntegrityError
from django.db import router, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.core import audit
from rathaus.core.models import Authority
from rathaus.core.stored_files import delete_pending
from rathaus.records import selectors, xdomea
from rathaus.records.errors import DisposalError, IntegrityError, RecordsError
from rathaus.records.models import (
    Decision,
    DisposalAction,
    DisposalItem,
    DisposalOutcome,
    DisposalRecord,
    DisposalRun,
    DocumentVersion,
    File,
    HoldReason,
    LegalHold,
    PendingContentDeletion,
    RecordDocument,
)
from rathaus.records.services import safe_suffix
from rathaus.records.signals import file_disposed, file_disposing

logger = logging.getLogger(__name__)

# The title a disposed file keeps: titles may name people, the tombstone must not.
DISPOSED_TITLE = "Ausgesonderte Akte"
CHUNK = 1024 * 1024
State = DisposalRun.State


# --- legal hold -------------------------------------------------------------------------------


@transaction.atomic
def place_hold(*, file: File, reason: str, note: str = "", actor: Any) -> LegalHold:
    """Put ``file`` on legal hold (Aussonderungssperre); it leaves a disposal run it is in."""
    if reason not in HoldReason.values:
        raise RecordsError(_("“%s” is not a reason for a legal hold.") % reason)
    locked = File.objects.select_for_update().select_related("authority__municipality")
    current = locked.get(pk=file.pk)
    if current.is_disposed:
        raise RecordsError(_("The file %s has already been disposed of.") % current.reference)
    hold = LegalHold.objects.create(
        file=current,
        reason=reason,
        note=note.strip()[:300],
        placed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    withdrawn = DisposalItem.objects.filter(
        file=current, active=True, disposed_at__isnull=True
    ).update(active=False, note=_("Withdrawn: the file was put on legal hold."))
    audit.record(
        actor=actor,
        action="records.hold_placed",
        obj=hold,
        after={
            "file": current.reference,
            "reason": reason,
            "note": hold.note,
            "withdrawn_from_run": bool(withdrawn),
        },
        municipality=current.authority.municipality,
    )
    return hold


@transaction.atomic
def release_hold(*, hold: LegalHold, actor: Any) -> LegalHold:
    """Release the hold; the file is due again (in the next run) unless another hold remains."""
    current = (
        LegalHold.objects.select_for_update()
        .select_related("file__authority__municipality")
        .get(pk=hold.pk)
    )
    if not current.is_active:
        raise RecordsError(
            _("The legal hold on %s has already been released.") % current.file.reference
        )
    current.released_at = timezone.now()
    current.released_by = actor if getattr(actor, "is_authenticated", False) else None
    current.save(update_fields=["released_at", "released_by"])
    audit.record(
        actor=actor,
        action="records.hold_released",
        obj=current,
        before={"file": current.file.reference, "reason": current.reason},
        after={"released_at": current.released_at.isoformat()},
        municipality=current.file.authority.municipality,
    )
    hold.released_at, hold.released_by = current.released_at, current.released_by
    return current


# --- the run ----------------------------------------------------------------------------------


def _lock(run: DisposalRun) -> DisposalRun:
    return (
        DisposalRun.objects.select_for_update()
        .select_related("authority__municipality")
        .get(pk=run.pk)
    )


def _refresh(stale: DisposalRun, fresh: DisposalRun) -> None:
    for f in DisposalRun._meta.concrete_fields:
        setattr(stale, f.attname, getattr(fresh, f.attname))


def _require(run: DisposalRun, *states: str, doing: str) -> None:
    if run.state not in states:
        raise DisposalError(
            _("Disposal run %(run)s is “%(state)s”; %(doing)s is not possible now.")
            % {"run": run.pk, "state": run.get_state_display(), "doing": doing}
        )


@transaction.atomic
def start_run(*, authority: Authority, actor: Any) -> DisposalRun:
    """A new run with every file of ``authority`` due today (Berlin calendar) that is not on
    hold, not disposed and not in another open run.

    Runs of one authority start one after the other (row lock on the authority), and a file is
    in at most one open run (database constraint), so two runs started at once never share a
    file.
    """
    Authority.objects.select_for_update().filter(pk=authority.pk).first()
    today = timezone.localdate()
    ids = list(
        selectors.files_ready_for_disposal(authority=authority, on=today).values_list(
            "pk", flat=True
        )
    )
    # Lock the files (a hold placed at this moment waits), then read them again.
    list(File.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
    files = list(
        selectors.files_ready_for_disposal(authority=authority, on=today).filter(pk__in=ids)
    )
    if not files:
        raise DisposalError(
            _(
                "%(authority)s has no files due for disposal on %(day)s (closed, due, not on "
                "legal hold and not in another open run)."
            )
            % {"authority": authority.name, "day": today.isoformat()}
        )
    offered = [f for f in files if f.disposal_action != DisposalAction.DESTROY]
    run = DisposalRun.objects.create(
        authority=authority,
        state=State.STARTED if offered else State.EVALUATED,
        due_by=today,
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            DisposalItem.objects.bulk_create(
                [
                    DisposalItem(
                        run=run,
                        file=f,
                        offered=f.disposal_action != DisposalAction.DESTROY,
                        decision=(
                            Decision.DESTROY if f.disposal_action == DisposalAction.DESTROY else ""
                        ),
                    )
                    for f in files
                ]
            )
    except DatabaseIntegrityError as exc:  # only without the authority lock (another database)
        raise DisposalError(
            _("Another disposal run took some of these files at the same time; please retry.")
        ) from exc
    audit.record(
        actor=actor,
        action="records.disposal_started",
        obj=run,
        after={
            "files": [f.reference for f in files],
            "offered": len(offered),
            "destroy_directly": len(files) - len(offered),
            "due_by": today.isoformat(),
        },
        municipality=authority.municipality,
    )
    return run


def _withdraw_ineligible(run: DisposalRun) -> list[str]:
    """Withdraw the run's files that were put on hold or reopened meanwhile (normally done by
    :func:`place_hold` and ``reopen_file`` already; this is the check at every step)."""
    withdrawn: list[str] = []
    for item in run.items.filter(active=True, disposed_at__isnull=True).select_related("file"):
        if not item.file.is_closed or selectors.is_on_hold(item.file):
            item.active = False
            item.note = _("Withdrawn: the file is on legal hold or open again.")
            item.save(update_fields=["active", "note"])
            withdrawn.append(item.file.reference)
    return withdrawn


def _file_entry(file: File, *, with_documents: bool) -> xdomea.FileEntry:
    documents: list[xdomea.DocumentEntry] = []
    if with_documents:
        for position, document in enumerate(selectors.documents_of(file), start=1):
            doc_id = document_xdomea_id(file, document)
            documents.append(
                xdomea.DocumentEntry(
                    id=doc_id,
                    position=position,
                    title=document.title,
                    kind=document.get_kind_display(),
                    created_at=document.created_at,
                    versions=[
                        xdomea.VersionEntry(
                            number=v.number,
                            package_name=package_name(doc_id, v),
                            original_name=v.original_name,
                            content_type=v.content_type,
                            sha256=v.sha256,
                            created_at=v.created_at,
                        )
                        for v in sorted(document.versions.all(), key=lambda v: v.number)
                    ],
                )
            )
    assert file.closed_on is not None  # only closed files are in a run
    return xdomea.FileEntry(
        id=file.xdomea_id,
        reference=file.reference,
        title=file.title,
        plan_key=file.plan_entry.key,
        plan_title=file.plan_entry.title,
        opened_on=timezone.localtime(file.opened_at).date(),
        closed_on=file.closed_on,
        retention_years=file.retention_years,
        disposal_due_on=file.disposal_due_on,
        disposal_type={"evaluate": "B", "archive": "A"}.get(file.disposal_action, "V"),
        documents=documents,
    )


def document_xdomea_id(file: File, document: RecordDocument) -> uuid.UUID:
    """A document's xdomea ID, derived from its file's stored UUID: stable, so every message
    names the document alike, without a column of its own."""
    return uuid.uuid5(file.xdomea_id, f"document:{document.pk}")


def package_name(document_id: uuid.UUID, version: DocumentVersion) -> str:
    """The name of a version's content in the 0503 package (flat, unique, safe)."""
    return f"{document_id}_{version.number}{safe_suffix(version.original_name)}"


@transaction.atomic
def write_offer(*, run: DisposalRun, actor: Any) -> bytes:
    """The 0501 offer list of the run's files to evaluate or archive; may be written again."""
    locked = _lock(run)
    _require(locked, State.STARTED, State.OFFERED, doing=_("writing the offer"))
    _withdraw_ineligible(locked)
    items = list(locked.items.filter(active=True, offered=True).select_related("file__plan_entry"))
    if not items:
        raise DisposalError(
            _(
                "Disposal run %s has no files to offer to the archive any more; cancel it "
                "(disposal_cancel) and start a new one for the files still due."
            )
            % locked.pk
        )
    message = xdomea.offer_message(
        process_id=locked.process_id,
        authority=locked.authority,
        files=[_file_entry(i.file, with_documents=False) for i in items],
    )
    if locked.state == State.STARTED:
        locked.state = State.OFFERED
        locked.offered_at = timezone.now()
        locked.save(update_fields=["state", "offered_at"])
    audit.record(
        actor=actor,
        action="records.disposal_offered",
        obj=locked,
        after={"message": xdomea.OFFER, "files": [i.file.reference for i in items]},
        municipality=locked.authority.municipality,
    )
    _refresh(run, locked)
    return message


def _not_in_run(file_id: uuid.UUID, run: DisposalRun) -> DisposalError:
    """The error for a file id that the archive names but this run did not send."""
    file = File.objects.filter(xdomea_id=file_id).first()
    if file is None:
        return DisposalError(_("The archive names an unknown file %s.") % file_id)
    other = (
        DisposalItem.objects.filter(file=file, active=True, disposed_at__isnull=True)
        .exclude(run=run)
        .first()
    )
    if other is not None:
        return DisposalError(
            _("The file %(reference)s (%(id)s) belongs to disposal run %(other)s, not to %(run)s.")
            % {"reference": file.reference, "id": file_id, "other": other.run_id, "run": run.pk}
        )
    return DisposalError(
        _("The file %(reference)s (%(id)s) was not sent to the archive in disposal run %(run)s.")
        % {"reference": file.reference, "id": file_id, "run": run.pk}
    )


@transaction.atomic
def import_evaluation(*, run: DisposalRun, data: bytes, actor: Any) -> DisposalRun:
    """Import the archive's 0502: A or V for every offered file. Anything wrong (unknown or
    foreign ids, a missing decision, another process) changes nothing."""
    locked = _lock(run)
    _require(locked, State.OFFERED, doing=_("importing the evaluation"))
    evaluation = xdomea.read_evaluation(data, process_id=locked.process_id)
    decisions = evaluation.decisions
    _withdraw_ineligible(locked)
    offered = {
        i.file.xdomea_id: i for i in locked.items.filter(offered=True).select_related("file")
    }
    for file_id in decisions:
        if file_id not in offered:
            raise _not_in_run(file_id, locked)
    missing = [i.file.reference for fid, i in offered.items() if i.active and fid not in decisions]
    if missing:
        raise DisposalError(
            _("The evaluation has no decision for: %s.") % ", ".join(sorted(missing))
        )
    counts = {"A": 0, "V": 0}
    for file_id, decision in decisions.items():
        item = offered[file_id]
        if not item.active:  # withdrawn meanwhile (hold): the decision no longer applies
            continue
        item.decision = decision
        item.save(update_fields=["decision"])
        counts[decision] += 1
    locked.state = State.EVALUATED
    locked.evaluated_at = timezone.now()
    locked.evaluation_receipt_requested = evaluation.receipt_requested
    locked.save(update_fields=["state", "evaluated_at", "evaluation_receipt_requested"])
    audit.record(
        actor=actor,
        action="records.disposal_evaluated",
        obj=locked,
        after={
            "message": xdomea.EVALUATION,
            "archive": counts["A"],
            "destroy": counts["V"],
            "receipt_requested": evaluation.receipt_requested,
        },
        municipality=locked.authority.municipality,
    )
    _refresh(run, locked)
    return locked


def write_evaluation_receipt(*, run: DisposalRun, actor: Any) -> bytes:
    """The 0505 receipt of the archive's evaluation, for the archive; may be written again (the
    first time is kept). Possible once the evaluation is imported, whatever came after."""
    with transaction.atomic():
        locked = _lock(run)
        if locked.evaluated_at is None or locked.state == State.CANCELLED:
            raise DisposalError(
                _(
                    "Disposal run %(run)s is “%(state)s”; a receipt of the evaluation needs an "
                    "imported evaluation (0502)."
                )
                % {"run": locked.pk, "state": locked.get_state_display()}
            )
        message = xdomea.evaluation_receipt_message(
            process_id=locked.process_id, authority=locked.authority
        )
        first = locked.evaluation_receipt_at is None
        if first:
            locked.evaluation_receipt_at = timezone.now()
            locked.save(update_fields=["evaluation_receipt_at"])
        audit.record(
            actor=actor,
            action="records.disposal_evaluation_receipt",
            obj=locked,
            after={"message": xdomea.EVALUATION_RECEIPT, "first": first},
            municipality=locked.authority.municipality,
        )
        _refresh(run, locked)
    return message


#: For each receipt an archive sends: the run's field that records it, the field of the message
#: it acknowledges, and the audit action.
_RECEIPTS = {
    xdomea.OFFER_RECEIPT: ("offer_receipt_at", "offered_at", "records.disposal_offer_received"),
    xdomea.TRANSFER_RECEIPT: (
        "transfer_receipt_at",
        "transferred_at",
        "records.disposal_transfer_received",
    ),
}


@transaction.atomic
def import_archive_receipt(*, run: DisposalRun, data: bytes, actor: Any) -> str:
    """Record the archive's receipt of the offer (0504) or of the transfer package (0507);
    returns which one it was. A receipt for a message this run has not sent is refused; a
    repeated receipt changes nothing (the first time is kept)."""
    locked = _lock(run)
    code, written = xdomea.read_receipt(data, process_id=locked.process_id)
    field_name, sent_field, action = _RECEIPTS[code]
    if getattr(locked, sent_field) is None:
        raise DisposalError(
            _(
                "The archive acknowledges the message %(message)s, but disposal run %(run)s "
                "has not written one yet."
            )
            % {"message": xdomea.ARCHIVE_RECEIPTS[code], "run": locked.pk}
        )
    if getattr(locked, field_name) is None:
        setattr(locked, field_name, timezone.now())
        locked.save(update_fields=[field_name])
        audit.record(
            actor=actor,
            action=action,
            obj=locked,
            after={
                "message": code,
                "written_by_archive": written.isoformat() if written is not None else None,
            },
            municipality=locked.authority.municipality,
        )
    _refresh(run, locked)
    return code


def _to_hand_over(run: DisposalRun) -> list[DisposalItem]:
    return list(
        run.items.filter(active=True, decision=Decision.ARCHIVE)
        .select_related("file__plan_entry")
        .order_by("id")
    )


def write_transfer_package(*, run: DisposalRun, out: BinaryIO, actor: Any) -> int:
    """Write the 0503 package (ZIP) of the files the archive takes to ``out``; returns their
    number. The XML message is followed by every document version's content, streamed from
    the storage and checked against its SHA-256 on the way, and a ``SHA256SUMS`` list.

    Nothing is marked before the package is complete; a file put on hold meanwhile makes the
    package invalid (:class:`DisposalError`: write it again).
    """
    with transaction.atomic():
        locked = _lock(run)
        _require(locked, State.EVALUATED, State.TRANSFERRED, doing=_("writing the hand-over"))
        _withdraw_ineligible(locked)
    items = _to_hand_over(locked)
    if not items:
        raise DisposalError(
            _("Disposal run %s has no files for the archive; destroy the others directly.")
            % locked.pk
        )
    entries = [_file_entry(i.file, with_documents=True) for i in items]
    versions = {
        package_name(document_xdomea_id(i.file, v.document), v): v
        for i in items
        for v in DocumentVersion.objects.filter(document__file=i.file).select_related("document")
    }
    stem = f"{locked.process_id}_{xdomea.ROOTS[xdomea.TRANSFER]}"
    sums: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            f"{stem}.xml",
            xdomea.transfer_message(
                process_id=locked.process_id, authority=locked.authority, files=entries
            ),
        )
        for name, version in versions.items():
            digest = hashlib.sha256()
            try:
                with (
                    version.content.open("rb") as source,
                    package.open(name, "w", force_zip64=True) as target,
                ):
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        target.write(chunk)
            except (OSError, ValueError) as exc:
                raise IntegrityError(
                    _("The stored content of %(document)s, version %(number)d, is missing.")
                    % {"document": version.document.title, "number": version.number}
                ) from exc
            if digest.hexdigest() != version.sha256:
                raise IntegrityError(
                    _(
                        "The stored content of %(document)s, version %(number)d, does not match "
                        "its SHA-256 hash; the package was not written."
                    )
                    % {"document": version.document.title, "number": version.number}
                )
            sums.append(f"{version.sha256}  {name}\n")
        package.writestr("SHA256SUMS", "".join(sums))
    with transaction.atomic():
        locked = _lock(run)
        _require(locked, State.EVALUATED, State.TRANSFERRED, doing=_("writing the hand-over"))
        still = set(
            locked.items.filter(
                pk__in=[i.pk for i in items], active=True, decision=Decision.ARCHIVE
            ).values_list("pk", flat=True)
        )
        gone = [i.file.reference for i in items if i.pk not in still]
        if gone:
            raise DisposalError(
                _(
                    "%s left the run while the package was written (legal hold); the package "
                    "is invalid, please write it again."
                )
                % ", ".join(gone)
            )
        DisposalItem.objects.filter(pk__in=still).update(transferred=True)
        if locked.state == State.EVALUATED:
            locked.state = State.TRANSFERRED
            locked.transferred_at = timezone.now()
            locked.save(update_fields=["state", "transferred_at"])
        audit.record(
            actor=actor,
            action="records.disposal_transferred",
            obj=locked,
            after={
                "message": xdomea.TRANSFER,
                "files": [i.file.reference for i in items],
                "versions": len(versions),
            },
            municipality=locked.authority.municipality,
        )
    _refresh(run, locked)
    return len(items)


@transaction.atomic
def import_confirmation(*, run: DisposalRun, data: bytes, actor: Any) -> DisposalRun:
    """Import the archive's 0506: per handed-over file, imported (with the archive's
    signature) or not. Only confirmed files are destroyed later; a file the archive could not
    import leaves the run and stays (a later run offers it again)."""
    locked = _lock(run)
    _require(locked, State.TRANSFERRED, doing=_("importing the import confirmation"))
    results = xdomea.read_import_confirmation(data, process_id=locked.process_id)
    handed_over = {
        i.file.xdomea_id: i for i in locked.items.filter(transferred=True).select_related("file")
    }
    seen: set[uuid.UUID] = set()
    for result in results:
        if result.file_id not in handed_over:
            raise _not_in_run(result.file_id, locked)
        if result.file_id in seen:
            raise DisposalError(_("The file %s is confirmed twice.") % result.file_id)
        seen.add(result.file_id)
    missing = [i.file.reference for fid, i in handed_over.items() if i.active and fid not in seen]
    if missing:
        raise DisposalError(
            _("The confirmation has no result for: %s.") % ", ".join(sorted(missing))
        )
    now = timezone.now()
    failed: list[str] = []
    for result in results:
        item = handed_over[result.file_id]
        if not item.active:
            continue
        # Only the fields changed here are written: a legal hold placed meanwhile (it locks the
        # file, not the run) withdrew the item, and must not be undone by this earlier read.
        if result.success:
            item.archive_signature = result.signature
            item.confirmed_at = now
            item.save(update_fields=["archive_signature", "confirmed_at"])
        else:
            item.active = False
            item.note = (_("The archive could not import the file: %s") % result.error)[:500]
            failed.append(item.file.reference)
            item.save(update_fields=["active", "note"])
    locked.state = State.CONFIRMED
    locked.confirmed_at = now
    locked.save(update_fields=["state", "confirmed_at"])
    audit.record(
        actor=actor,
        action="records.disposal_confirmed",
        obj=locked,
        after={
            "message": xdomea.IMPORT_CONFIRMATION,
            "confirmed": len(seen) - len(failed),
            "failed": failed,
        },
        municipality=locked.authority.municipality,
    )
    _refresh(run, locked)
    return locked


# --- destruction ------------------------------------------------------------------------------


@dataclass
class DestroyResult:
    """What :func:`destroy` did: files disposed, files kept (with the reason), and stored
    contents whose deletion failed and will be retried."""

    disposed: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    contents_pending: int = 0


def destroy(*, run: DisposalRun, approver: Any, actor: Any = None) -> DestroyResult:
    """Approve the disposal of the run's files (:func:`approve_destruction`) and carry it out
    (:func:`carry_out_destruction`) in this process: the command's way. The admin approves and
    leaves the carrying out to a background job (``records.tasks.carry_out_disposal_job``).
    """
    approve_destruction(run=run, approver=approver, actor=actor)
    return carry_out_destruction(run=run, actor=actor or approver)


def approve_destruction(*, run: DisposalRun, approver: Any, actor: Any = None) -> None:
    """Record ``approver``'s approval (needs the permission ``records.approve_destruction``):
    the run goes to ``destroying``. Refused while files for the archive await its confirmation
    or files have no decision. Approving a run that is already ``destroying`` changes nothing.
    """
    if not (
        getattr(approver, "is_active", False) and approver.has_perm("records.approve_destruction")
    ):
        raise DisposalError(
            _("%s may not approve the destruction of files.") % (approver or _("Nobody"))
        )
    actor = actor or approver
    with transaction.atomic():
        locked = _lock(run)
        if (
            locked.state == State.EVALUATED
            and locked.items.filter(active=True, decision=Decision.ARCHIVE).exists()
        ):
            raise DisposalError(
                _(
                    "Disposal run %s has files for the archive; hand them over and import the "
                    "archive's confirmation first."
                )
                % locked.pk
            )
        if (
            locked.state == State.EVALUATED
            and locked.items.filter(active=True, decision="").exists()
        ):
            raise DisposalError(_("Disposal run %s has files without a decision.") % locked.pk)
        _require(locked, State.EVALUATED, State.CONFIRMED, State.DESTROYING, doing=_("destruction"))
        if locked.state != State.DESTROYING:
            locked.state = State.DESTROYING
            locked.approved_at = timezone.now()
            locked.approved_by = approver
            locked.approved_by_label = str(approver)[:254]
            locked.save(update_fields=["state", "approved_at", "approved_by", "approved_by_label"])
            audit.record(
                actor=actor,
                action="records.disposal_approved",
                obj=locked,
                after={"approved_by": locked.approved_by_label},
                municipality=locked.authority.municipality,
            )
    _refresh(run, locked)


def carry_out_destruction(*, run: DisposalRun, actor: Any) -> DestroyResult:
    """Dispose of the files of an approved run (state ``destroying``). Resumable: calling it
    again continues where a crash or a refused file stopped, and retries stored contents that
    could not be deleted yet; a completed run has nothing left to do.

    Each file is disposed of in a transaction of its own (:func:`_dispose`); its stored contents
    are deleted after that commit. Two calls at once do no harm: each file is locked while it is
    disposed of, and a file already disposed of is skipped.
    """
    result = DestroyResult()
    locked = DisposalRun.objects.select_related("authority__municipality").get(pk=run.pk)
    if locked.state == State.COMPLETED:
        _refresh(run, locked)
        return result
    _require(locked, State.DESTROYING, doing=_("destruction"))
    pending = locked.items.filter(active=True, disposed_at__isnull=True).order_by("id")
    for item_id in list(pending.values_list("pk", flat=True)):
        try:
            reference = _dispose(item_id=item_id, run=locked, actor=actor)
        except (RecordsError, ProtectedError, RestrictedError) as exc:
            reason = _blocked_reason(exc)
            with transaction.atomic():
                item = (
                    DisposalItem.objects.select_for_update().select_related("file").get(pk=item_id)
                )
                item.note = reason[:500]
                item.save(update_fields=["note"])
            logger.warning("records: disposal of %s refused: %s", item.file.reference, reason)
            result.kept.append((item.file.reference, reason))
            continue
        if reference is not None:
            result.disposed.append(reference)
    purge_pending_contents(run=locked)
    result.contents_pending = PendingContentDeletion.objects.filter(item__run=locked).count()
    with transaction.atomic():
        locked = _lock(run)
        open_items = locked.items.filter(active=True, disposed_at__isnull=True).exists()
        if not open_items and not result.contents_pending and locked.state == State.DESTROYING:
            locked.state = State.COMPLETED
            locked.completed_at = timezone.now()
            locked.save(update_fields=["state", "completed_at"])
            audit.record(
                actor=actor,
                action="records.disposal_completed",
                obj=locked,
                after={"files": locked.items.filter(disposed_at__isnull=False).count()},
                municipality=locked.authority.municipality,
            )
    _refresh(run, locked)
    return result


@transaction.atomic
def cancel_run(*, run: DisposalRun, reason: str, actor: Any) -> list[str]:
    """Give up ``run`` where it cannot go on (the archive never answers, every offered file was
    put on hold, a file is refused for good); returns the references of the files that leave it.

    Every file not disposed of yet leaves the run with ``reason`` as its note and is free for a
    later run; files already disposed of stay so, and their contents still pending deletion are
    still retried (``purge_pending_contents``). A completed or cancelled run cannot be cancelled.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise DisposalError(_("Say why the disposal run is cancelled."))
    if len(reason) > 500:
        raise DisposalError(_("The reason may be at most 500 characters long."))
    locked = _lock(run)
    _require(
        locked,
        State.STARTED,
        State.OFFERED,
        State.EVALUATED,
        State.TRANSFERRED,
        State.CONFIRMED,
        State.DESTROYING,
        doing=_("cancelling it"),
    )
    # Locked, and so read again after a disposal of the same item that is committing right
    # now (the background job): a file disposed of meanwhile does not "leave" the run.
    leaving = list(
        locked.items.select_for_update(of=("self",))
        .filter(active=True, disposed_at__isnull=True)
        .select_related("file")
        .order_by("id")
    )
    DisposalItem.objects.filter(pk__in=[i.pk for i in leaving]).update(active=False, note=reason)
    before = locked.state
    locked.state = State.CANCELLED
    locked.save(update_fields=["state"])
    references = [i.file.reference for i in leaving]
    audit.record(
        actor=actor,
        action="records.disposal_cancelled",
        obj=locked,
        before={"state": before},
        after={"state": locked.state, "files_released": references, "reason": reason},
        municipality=locked.authority.municipality,
    )
    _refresh(run, locked)
    return references


def _blocked_reason(exc: Exception) -> str:
    if isinstance(exc, ProtectedError | RestrictedError):
        models = sorted(
            {
                obj._meta.label
                for obj in getattr(exc, "protected_objects", None)
                or getattr(exc, "restricted_objects", None)
                or []
            }
        )
        return _(
            "Its documents are still referenced by %s; that module must release them first."
        ) % ", ".join(models)
    return str(exc)


def _delete_documents(file: File) -> tuple[int, int]:
    """Delete the file's versions and documents: the only deletion of append-only rows.

    Goes through Django's deletion collector, not ``Model.delete``/``QuerySet.delete`` (which
    :class:`~rathaus.core.models.AppendOnlyModel` refuses), so rows of other modules that
    ``PROTECT`` a version still stop it (:class:`ProtectedError`). Only :func:`_dispose`
    calls it, inside the disposal's transaction. Returns ``(documents, versions)`` deleted.
    """
    deleted = []
    for rows in (
        list(DocumentVersion.objects.filter(document__file=file)),
        list(RecordDocument.objects.filter(file=file)),
    ):
        if rows:
            collector = Collector(using=router.db_for_write(type(rows[0])), origin=file)
            collector.collect(rows)
            collector.delete()
        deleted.append(len(rows))
    versions, documents = deleted
    return documents, versions


def _dispose(*, item_id: int, run: DisposalRun, actor: Any) -> str | None:
    """Dispose of one file of the run (see :func:`destroy`); ``None`` if nothing was left to do."""
    with transaction.atomic():
        # The file first, then the item: the order of place_hold and reopen_file, which lock
        # the file and then update its items (the other order deadlocks against them).
        file_id = DisposalItem.objects.values_list("file_id", flat=True).get(pk=item_id)
        file = (
            File.objects.select_for_update()
            .select_related("authority__municipality", "plan_entry")
            .get(pk=file_id)
        )
        item = DisposalItem.objects.select_for_update().get(pk=item_id)
        if item.disposed_at is not None or not item.active:
            return None
        if selectors.is_on_hold(file) or not file.is_closed or file.is_disposed:
            item.active = False
            item.note = _("Withdrawn: the file is on legal hold, open again or disposed.")
            item.save(update_fields=["active", "note"])
            return None
        if item.decision == Decision.ARCHIVE:
            if item.confirmed_at is None or not item.archive_signature:
                raise DisposalError(
                    _("The archive has not confirmed the import of %s.") % file.reference
                )
            outcome = DisposalOutcome.ARCHIVED
        elif item.decision == Decision.DESTROY:
            outcome = DisposalOutcome.DESTROYED
        else:
            raise DisposalError(_("The file %s has no decision.") % file.reference)
        file_disposing.send(sender=File, file=file, outcome=outcome.value)
        names = [
            name
            for name in DocumentVersion.objects.filter(document__file=file).values_list(
                "content", flat=True
            )
            if name
        ]
        # the audit events of the file, its documents and versions name them (titles, file
        # names): their values go with them, who did what when stays
        audit.redact(
            targets={
                File: [file.pk],
                RecordDocument: RecordDocument.objects.filter(file=file).values_list(
                    "pk", flat=True
                ),
                DocumentVersion: DocumentVersion.objects.filter(document__file=file).values_list(
                    "pk", flat=True
                ),
            }
        )
        documents, versions = _delete_documents(file)
        PendingContentDeletion.objects.bulk_create(
            [PendingContentDeletion(item=item, storage_name=name) for name in names]
        )
        now = timezone.now()
        assert file.closed_on is not None and file.disposal_due_on is not None
        assert run.approved_at is not None
        DisposalRecord.objects.create(
            file=file,
            run_id=run.pk,
            authority=file.authority,
            reference=file.reference,
            plan_key=file.plan_entry.key,
            plan_title=file.plan_entry.title,
            xdomea_id=file.xdomea_id,
            opened_on=timezone.localtime(file.opened_at).date(),
            closed_on=file.closed_on,
            retention_years=file.retention_years,
            disposal_due_on=file.disposal_due_on,
            outcome=outcome,
            archive_signature=item.archive_signature,
            documents=documents,
            versions=versions,
            approved_by_id=run.approved_by_id,
            approved_by_label=run.approved_by_label,
            approved_at=run.approved_at,
            disposed_at=now,
        )
        file.title = DISPOSED_TITLE
        file.disposed_on = timezone.localdate(now)
        file.disposal_outcome = outcome
        file.save(update_fields=["title", "disposed_on", "disposal_outcome"])
        item.disposed_at = now
        item.save(update_fields=["disposed_at"])
        audit.record(
            actor=actor,
            action="records.file_disposed",
            obj=file,
            after={
                "reference": file.reference,
                "outcome": outcome.value,
                "archive_signature": item.archive_signature,
                "run": run.pk,
                "documents": documents,
                "versions": versions,
            },
            municipality=file.authority.municipality,
        )
        transaction.on_commit(partial(purge_pending_contents, item_ids=[item.pk]))
        transaction.on_commit(
            partial(
                _announce,
                file_id=file.pk,
                authority_id=file.authority_id,
                reference=file.reference,
                outcome=outcome.value,
            )
        )
        return file.reference


def _announce(*, file_id: int, authority_id: int, reference: str, outcome: str) -> None:
    for receiver, response in file_disposed.send_robust(
        sender=File,
        file_id=file_id,
        authority_id=authority_id,
        reference=reference,
        outcome=outcome,
    ):
        if isinstance(response, Exception):
            logger.error(
                "records: receiver %r of file_disposed failed for %s: %r",
                receiver,
                reference,
                response,
            )


def purge_pending_contents(
    *, run: DisposalRun | None = None, item_ids: Iterable[int] | None = None
) -> int:
    """Delete the stored contents of disposed files that are still pending (after the commit
    that deleted their rows, or again after a crash); returns how many are still pending."""
    pending = PendingContentDeletion.objects.all()
    if run is not None:
        pending = pending.filter(item__run=run)
    if item_ids is not None:
        pending = pending.filter(item_id__in=list(item_ids))
    # The field's own storage: the one the contents were written to (records_storage() would
    # build a fresh instance after a settings change, e.g. in tests).
    storage = DocumentVersion._meta.get_field("content").storage
    return delete_pending(pending, storage=storage, what="content of a disposed file")
