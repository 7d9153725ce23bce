"""Writes to the electronic file: plans, files, documents and their versions.

Every function runs in one transaction and records the change in the audit trail.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import unicodedata
import uuid
from pathlib import PurePath
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Field, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.core import audit, sequences
from rathaus.core.models import Authority, OrgUnit
from rathaus.core.stored_files import StoredFileUnavailable, read_verified
from rathaus.records import file_plan, plan_import
from rathaus.records.errors import IntegrityError, RecordsError
from rathaus.records.models import (
    DisposalItem,
    DocumentKind,
    DocumentVersion,
    File,
    FilePlan,
    PlanEntry,
    RecordDocument,
    RetentionTrigger,
)

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 200 * 1024 * 1024


def _file_state(file: File) -> dict[str, Any]:
    return {
        "reference": file.reference,
        "closed_on": file.closed_on.isoformat() if file.closed_on else None,
        "retention_years": file.retention_years,
        "retention_starts_on": (
            file.retention_starts_on.isoformat() if file.retention_starts_on else None
        ),
        "disposal_due_on": file.disposal_due_on.isoformat() if file.disposal_due_on else None,
    }


# --- file plan --------------------------------------------------------------------------------


def import_file_plan(
    *, authority: Authority, csv_text: str, name: str = "", actor: Any = None
) -> FilePlan:
    """Create or update the authority's plan from CSV (format: :mod:`rathaus.records.plan_import`).

    Rows update the entries with the same key or add new ones. Entries missing from the CSV are
    deleted when no file uses them (nor one of their sub-entries) and otherwise kept, inactive,
    so existing files keep their plan entry. Malformed CSV changes nothing.
    """
    return import_plan_rows(
        authority=authority, rows=plan_import.parse(csv_text), name=name, actor=actor
    )


_ENTRY_FIELDS = (
    "title",
    "description",
    "retention_years",
    "retention_permanent",
    "retention_trigger",
    "disposal_action",
)


def _levels(rows: list[plan_import.PlanRow]) -> list[list[plan_import.PlanRow]]:
    """The rows level by level, groups before the entries below them."""
    by_depth: dict[int, list[plan_import.PlanRow]] = {}
    for row in rows:
        by_depth.setdefault(file_plan.depth(row.key), []).append(row)
    return [by_depth[d] for d in sorted(by_depth)]


def _insert_entries(
    plans: list[FilePlan], rows: list[plan_import.PlanRow], ids: dict[tuple[int, str], int]
) -> None:
    """Insert the new entries of one level into each of ``plans`` with one statement.

    A plan has hundreds of entries and ``load_demo`` creates one for every authority, so the
    ORM's per-object work would dominate. ``ids`` maps ``(plan id, key)`` to the entry's id; the
    groups above must be in it, the new entries are added.
    """
    meta = PlanEntry._meta
    columns = ["plan", "key", "parent", "is_active", "position", *_ENTRY_FIELDS]
    names = ", ".join(
        connection.ops.quote_name(field.column)
        for field in (meta.get_field(c) for c in columns)
        if isinstance(field, Field) and field.column
    )
    sql = (
        f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({names}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    params = [
        (
            plan.pk,
            row.key,
            ids.get((plan.pk, file_plan.parent_key(row.key) or "")),
            True,
            file_plan.sort_key(row.key),
            *(getattr(row, name) for name in _ENTRY_FIELDS),
        )
        for plan in plans
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    inserted = PlanEntry.objects.filter(plan__in=plans, key__in=[r.key for r in rows])
    ids.update(((p, k), pk) for p, k, pk in inserted.values_list("plan_id", "key", "pk"))


@transaction.atomic
def create_file_plans(
    *, plans: list[tuple[Authority, str]], rows: list[plan_import.PlanRow], actor: Any = None
) -> list[FilePlan]:
    """New plans with the same entries for several authorities (``(authority, name)`` pairs
    without a plan yet), e.g. one municipality-wide plan for all its authorities."""
    created = FilePlan.objects.bulk_create(
        [FilePlan(authority=authority, name=name) for authority, name in plans]
    )
    ids: dict[tuple[int, str], int] = {}
    for level in _levels(rows):
        _insert_entries(created, level, ids)
    for plan, (authority, _name) in zip(created, plans, strict=True):
        audit.record(
            actor=actor,
            action="records.file_plan_imported",
            obj=plan,
            after={"plan_created": True, "created": len(rows), "updated": 0},
            municipality=authority.municipality,
        )
    return created


@transaction.atomic
def import_plan_rows(
    *, authority: Authority, rows: list[plan_import.PlanRow], name: str = "", actor: Any = None
) -> FilePlan:
    """:func:`import_file_plan` for rows already read with :func:`plan_import.parse`."""
    Authority.objects.select_for_update().filter(pk=authority.pk).first()  # one import at a time
    plan = FilePlan.objects.filter(authority=authority).first()
    if plan is None:
        name = name or _("File plan of %s") % authority.name
        return create_file_plans(plans=[(authority, name)], rows=rows, actor=actor)[0]
    if name and plan.name != name:
        plan.name = name
        plan.save(update_fields=["name", "updated_at"])
    existing = {e.key: e for e in plan.entries.all()}
    ids = {(plan.pk, key): entry.pk for key, entry in existing.items()}
    created = updated = 0
    for level in _levels(rows):
        new: list[plan_import.PlanRow] = []
        changed: list[PlanEntry] = []
        for row in level:
            entry = existing.get(row.key)
            if entry is None:
                new.append(row)
                continue
            above = file_plan.parent_key(row.key)
            values: dict[str, Any] = {name: getattr(row, name) for name in _ENTRY_FIELDS}
            values["is_active"] = True
            values["parent_id"] = ids[(plan.pk, above)] if above is not None else None
            if any(getattr(entry, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(entry, k, v)
                changed.append(entry)
        if new:
            _insert_entries([plan], new, ids)
        PlanEntry.objects.bulk_update(changed, [*_ENTRY_FIELDS, "is_active", "parent"])
        created += len(new)
        updated += len(changed)

    listed = {row.key for row in rows}
    used_keys = set(
        File.objects.filter(plan_entry__plan=plan).values_list("plan_entry__key", flat=True)
    )
    keep: set[str] = set()
    for key in used_keys:  # an entry in use keeps its groups above it
        current: str | None = key
        while current is not None:
            keep.add(current)
            current = file_plan.parent_key(current)
    deactivated = deleted = 0
    unlisted = sorted(
        (e for k, e in existing.items() if k not in listed),
        key=lambda e: file_plan.sort_key(e.key),
        reverse=True,  # sub-entries first
    )
    for entry in unlisted:
        if entry.key in keep:
            if entry.is_active:
                entry.is_active = False
                entry.save(update_fields=["is_active"])
                deactivated += 1
        else:
            entry.delete()
            deleted += 1
    audit.record(
        actor=actor,
        action="records.file_plan_imported",
        obj=plan,
        after={
            "plan_created": False,
            "created": created,
            "updated": updated,
            "deactivated": deactivated,
            "deleted": deleted,
        },
        municipality=authority.municipality,
    )
    return plan


# --- files ------------------------------------------------------------------------------------


def entry_for_new_file(
    *, authority: Authority, plan_key: str, org_unit: OrgUnit | None = None
) -> PlanEntry:
    """The plan entry a new file under ``plan_key`` goes to; :class:`RecordsError` if none may.

    Reads only: a caller may check before its transaction writes anything (``casework``'s
    ``open_case`` does, inside the submission). Plan and entry come in one query.
    """
    entry = (
        PlanEntry.objects.select_related("plan", "parent")
        .filter(plan__authority=authority, key=plan_key)
        .first()
    )
    if entry is None:
        if not FilePlan.objects.filter(authority=authority).exists():
            raise RecordsError(
                _("%s has no file plan; an administrator must import one first.") % authority.name
            )
        raise RecordsError(
            _("The file plan of %(authority)s has no entry “%(key)s”.")
            % {"authority": authority.name, "key": plan_key}
        )
    if not entry.is_active:
        raise RecordsError(
            _("The file plan entry %(key)s is no longer in use; no new files can be opened there.")
            % {"key": entry.key}
        )
    years, permanent = entry.retention()
    if years is None and not permanent:
        raise RecordsError(
            _("The file plan entry %(key)s has no retention period (nor a group above it).")
            % {"key": entry.key}
        )
    if org_unit is not None and org_unit.authority_id != authority.pk:
        raise RecordsError(
            _("The org unit %(unit)s does not belong to %(authority)s.")
            % {"unit": org_unit, "authority": authority.name}
        )
    # A long key and unit code in a long format: refused here, before anything is written,
    # not by the database column (with room for serial numbers of up to six digits).
    template = entry.plan.unit_reference_format if org_unit else entry.plan.reference_format
    longest = file_plan.format_reference(
        template,
        plan=entry.key,
        unit=org_unit.code if org_unit is not None else "",
        serial=999_999,
        year=timezone.localdate().year,
    )
    if len(longest) > file_plan.REFERENCE_MAX_LENGTH:
        raise _reference_too_long(longest, authority)
    return entry


def _reference_too_long(reference: str, authority: Authority) -> RecordsError:
    return RecordsError(
        _(
            "The file reference %(reference)s is longer than %(max)d characters; "
            "please shorten the file reference format of %(authority)s."
        )
        % {
            "reference": reference,
            "max": file_plan.REFERENCE_MAX_LENGTH,
            "authority": authority.name,
        }
    )


def _clean_title(title: str) -> str:
    """``title`` on one line: control characters (line breaks, tabs, form feeds, escapes …) and
    characters XML does not allow become spaces, runs of spaces one. Titles are often built by
    code (service and applicant name) and go into the xdomea messages to the archive."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cs") or ch in "\ufffe\uffff" else ch
        for ch in title
    )
    return " ".join(cleaned.split())


