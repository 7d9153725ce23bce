"""The applicant's name as a stored ``tsvector`` column, PostgreSQL only (``name_vector``).

A name search in a unit reads either the GIN index over unit and name (a rare name) or the
unit's cases in the queue's order, filtered by name, stopping after a page (a common one). The
second way used to compute ``to_tsvector`` and fetch the table row for every case it passed:
30–45 ms for a first-letters search such as "Zimm" at a million cases. With the vector stored
and carried in the ordered indexes (``INCLUDE``), no name is parsed: 2–6 ms. The GIN
indexes of 0004 and 0005 move from the expression to the column; the ordered indexes of 0005
are replaced by the same keys with the vector included.

Adding a stored generated column rewrites the table once (about a minute at a million cases,
with the table locked); see docs/operations.md. The model does not know the column: PostgreSQL
fills it, and ``casework.search.name_vector()`` refers to it in queries.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from rathaus.casework.migrations._postgres_indexes import create_indexes, drop_indexes

OPEN = "('received', 'in_review', 'waiting_for_citizen')"
VECTOR = "to_tsvector('german'::regconfig, COALESCE(applicant_name, ''))"

NEW_INDEXES = {
    "case_name_vector_idx": "casework_case USING gin (name_vector)",
    "case_unit_name_vector_idx": "casework_case USING gin (org_unit_id, name_vector)",
    "case_unit_due_name_idx": "casework_case (org_unit_id, due_on, id) INCLUDE (name_vector)",
    "case_unit_open_due_name_idx": (
        f"casework_case (org_unit_id, due_on, id) INCLUDE (name_vector) WHERE status IN {OPEN}"
    ),
}
#: What the new indexes replace (0004 and 0005), to restore when going back.
OLD_INDEXES = {
    "case_name_fts_idx": f"casework_case USING gin ({VECTOR})",
    "case_unit_name_fts_idx": f"casework_case USING gin (org_unit_id, {VECTOR})",
    "case_unit_due_idx": "casework_case (org_unit_id, due_on, id)",
    "case_unit_open_due_idx": f"casework_case (org_unit_id, due_on, id) WHERE status IN {OPEN}",
}


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE casework_case ADD COLUMN IF NOT EXISTS name_vector tsvector "
        f"GENERATED ALWAYS AS ({VECTOR}) STORED"
    )
    create_indexes(schema_editor, NEW_INDEXES)
    drop_indexes(schema_editor, OLD_INDEXES)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    create_indexes(schema_editor, OLD_INDEXES)
    drop_indexes(schema_editor, NEW_INDEXES)
    schema_editor.execute("ALTER TABLE casework_case DROP COLUMN IF EXISTS name_vector")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("casework", "0006_assignee_unit_index")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
