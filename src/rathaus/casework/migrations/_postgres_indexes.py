"""Indexes that only PostgreSQL gets, built and dropped CONCURRENTLY (the migrations using them
are non-atomic). Django's migration loader skips this module (its name starts with "_")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import migrations


def create_indexes(schema_editor: Any, indexes: dict[str, str]) -> None:
    """``CREATE INDEX CONCURRENTLY IF NOT EXISTS name ON definition`` for each (PostgreSQL)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in indexes.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def drop_indexes(schema_editor: Any, names: Iterable[str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in names:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def index_operation(indexes: dict[str, str]) -> migrations.RunPython:
    """The migration step that creates ``indexes`` (name → definition) and drops them going back."""
    return migrations.RunPython(
        lambda apps, schema_editor: create_indexes(schema_editor, indexes),
        lambda apps, schema_editor: drop_indexes(schema_editor, indexes),
        elidable=False,
    )
