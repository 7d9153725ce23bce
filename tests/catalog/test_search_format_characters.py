"""Catalog search and format characters: a word spelt with a zero width (non-)joiner or a soft
hyphen is one word, found typed with or without it (stored text and query alike)."""

from __future__ import annotations

import pytest

from rathaus.catalog.models import Service
from rathaus.catalog.search import index_text, normalize, query_terms
from rathaus.catalog.selectors import search_services

ZWNJ = "\u200c"
# Persian "mihan" ("homeland"): MEEM YEH, ZWNJ, HEH NOON; joined and plain.
JOINED = f"\u0645\u06cc{ZWNJ}\u0647\u0646"
PLAIN = JOINED.replace(ZWNJ, "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (JOINED, PLAIN),
        ("Bewohner\u00adparkausweis", "bewohnerparkausweis"),  # soft hyphen
        ("Führer\u200bschein", "fuehrerschein"),  # zero width space
        ("\u200eKindergeld\u200f", "kindergeld"),  # direction marks
    ],
)
def test_format_characters_are_dropped_not_taken_for_spaces(text: str, expected: str) -> None:
    assert normalize(text) == expected
    assert query_terms(text) == [expected]


@pytest.mark.parametrize(
    ("stored", "typed"),
    [(JOINED, PLAIN), (PLAIN, JOINED), ("Zwerg\u00adkaninchen", "Zwergkaninchen")],
)
def test_a_service_is_found_with_or_without_format_characters(
    db: None, stored: str, typed: str
) -> None:
    Service.objects.filter(slug="kindergeld").update(search_text=index_text(f"Kindergeld {stored}"))
    assert [service.slug for service in search_services(query=typed)] == ["kindergeld"]