def open_file(
    *,
    authority: Authority,
    plan_key: str,
    org_unit: OrgUnit | None = None,
    title: str,
    actor: Any,
    opened_at: datetime.datetime | None = None,
    entry: PlanEntry | None = None,
) -> File:
    """Open a file under the plan entry ``plan_key`` with the next free Aktenzeichen.

    The serial number comes from a dedicated counter (``rathaus.core.sequences``), so two files
    opened at the same time never share a reference and a number is never reused.
    """
    if entry is None:
        entry = entry_for_new_file(authority=authority, plan_key=plan_key, org_unit=org_unit)
    plan = entry.plan
    years, permanent = entry.retention()
    title = _clean_title(title)
    if not title:
        raise RecordsError(_("A file needs a title."))
    opened_at = opened_at or timezone.now()
    year = timezone.localtime(opened_at).year
    template = plan.unit_reference_format if org_unit is not None else plan.reference_format
    scope = file_plan.counter_scope(
        (plan.reference_format, plan.unit_reference_format), plan=entry.key, year=year
    )
    # Inside a submission: no savepoint of its own (every check above only read).
    with transaction.atomic(savepoint=False):
        for _attempt in range(1000):
            serial = sequences.next_value(f"records.file:{authority.pk}:{scope}")
            reference = file_plan.format_reference(
                template,
                plan=entry.key,
                unit=org_unit.code if org_unit is not None else "",
                serial=serial,
                year=year,
            )
            if len(reference) > file_plan.REFERENCE_MAX_LENGTH:  # a serial beyond six digits
                raise _reference_too_long(reference, authority)
            # Only after the plan's format was changed can an old reference come round again.
            if not File.objects.filter(authority=authority, reference=reference).exists():
                break
        else:
            raise RecordsError(
                _("The file reference format of %s gives no new references; please correct it.")
                % authority.name
            )
        file = File.objects.create(
            authority=authority,
            plan_entry=entry,
            org_unit=org_unit,
            serial=serial,
            year=year,
            reference=reference,
            title=title[:300],
            opened_at=opened_at,
            opened_by=actor if getattr(actor, "is_authenticated", False) else None,
            retention_years=None if permanent else years,
            retention_trigger=entry.retention_trigger,
            disposal_action=entry.disposal_action,
        )
        audit.record(
            actor=actor,
            action="records.file_opened",
            obj=file,
            after={"plan_key": entry.key, "title": file.title, **_file_state(file)},
            municipality=authority.municipality,
        )
        return file


