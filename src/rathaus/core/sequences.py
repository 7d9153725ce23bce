"""Identifiers from dedicated counters (STYLE.md: unique under concurrency, never reused)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from rathaus.core.models import Sequence


def next_value(name: str) -> int:
    """The next number of the counter ``name`` (starting at 1), inside the caller's transaction.

    The row is locked until the transaction ends, so two concurrent callers never get the same
    number; a rolled-back transaction leaves its number unused by anyone else.
    """
    with transaction.atomic():
        Sequence.objects.get_or_create(name=name)
        Sequence.objects.filter(name=name).update(value=F("value") + 1)
        return int(Sequence.objects.select_for_update().get(name=name).value)
