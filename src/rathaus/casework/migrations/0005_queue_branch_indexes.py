"""Indexes for reading the work queue branch by branch (``backoffice.queue``), PostgreSQL only.

The queue reads what a clerk may see as a union of branches, one per org unit (plus the cases
assigned to them): each branch is one of the indexes below read in order and cut after a page,
whichever unit and however old its cases are. Unit, status and due date: ``case_unit_queue_idx``
of the model. (A GIN index over unit and name, with
``btree_gin``, was tried for the name search and not chosen by the planner at a million cases.)
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

OPEN = "('received', 'in_review', 'waiting_for_citizen')"

INDEXES = {
    "case_unit_open_due_idx": f"casework_case (org_unit_id, due_on, id) WHERE status IN {OPEN}",
    "case_unit_open_opened_idx": (
        f"casework_case (org_unit_id, opened_at, id) WHERE status IN {OPEN}"
    ),
    "case_unit_status_opened_idx": "casework_case (org_unit_id, status, opened_at, id)",
    # The cases assigned to a clerk (in other units too): the branch of their own cases.
    "case_assignee_open_opened_idx": (
        f"casework_case (assigned_to_id, opened_at, id) WHERE status IN {OPEN}"
    ),
    "case_assignee_status_due_idx": "casework_case (assigned_to_id, status, due_on, id)",
    "case_assignee_status_opened_idx": "casework_case (assigned_to_id, status, opened_at, id)",
}


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

    dependencies = [("casework", "0004_queue_search_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
