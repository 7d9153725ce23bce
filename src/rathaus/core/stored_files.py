"""Stored files: read back checked against the SHA-256 recorded when stored, and deleted
after the commit that let go of them.

What the authority hands out as proof (a file in the Postfach, the receipt of an application)
must be the very file it stored: one gone from the storage, unreadable there or changed there
is refused and logged for the operator, never served as if it were the original. Callers turn
:class:`StoredFileUnavailable` into their own message for the person asking. A file is deleted
from the storage only after the transaction that deleted its record has committed, through a
row naming it (:func:`delete_pending`), so a failed deletion is retried, never forgotten.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import F, Model, QuerySet
from django.db.models.fields.files import FieldFile

logger = logging.getLogger(__name__)


class StoredFileUnavailable(Exception):
    """The stored file cannot be handed out; ``reason`` is "missing" (gone or unreadable) or
    "changed" (its bytes differ from the recorded SHA-256, or none was recorded)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def read_verified(file: FieldFile, *, sha256: str, what: str, **context: Any) -> bytes:
    """The bytes of ``file`` if their SHA-256 is ``sha256``; otherwise logs an error naming
    ``what`` (with ``context``, e.g. a public id) and raises :class:`StoredFileUnavailable`."""
    extra = {"stored_file": what, "storage_name": file.name, **context}
    try:
        with file.open("rb") as stored:
            content = stored.read()
    except (OSError, ValueError) as exc:  # ValueError: the field names no file at all
        logger.error("stored file missing: %s", what, extra={**extra, "error": str(exc)[:300]})
        raise StoredFileUnavailable("missing") from exc
    if not sha256 or hashlib.sha256(content).hexdigest() != sha256:
        logger.error("stored file does not match its SHA-256: %s", what, extra=extra)
        raise StoredFileUnavailable("changed")
    return content


def delete_pending(pending: QuerySet[Model], *, storage: Storage, what: str) -> int:
    """Delete the stored file each row of ``pending`` names (``storage_name``), row by row,
    and the row with it; returns how many are still pending.

    The rows (``storage_name``, ``attempts``, ``last_error``) were written in the transaction
    that let go of the files, so a file is deleted only after that commit and never lost
    track of: one the storage refuses is logged as an error naming ``what``, keeps its row
    (attempts counted, error kept) for the next run, and does not stop the others.
    """
    left = 0
    for row in list(pending.order_by("pk")):
        name = row.storage_name  # type: ignore[attr-defined]
        try:
            storage.delete(name)
        except Exception as exc:  # any storage failure: keep the row, retry later
            logger.error(
                "stored file not deleted: %s",
                what,
                extra={"stored_file": what, "storage_name": name, "error": repr(exc)[:300]},
            )
            pending.model._default_manager.filter(pk=row.pk).update(
                attempts=F("attempts") + 1, last_error=repr(exc)[:500]
            )
            left += 1
            continue
        pending.model._default_manager.filter(pk=row.pk).delete()
    return left


def note_commit(committed: list[bool]) -> None:
    """Call in a transaction: ``committed`` gets an entry once it commits, before any other
    commit hook of that transaction that could stop the hooks after it (:func:`_on_commit_first`),
    so a hook that fails after the commit cannot hide it: the files written in it are then the
    committed rows' and must stay; while it is empty, a failure means they belong to nothing and
    may be deleted."""
    _on_commit_first(lambda: committed.append(True))


def delete_unless_committed(written: list[str], *, storage: Storage, what: str) -> None:
    """Delete the files named in ``written`` (filled afterwards) from ``storage`` unless the
    transaction this is called in commits: call it there before the first file is written.

    For code that runs inside a caller's transaction, which may still roll back after it
    returned. Django has no hook for a rollback, but it drops the commit hooks of a
    transaction (or savepoint) that rolls back: a hook that never ran when it is dropped means
    no commit, and its finalizer deletes the files. The hook runs before every commit hook of
    the transaction that is not robust (:func:`_on_commit_first`), also one the caller
    registered earlier: such a hook raising at the commit, which makes Django skip the hooks
    after it, cannot make the files of a committed transaction look rolled back.
    """
    committed: list[bool] = []

    def noted() -> None:
        committed.append(True)

    def delete_if_rolled_back() -> None:
        if committed:
            return
        for name in written:
            try:
                storage.delete(name)
            except Exception:  # a finalizer must not raise; the file is only left over
                logger.exception("file of a rolled-back %s not deleted", what, extra={"file": name})

    weakref.finalize(noted, delete_if_rolled_back)
    _on_commit_first(noted)


def _on_commit_first(hook: Callable[[], None]) -> None:
    """Register ``hook`` (robust) so that it runs when the current transaction commits, before
    any of its commit hooks that could keep it from running.

    Django runs commit hooks in the order they were added and stops at the first that raises
    unless it was registered ``robust``, dropping the rest. So ``hook`` goes before the first
    hook that is not robust, also one registered earlier (it stays last when there is none).
    Each entry keeps the savepoints it belongs to, so a rollback to a savepoint still drops it.
    Outside a transaction Django runs it at once.
    """
    connection = transaction.get_connection()
    transaction.on_commit(hook, robust=True)
    if not connection.in_atomic_block:
        return
    hooks = connection.run_on_commit
    ours = hooks.pop()
    fragile = [index for index, (_ids, _hook, robust) in enumerate(hooks) if not robust]
    hooks.insert(fragile[0] if fragile else len(hooks), ours)