def _period_too_long(day: datetime.date, years: int) -> RecordsError:
    return RecordsError(
        _(
            "A retention period of %(years)d years from %(day)s ends after the year %(max)d; "
            "please correct the period in the file plan."
        )
        % {"years": years, "day": day.isoformat(), "max": datetime.MAXYEAR}
    )


def _same_day_years_later(day: datetime.date, years: int) -> datetime.date:
    """The day numbered like ``day`` ``years`` years later (§ 188 Abs. 2 BGB); 29 February in a
    year without one is 28 February, the last day of that month (§ 188 Abs. 3 BGB)."""
    if day.year + years > datetime.MAXYEAR:  # only a plan entry's period set past the limit
        raise _period_too_long(day, years)
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def retention_dates(
    *, closed_on: datetime.date, trigger: str, years: int | None
) -> tuple[datetime.date, datetime.date | None]:
    """``(retention starts on, disposal due on)`` of a file closed on ``closed_on``.

    With ``closed_year_end`` the period starts on 1 January after the year of closing, so a file
    closed on 3 May 2026 with 10 years is due on 1 January 2037. With ``closed`` it starts the
    day after closing (§ 187 Abs. 1 BGB: the day of the event is not counted) and ends with the
    day of the last year numbered like the day of closing (§ 188 Abs. 2 BGB): one year from
    3 May 2026 ends with 3 May 2027, so the file is due on 4 May 2027; one year from
    28 February 2027 ends with 28 February 2028 and the file is due on 29 February 2028.
    ``years=None`` (permanent) has no due date.
    """
    if trigger == RetentionTrigger.CLOSED_YEAR_END:
        starts = datetime.date(closed_on.year + 1, 1, 1)
        return starts, (_same_day_years_later(starts, years) if years is not None else None)
    starts = closed_on + datetime.timedelta(days=1)
    if years is None:
        return starts, None
    ends = _same_day_years_later(closed_on, years)
    if ends == datetime.date.max:
        raise _period_too_long(closed_on, years)
    return starts, ends + datetime.timedelta(days=1)


