"""Shared by the ``disposal_*`` commands: finding a run, reading and writing files, without a
traceback for bad input."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from rathaus.records import xdomea
from rathaus.records.models import DisposalRun

T = TypeVar("T")


def find_run(label: str) -> DisposalRun:
    if not (label.isascii() and label.isdigit() and len(label) <= 18):
        raise CommandError(f"{label!r} is not the number of a disposal run.")
    run = DisposalRun.objects.select_related("authority__municipality").filter(pk=int(label))
    found = run.first()
    if found is None:
        raise CommandError(f"There is no disposal run {label}.")
    return found


def find_user(username: str) -> object:
    user_model = get_user_model()
    user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
    if user is None:
        raise CommandError(f"There is no user {username!r}.")
    return user


def read_message(path: Path) -> bytes:
    """The bytes of an archive message, at most ``xdomea.MAX_MESSAGE_BYTES``."""
    try:
        with path.open("rb") as f:
            data = f.read(xdomea.MAX_MESSAGE_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > xdomea.MAX_MESSAGE_BYTES:
        raise CommandError(f"{path} is larger than {xdomea.MAX_MESSAGE_BYTES >> 20} MB.")
    return data


def write_atomically(path: Path, write: Callable[[BinaryIO], T]) -> T:
    """Write ``path`` through a temporary file in the same directory, renamed only when
    ``write`` succeeded: a failed export never leaves a half-written file behind."""
    directory = path.parent if str(path.parent) else Path()
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(handle, "wb") as out:
            result = write(out)
        Path(temporary).replace(path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise CommandError(f"Cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result
