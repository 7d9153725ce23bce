"""Replace the row-by-row jsonb comparison of 0002 by column triggers PostgreSQL checks cheaply.

Sequencing sets only ``index``, so no trigger function runs for it; any UPDATE that names another
column is refused, so is setting ``index`` a second time, and DELETE. (TRUNCATE stays possible:
Django's test runner empties tables with it; it needs the table owner's rights.) A column added to
``ledger_entry`` later must be added to FROZEN_COLUMNS in a new migration.
"""

from typing import Any

from django.db import migrations

FROZEN_COLUMNS = (
    "id, kind, code, document_sha256, document_type, authority_id, reason, logged_at, leaf"
)

CREATE = f"""
DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_entry_append_only();
CREATE OR REPLACE FUNCTION ledger_entry_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The GovChain log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entry_frozen
    BEFORE UPDATE OF {FROZEN_COLUMNS} OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_refuse();
CREATE TRIGGER ledger_entry_index_once
    BEFORE UPDATE OF index ON ledger_entry
    FOR EACH ROW WHEN (OLD.index IS NOT NULL) EXECUTE FUNCTION ledger_entry_refuse();
"""
DROP = """
DROP TRIGGER IF EXISTS ledger_entry_frozen ON ledger_entry;
DROP TRIGGER IF EXISTS ledger_entry_index_once ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_entry_refuse();
"""


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_append_only_and_state")]

    operations = [migrations.RunPython(create, drop)]
