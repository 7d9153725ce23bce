"""The stored ``name_vector`` (0007) of the name without format characters, PostgreSQL only.

PostgreSQL's parser breaks a word at a zero width non-joiner or joiner, which Persian, Kurdish
and Indic names are spelt with between two letters: such a name was stored as two words, and a
search for it typed without the joiner found nothing, nor the other way round. The queue drops
the format characters (Unicode category Cf, ``casework.selectors.NAME_FORMAT_CHARACTERS``) from
what is typed; the column now holds the vector of the name without the same characters.

PostgreSQL 15 cannot change the expression of a generated column: it is dropped (and with it
the four indexes of 0007 built on it) and added again in one ``ALTER TABLE``, which rewrites the
table and its other indexes once with it locked (35 to 40 s at a million cases, measured in
docs/modules/casework.md); then the four indexes are built again CONCURRENTLY and the table
vacuumed (together under 10 s), while a name search works without them, slower. Run again
after a failure, it does not rewrite the table a second time. Going back is the same.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from rathaus.casework.migrations._postgres_indexes import create_indexes

OPEN = "('received', 'in_review', 'waiting_for_citizen')"
#: ``casework.selectors.NAME_FORMAT_CHARACTERS`` as it was when this migration was written
#: (Unicode 14.0), in an escape string: PostgreSQL's regular expressions read ``\uXXXX`` and
#: ``\UXXXXXXXX`` as Python's do.
FORMAT_CHARACTERS = (
    r"[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    r"\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    r"\U000e0020-\U000e007f]"
)
NAME = "COALESCE(applicant_name, '')"
PATTERN = "E'" + FORMAT_CHARACTERS.replace("\\", "\\\\") + "'"
NEW_VECTOR = f"to_tsvector('german'::regconfig, regexp_replace({NAME}, {PATTERN}, '', 'g'))"
OLD_VECTOR = f"to_tsvector('german'::regconfig, {NAME})"

#: The indexes of 0007, which dropping the column drops.
INDEXES = {
    "case_name_vector_idx": "casework_case USING gin (name_vector)",
    "case_unit_name_vector_idx": "casework_case USING gin (org_unit_id, name_vector)",
    "case_unit_due_name_idx": "casework_case (org_unit_id, due_on, id) INCLUDE (name_vector)",
    "case_unit_open_due_name_idx": (
        f"casework_case (org_unit_id, due_on, id) INCLUDE (name_vector) WHERE status IN {OPEN}"
    ),
}


def _drops_format_characters(schema_editor: Any) -> bool:
    """Whether the column already has the new expression (a run after a failure)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT generation_expression FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'casework_case' "
            "AND column_name = 'name_vector'"
        )
        row = cursor.fetchone()
    return row is not None and "regexp_replace" in (row[0] or "")


def _replace_column(schema_editor: Any, vector: str) -> None:
    schema_editor.execute(
        "ALTER TABLE casework_case DROP COLUMN IF EXISTS name_vector, "
        f"ADD COLUMN name_vector tsvector GENERATED ALWAYS AS ({vector}) STORED"
    )


def _rebuild(schema_editor: Any, *, vector: str, new: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    if _drops_format_characters(schema_editor) != new:
        _replace_column(schema_editor, vector)
    create_indexes(schema_editor, INDEXES)
    # The rewritten table has no visibility map, which the queue's index-only scans of the
    # ordered indexes need, and the new column no statistics, by which the planner chooses
    # between them and the name's GIN index; autovacuum would not see to either soon.
    schema_editor.execute("VACUUM (ANALYZE) casework_case")


def forward(apps: Any, schema_editor: Any) -> None:
    _rebuild(schema_editor, vector=NEW_VECTOR, new=True)


def backward(apps: Any, schema_editor: Any) -> None:
    _rebuild(schema_editor, vector=OLD_VECTOR, new=False)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("casework", "0017_notice_revocation_request")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
