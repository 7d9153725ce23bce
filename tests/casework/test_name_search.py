"""The format characters a name is searched without: what the queue drops from a search
(``casework.selectors.NAME_FORMAT_CHARACTERS``) is what the stored ``name_vector`` drops
(casework migration 0018, PostgreSQL), and the migration goes both ways."""

from __future__ import annotations

import importlib
import re
import sys
import unicodedata
from typing import Any

import pytest
from django.db import connection

from rathaus.casework.selectors import NAME_FORMAT_CHARACTERS, without_format_characters

MIGRATION: Any = importlib.import_module(
    "rathaus.casework.migrations.0018_name_vector_without_format_characters"
)
EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))


def test_the_migration_drops_the_characters_the_search_drops() -> None:
    assert MIGRATION.FORMAT_CHARACTERS == NAME_FORMAT_CHARACTERS


def test_the_format_characters_are_those_of_unicode_category_cf() -> None:
    dropped = set(re.findall(NAME_FORMAT_CHARACTERS, EVERY_CHARACTER))
    format_characters = {character for character in EVERY_CHARACTER if _is_format(character)}
    assert dropped <= format_characters
    if unicodedata.unidata_version == "14.0.0":  # the Unicode version the list was made from
        assert dropped == format_characters
    assert {"\u200c", "\u200d", "\u00ad", "\u200b", "\u200e", "\u202e", "\ufeff"} <= dropped


def _is_format(character: str) -> bool:
    return unicodedata.category(character) == "Cf"


def test_postgresql_drops_the_same_characters(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the stored tsvector exists on PostgreSQL only")
    # every format character and its neighbours, between letters
    text = "a".join(
        chr(code + step)
        for code in range(sys.maxunicode + 1)
        if _is_format(chr(code))
        for step in (-1, 0, 1)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT regexp_replace(%s, {MIGRATION.PATTERN}, '', 'g')", [text])
        assert cursor.fetchone()[0] == without_format_characters(text)


def _column() -> tuple[str, int, set[str]]:
    """The generation expression of ``name_vector``, the table's file node (new when the table
    is rewritten) and the indexes that include the column."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generation_expression FROM information_schema.columns "
            "WHERE table_name = 'casework_case' AND column_name = 'name_vector'"
        )
        expression = cursor.fetchone()[0]
        cursor.execute("SELECT relfilenode FROM pg_class WHERE relname = 'casework_case'")
        node = cursor.fetchone()[0]
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'casework_case' "
            "AND indexdef LIKE %s",
            ["%name_vector%"],
        )
        indexes = {row[0] for row in cursor.fetchall()}
    return expression, node, indexes


def _migrate(direction: Any) -> None:
    with connection.schema_editor(atomic=False) as editor:
        direction(None, editor)


@pytest.mark.django_db(transaction=True)
def test_the_migration_replaces_the_column_and_its_indexes_both_ways() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the stored tsvector exists on PostgreSQL only")
    expression, node, indexes = _column()
    assert "regexp_replace" in expression
    assert indexes == set(MIGRATION.INDEXES)
    try:
        _migrate(MIGRATION.backward)
        old_expression, old_node, old_indexes = _column()
        assert "regexp_replace" not in old_expression and old_node != node
        assert old_indexes == set(MIGRATION.INDEXES)
        _migrate(MIGRATION.backward)  # again (after a failure): no second rewrite
        assert _column() == (old_expression, old_node, old_indexes)
    finally:
        _migrate(MIGRATION.forward)
    new_expression, new_node, new_indexes = _column()
    assert "regexp_replace" in new_expression and new_node != old_node
    assert new_indexes == set(MIGRATION.INDEXES)
    _migrate(MIGRATION.forward)
    assert _column() == (new_expression, new_node, new_indexes)
