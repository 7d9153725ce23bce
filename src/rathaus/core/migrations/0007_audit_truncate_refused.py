"""The audit trail cannot be emptied with TRUNCATE either.

The row trigger of 0002 (function replaced by 0005/0006) refuses UPDATE and DELETE, but
TRUNCATE fires no row triggers: ``TRUNCATE core_auditevent`` (or ``manage.py flush``, which
truncates every table on PostgreSQL) wiped the trail. A statement trigger now refuses it,
unless the session set ``rathaus.allow_truncate`` to ``on``: only the test settings do, because
pytest-django empties the database with TRUNCATE after each transactional test. SQLite has no
TRUNCATE (the model and queryset guards of ``AppendOnlyModel`` apply there).
"""

from typing import Any

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION core_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('rathaus.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'The audit trail is append-only: TRUNCATE refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditevent_no_truncate
    BEFORE TRUNCATE ON core_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_no_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
DROP FUNCTION IF EXISTS core_auditevent_no_truncate();
"""


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0006_audit_actor_only_cleared")]
    operations = [migrations.RunPython(forwards, backwards)]
