"""Indexes for reading the work queue branch by branch (``backoffice.queue``), PostgreSQL only.

The queue reads what a clerk may see as a union of branches, one per org unit (plus the cases
assigned to them): each branch is one of the indexes below read in order and cut after a page,
whichever unit and however old its cases are. Unit, status and due date: ``case_unit_queue_idx``
of the model. A name search within a unit reads one GIN index over unit and name (``btree_gin``
lets a GIN index carry the unit's id beside the lexemes; the unit must be compared as a bigint,
see ``casework.permissions.visibility_branches``) instead of combining the name's bitmap with a
bitmap of all the unit's cases.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from rathaus.casework.migrations._postgres_indexes import create_indexes, drop_indexes

OPEN = "('received', 'in_review', 'waiting_for_citizen')"

INDEXES = {
    "case_unit_open_due_idx": f"casework_case (org_unit_id, due_on, id) WHERE status IN {OPEN}",
    "case_unit_open_opened_idx": (
        f"casework_case (org_unit_id, opened_at, id) WHERE status IN {OPEN}"
    ),
    "case_unit_status_opened_idx": "casework_case (org_unit_id, status, opened_at, id)",
    # Over all statuses; also what a name search with a common prefix ("Müll", a twentieth of
    # all names) reads: in order, filtered, stopping after a page.
    "case_unit_due_idx": "casework_case (org_unit_id, due_on, id)",
    "case_unit_opened_idx": "casework_case (org_unit_id, opened_at, id)",
    # The cases assigned to a clerk (in other units too): the branch of their own cases.
    "case_assignee_open_opened_idx": (
        f"casework_case (assigned_to_id, opened_at, id) WHERE status IN {OPEN}"
    ),
    "case_assignee_status_due_idx": "casework_case (assigned_to_id, status, due_on, id)",
    "case_assignee_status_opened_idx": "casework_case (assigned_to_id, status, opened_at, id)",
    "case_unit_name_fts_idx": (
        "casework_case USING gin (org_unit_id, "
        "to_tsvector('german'::regconfig, COALESCE(applicant_name, '')))"
    ),
}


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # A trusted extension since PostgreSQL 13: the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    create_indexes(schema_editor, INDEXES)


def drop(apps: Any, schema_editor: Any) -> None:
    drop_indexes(schema_editor, INDEXES)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("casework", "0004_queue_search_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
