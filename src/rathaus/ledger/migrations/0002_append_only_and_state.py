"""The log's state row, and on PostgreSQL a trigger that keeps entries append-only.

An entry may change once: when the sequencer gives it its index. SQLite relies on the model
and queryset guards.
"""

from typing import Any

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The GovChain log is append-only: DELETE refused';
    END IF;
    IF OLD.index IS NOT NULL
       OR (to_jsonb(NEW) - 'index') IS DISTINCT FROM (to_jsonb(OLD) - 'index') THEN
        RAISE EXCEPTION 'The GovChain log is append-only: UPDATE refused';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_entry_append_only();
"""


def create_trigger(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


def create_state(apps: Any, schema_editor: Any) -> None:
    apps.get_model("ledger", "LogState").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(create_trigger, drop_trigger),
        migrations.RunPython(create_state, migrations.RunPython.noop),
    ]
