"""Reading with hand-written SQL where the ORM's cost to build a query shows.

A few reads run on every request (staff roles and memberships, the second-factor check, the
Postfach's unread count); on this project's reference machine the ORM spends about a millisecond
building each of them. They are written as SQL with these helpers: table names come from the
models (quoted), values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def table(model: type[Model]) -> str:
    """The model's table name, quoted for the current database."""
    return connection.ops.quote_name(model._meta.db_table)


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` with ``params``."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return [tuple(row) for row in cursor.fetchall()]


def fetch_value(sql: str, params: Sequence[Any]) -> Any:
    """The first column of the first row of ``sql``, or None when there is no row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        row = cursor.fetchone()
    return None if row is None else row[0]
