"""Fixtures for the catalog tests: the demo tenancy and a clean cache per test."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.core.management import call_command


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Rendered catalog pages are cached; tests roll back the database, so clear the cache too."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo(db: None) -> None:
    """The Bergisches Städtedreieck with its division of labour (``manage.py load_demo``)."""
    call_command("load_demo", stdout=io.StringIO())
