"""Identifiers from dedicated counters (STYLE.md: unique under concurrency, never reused)."""

from __future__ import annotations

from django.db import connection

from rathaus.core.models import Sequence


def _increment_sql() -> str:
    """The statement, built from the model's own names only; the counter's name is a parameter."""
    quote = connection.ops.quote_name
    table, value, name = quote(Sequence._meta.db_table), quote("value"), quote("name")
    return f"UPDATE {table} SET {value} = {value} + 1 WHERE {name} = %s RETURNING {value}"  # noqa: S608


def next_value(name: str) -> int:
    """The next number of the counter ``name`` (starting at 1), inside the caller's transaction.

    One ``UPDATE … RETURNING`` (PostgreSQL; SQLite ≥ 3.35) increments and reads the counter: the
    row stays locked until the caller's transaction ends, so two concurrent callers never get the
    same number, and a rolled-back transaction gives its number back (gap-free among committed
    transactions). Only the first use of a name creates its row.
    """
    sql = _increment_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [name])
        row = cursor.fetchone()
        if row is None:
            # get_or_create copes with a concurrent first use (unique name, savepoint).
            Sequence.objects.get_or_create(name=name)
            cursor.execute(sql, [name])
            row = cursor.fetchone()
    return int(row[0])
