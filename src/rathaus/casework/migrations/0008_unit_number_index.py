"""The work queue sorted by case number, read in index order per org unit (PostgreSQL only).

Without it a unit's cases sorted by number were all read and sorted for every page (a unit
with 300,000 cases at a million); with it, as for the other sorts (0005), each branch of the
queue reads one page in order. Open cases use the same index, filtered.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEXES = {"case_unit_number_idx": "casework_case (org_unit_id, number, id)"}


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("casework", "0007_name_vector")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
