"""The audit trail's one narrow way past its append-only trigger (0002): the purge of a disposed
file's events (``core.audit.redact``).

The trigger still refuses every DELETE and every other UPDATE; it lets an UPDATE through only
when the transaction set ``rathaus.purge`` to ``on`` (``core.purge.purging``), nothing but
``before``, ``after`` and ``actor_label`` changes (besides the user reference, as before), and
``before``/``after`` stay as they are or become the redaction marker ``{"redacted_on": …}``.
SQLite has no triggers (the model and queryset guards of ``AppendOnlyModel`` apply there).
"""

from django.db import migrations

PURGEABLE = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The audit trail is append-only: DELETE refused';
    END IF;
    IF (to_jsonb(NEW) - 'actor_id') IS NOT DISTINCT FROM (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    -- core.audit.redact: the values of a disposed file's events, and the person's label
    IF current_setting('rathaus.purge', true) = 'on'
        AND (NEW.before IS NOT DISTINCT FROM OLD.before OR NEW.before ->> 'redacted_on' IS NOT NULL)
        AND (NEW.after IS NOT DISTINCT FROM OLD.after OR NEW.after ->> 'redacted_on' IS NOT NULL)
        AND (to_jsonb(NEW) - 'actor_id' - 'before' - 'after' - 'actor_label')
            IS NOT DISTINCT FROM (to_jsonb(OLD) - 'actor_id' - 'before' - 'after' - 'actor_label')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'The audit trail is append-only: UPDATE refused';
END;
$$ LANGUAGE plpgsql;
"""

ORIGINAL = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The audit trail is append-only: DELETE refused';
    END IF;
    IF (to_jsonb(NEW) - 'actor_id') IS DISTINCT FROM (to_jsonb(OLD) - 'actor_id') THEN
        RAISE EXCEPTION 'The audit trail is append-only: UPDATE refused';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PURGEABLE)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ORIGINAL)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_sequence")]
    operations = [migrations.RunPython(forwards, backwards)]
