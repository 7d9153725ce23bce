"""The audit trail's user reference may only be cleared, never changed to another person.

The triggers of 0002 and 0005 compared each event without ``actor_id`` so that deleting a user
account (``on_delete=SET_NULL``) and the purge after a disposal (``core.audit.redact``) can clear
it; that let an UPDATE re-attribute an event to someone else. Now ``actor_id`` may stay as it is
or become NULL, and nothing else changes outside the purge (0005). SQLite has no triggers (the
model and queryset guards of ``AppendOnlyModel`` apply there).
"""

from importlib import import_module

from django.db import migrations

ACTOR_ONLY_CLEARED = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The audit trail is append-only: DELETE refused';
    END IF;
    -- a deleted account or the purge clears the user reference; nothing ever sets another
    IF NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL THEN
        RAISE EXCEPTION 'The audit trail is append-only: UPDATE refused';
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


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ACTOR_ONLY_CLEARED)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        previous = import_module("rathaus.core.migrations.0005_audit_purge_bypass")
        schema_editor.execute(previous.PURGEABLE)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_audit_purge_bypass")]
    operations = [migrations.RunPython(forwards, backwards)]
