"""``Case.purged_on``, and the one narrow way past the append-only triggers of 0002.

After a case's file has been disposed of, ``casework.disposal.purge_case`` clears the personal
texts of its history (``CaseEvent.note``/``data``, and ``actor_label`` where the citizen
acted) and notes (``CaseNote.text``). The triggers still refuse every DELETE and every other
UPDATE; they let an UPDATE through only when

- the transaction set ``rathaus.purge`` to ``on`` (``set_config('rathaus.purge', 'on', true)``,
  transaction-local; only ``purge_case`` does, and switches it off again right after), and
- nothing but the purged columns changes (besides the user reference, as before), and the
  free text becomes empty.

SQLite has no triggers (the model and queryset guards of ``AppendOnlyModel`` apply there).
"""

from django.db import migrations, models

# table -> (user column, purged columns, the text column that must become empty)
TABLES = {
    "casework_caseevent": ("actor_id", ("note", "data", "actor_label"), "note"),
    "casework_casenote": ("author_id", ("text",), "text"),
}


def _function(table: str, user_column: str, purged: tuple[str, ...], text: str) -> str:
    keep = " - ".join(f"'{column}'" for column in purged)
    return f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{table} is append-only: DELETE refused';
    END IF;
    IF (to_jsonb(NEW) - '{user_column}') IS NOT DISTINCT FROM (to_jsonb(OLD) - '{user_column}') THEN
        RETURN NEW;
    END IF;
    -- casework.disposal.purge_case: personal text of a disposed case's history only
    IF current_setting('rathaus.purge', true) = 'on'
        AND NEW.{text} = ''
        AND (to_jsonb(NEW) - '{user_column}' - {keep})
            IS NOT DISTINCT FROM (to_jsonb(OLD) - '{user_column}' - {keep}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{table} is append-only: UPDATE refused';
END;
$$ LANGUAGE plpgsql;
"""


def _original(table: str, user_column: str) -> str:
    """The function as 0002 created it (for going back)."""
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
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        for table, (user_column, purged, text) in TABLES.items():
            schema_editor.execute(_function(table, user_column, purged, text))


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        for table, (user_column, _purged, _text) in TABLES.items():
            schema_editor.execute(_original(table, user_column))


class Migration(migrations.Migration):
    dependencies = [("casework", "0013_revocation_notice")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="purged_on",
            field=models.DateField(blank=True, null=True, verbose_name="personal data purged on"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
