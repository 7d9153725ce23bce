"""Counters for reference numbers: from 1, one per name, gap-free among committed numbers."""

from __future__ import annotations

import pytest
from django.db import transaction

from rathaus.core.models import Sequence
from rathaus.core.sequences import next_value

pytestmark = pytest.mark.django_db


def test_a_new_counter_starts_at_one_and_counts_up() -> None:
    assert [next_value("test-a") for _ in range(3)] == [1, 2, 3]
    assert Sequence.objects.get(name="test-a").value == 3


def test_counters_are_independent() -> None:
    next_value("test-b")
    next_value("test-b")
    assert next_value("test-c") == 1
    assert next_value("test-b") == 3


def test_a_rolled_back_increment_leaves_no_gap() -> None:
    assert next_value("test-d") == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_value("test-d") == 2
        raise RuntimeError
    # the rolled-back increment never happened: the next committed number follows the last one
    assert next_value("test-d") == 2