@transaction.atomic
def close_file(*, file: File, actor: Any, closed_on: datetime.date | None = None) -> File:
    """Close the file (zdA) and start its retention clock."""
    locked = File.objects.select_for_update().get(pk=file.pk)
    if locked.is_closed:
        raise RecordsError(_("The file %s is already closed.") % locked.reference)
    closed_on = closed_on or timezone.localdate()
    if closed_on < timezone.localtime(locked.opened_at).date():
        raise RecordsError(_("A file cannot be closed before the day it was opened."))
    before = _file_state(locked)
    locked.closed_at = timezone.now()
    locked.closed_on = closed_on
    locked.retention_starts_on, locked.disposal_due_on = retention_dates(
        closed_on=closed_on, trigger=locked.retention_trigger, years=locked.retention_years
    )
    locked.save(update_fields=["closed_at", "closed_on", "retention_starts_on", "disposal_due_on"])
    audit.record(
        actor=actor,
        action="records.file_closed",
        obj=locked,
        before=before,
        after=_file_state(locked),
        municipality=locked.authority.municipality,
    )
    _refresh(file, locked)
    return locked


@transaction.atomic
def reopen_file(*, file: File, actor: Any) -> File:
    """Open a closed file again (e.g. for an objection); its retention clock stops."""
    locked = File.objects.select_for_update().get(pk=file.pk)
    if locked.is_disposed:
        raise RecordsError(
            _("The file %s has been disposed of and cannot be reopened.") % locked.reference
        )
    if not locked.is_closed:
        raise RecordsError(_("The file %s is not closed.") % locked.reference)
    # An open file is not due: it leaves a disposal run it was in (not yet disposed).
    DisposalItem.objects.filter(file=locked, active=True, disposed_at__isnull=True).update(
        active=False, note=_("Withdrawn: the file was reopened.")
    )
    before = _file_state(locked)
    locked.closed_at = locked.closed_on = None
    locked.retention_starts_on = locked.disposal_due_on = None
    locked.save(update_fields=["closed_at", "closed_on", "retention_starts_on", "disposal_due_on"])
    audit.record(
        actor=actor,
        action="records.file_reopened",
        obj=locked,
        before=before,
        after=_file_state(locked),
        municipality=locked.authority.municipality,
    )
    _refresh(file, locked)
    return locked


def _refresh(stale: File, fresh: File) -> None:
    for name in ("closed_at", "closed_on", "retention_starts_on", "disposal_due_on"):
        setattr(stale, name, getattr(fresh, name))


# --- documents --------------------------------------------------------------------------------


