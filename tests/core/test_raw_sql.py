"""The helpers for the few reads written as SQL: quoted table names, parameters, empty results."""

from __future__ import annotations

import pytest
from django.db import connection

from rathaus.core.models import Municipality
from rathaus.core.raw_sql import fetch_all, fetch_value, table

pytestmark = pytest.mark.django_db


def test_table_is_the_models_quoted_table_name() -> None:
    assert table(Municipality) == connection.ops.quote_name("core_municipality")


def test_values_travel_as_parameters_and_no_row_is_none() -> None:
    sql = f"SELECT name FROM {table(Municipality)} WHERE name = %s"  # noqa: S608
    hostile = "x' OR '1'='1"
    assert fetch_all(sql, [hostile]) == []
    assert fetch_value(sql, [hostile]) is None
    Municipality.objects.create(name=hostile, ags="09999999")
    assert fetch_all(sql, [hostile]) == [(hostile,)]
    assert fetch_value(sql, [hostile]) == hostile
