"""On PostgreSQL the database itself refuses edits to a case's history and notes.

Only the user references may change (set to NULL when a user account is deleted; ``actor_label``
keeps who it was). SQLite relies on the model and queryset guards (``AppendOnlyModel``).
"""

from django.db import migrations

TABLES = {
    "casework_caseevent": "actor_id",
    "casework_casenote": "author_id",
}


def _create(table: str, user_column: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{table} is append-only: DELETE refused';
    END IF;
    IF (to_jsonb(NEW) - '{user_column}') IS DISTINCT FROM (to_jsonb(OLD) - '{user_column}') THEN
        RAISE EXCEPTION '{table} is append-only: UPDATE refused';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
"""


def _drop(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP FUNCTION IF EXISTS {table}_append_only();
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        for table, user_column in TABLES.items():
            schema_editor.execute(_create(table, user_column))


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(_drop(table))


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