def _clean_name(original_name: str) -> str:
    name = PurePath(original_name.replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[-255:] or "document"


def safe_suffix(name: str) -> str:
    """The file name's extension, lower case, for a storage or package name: letters and digits
    only and at most ten characters long, else none."""
    suffix = PurePath(name).suffix.lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 10 else ""


def _store_version(
    *,
    document: RecordDocument,
    number: int,
    content: bytes,
    original_name: str,
    content_type: str,
    actor: Any,
) -> DocumentVersion:
    if not isinstance(content, bytes | bytearray):
        raise RecordsError(_("A document's content must be bytes."))
    if not content:
        raise RecordsError(_("The document is empty."))
    if len(content) > MAX_DOCUMENT_BYTES:
        raise RecordsError(_("The document is larger than %d MB.") % (MAX_DOCUMENT_BYTES >> 20))
    name = _clean_name(original_name)
    suffix = safe_suffix(name)
    file = document.file
    version = DocumentVersion(
        document=document,
        number=number,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content_type=(content_type or "application/octet-stream")[:120],
        original_name=name,
        author=actor if getattr(actor, "is_authenticated", False) else None,
        author_label=str(actor)[:254] if actor is not None else "system",
    )
    # A fresh, unguessable name for every version: nothing stored is ever overwritten, even on
    # storages that would overwrite (S3) or after a rolled-back attempt.
    storage_name = (
        f"records/{file.authority_id}/{file.pk}/{document.pk}/v{number}-{uuid.uuid4().hex}{suffix}"
    )
    version.content.save(storage_name, ContentFile(bytes(content)), save=False)
    version.save()
    audit.record(
        actor=actor,
        action="records.version_added",
        obj=version,
        after={
            "file": file.reference,
            "document": document.pk,
            "number": number,
            "sha256": version.sha256,
            "size": version.size,
        },
        municipality=file.authority.municipality,
    )
    return version


def _open_file_for_writing(file: File) -> File:
    locked = File.objects.select_for_update().select_related("authority__municipality")
    current = locked.get(pk=file.pk)
    if current.is_disposed:
        raise RecordsError(
            _("The file %s has been disposed of; it takes no documents.") % current.reference
        )
    if current.is_closed:
        raise RecordsError(
            _("The file %s is closed; reopen it to add documents.") % current.reference
        )
    return current


@transaction.atomic
def add_document(
    *,
    file: File,
    title: str,
    kind: str,
    content: bytes,
    original_name: str,
    content_type: str,
    actor: Any,
) -> DocumentVersion:
    """File a new document in ``file``; returns its first version."""
    if kind not in DocumentKind.values:
        raise RecordsError(_("“%s” is not a kind of document.") % kind)
    title = _clean_title(title)
    if not title:
        raise RecordsError(_("A document needs a title."))
    current = _open_file_for_writing(file)
    document = RecordDocument.objects.create(
        file=current,
        title=title[:300],
        kind=kind,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit.record(
        actor=actor,
        action="records.document_added",
        obj=document,
        after={"file": current.reference, "title": document.title, "kind": kind},
        municipality=current.authority.municipality,
    )
    return _store_version(
        document=document,
        number=1,
        content=content,
        original_name=original_name,
        content_type=content_type,
        actor=actor,
    )


@transaction.atomic
def add_version(
    *,
    document: RecordDocument,
    content: bytes,
    original_name: str,
    content_type: str,
    actor: Any,
) -> DocumentVersion:
    """Add the next version of ``document``; earlier versions stay as they are."""
    _open_file_for_writing(document.file)  # locks the file: versions are numbered one at a time
    document = RecordDocument.objects.select_related("file__authority__municipality").get(
        pk=document.pk
    )
    return _store_next_version(document, content, original_name, content_type, actor)


def _store_next_version(
    document: RecordDocument, content: bytes, original_name: str, content_type: str, actor: Any
) -> DocumentVersion:
    """Store ``content`` as the version after the document's last; the caller holds the lock."""
    last = document.versions.aggregate(last=Max("number"))["last"] or 0
    return _store_version(
        document=document,
        number=last + 1,
        content=content,
        original_name=original_name,
        content_type=content_type,
        actor=actor,
    )


def add_preservation_copy(
    *, document: RecordDocument, content: bytes, original_name: str, content_type: str
) -> DocumentVersion:
    """File ``content`` as the next version of ``document`` when it only preserves the latest
    version (a renewed archive time stamp, :mod:`rathaus.records.preservation`): allowed in a
    closed file, as it changes nothing in the content, never in a disposed one. Call it inside
    the transaction that holds the file's row lock."""
    if document.file.is_disposed:
        raise RecordsError(
            _("The file %s has been disposed of; it takes no documents.") % document.file.reference
        )
    return _store_next_version(document, content, original_name, content_type, None)


def read_version(version: DocumentVersion) -> bytes:
    """The content of ``version``, after checking it against its recorded SHA-256.

    Raises :class:`~rathaus.records.errors.IntegrityError` when the stored bytes differ (or are
    gone): a changed document is never handed out as if it were the filed one.
    """
    try:
        return read_verified(
            version.content, sha256=version.sha256, what="records version", version=version.pk
        )
    except StoredFileUnavailable as exc:
        if exc.reason == "missing":
            message = _("The stored content of %(document)s, version %(number)d, is missing.")
        else:
            message = _(
                "The stored content of %(document)s, version %(number)d, does not match its "
                "SHA-256 hash; it has been changed outside the application."
            )
        raise IntegrityError(
            message % {"document": version.document.title, "number": version.number}
        ) from exc
