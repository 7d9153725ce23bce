"""Changing logged rows as an attacker with database access would: PostgreSQL's append-only
trigger refuses every UPDATE of the log, so tests that check what verification makes of a
changed row switch it off within their own transaction (the change and the switch roll back)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from rathaus.ledger.models import Entry


def change_entries(where: dict[str, Any], **values: Any) -> int:
    """``Entry.objects.filter(**where).update(**values)``, past the append-only trigger."""
    table = connection.ops.quote_name(Entry._meta.db_table)
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        with connection.cursor() as cursor:
            # deferred foreign-key checks still pending would block the ALTER TABLE
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        return Entry.objects.filter(**where).update(**values)
    finally:
        if postgresql:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
