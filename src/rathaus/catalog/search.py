"""German-aware search normalisation for the service catalog.

Both the stored search text and the query go through :func:`normalize`, so that "Straße",
"Strasse" and "STRASSE" match, and so do "Führerschein", "Fuehrerschein" and "Fuhrerschein".
Matching is by substring on the normalised text, which works the same on SQLite and PostgreSQL
and finds partial words ("parkaus" → Bewohnerparkausweis). Letters of every script are words
("паспорт", "护照"); only punctuation, symbols and spaces separate them. Format characters
(category Cf: a zero width (non-)joiner between two letters, a soft hyphen) are dropped, not
taken for a space: a word is found typed with or without them.
"""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
# Anything but a letter or digit of any script (``\\w`` is Unicode-aware for str patterns).
_NON_WORD = re.compile(r"[\W_]+")
MAX_QUERY_LENGTH = 100
MAX_TERMS = 6


def _fold(text: str, table: dict[int, str]) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().translate(table)
    # Remaining accents (é, ç, …) lose their marks, format characters go (a zero width joiner
    # does not split a word); what is left is composed again (Hangul).
    text = unicodedata.normalize("NFKD", text)
    text = unicodedata.normalize(
        "NFC",
        "".join(
            c for c in text if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
        ),
    )
    return " ".join(_NON_WORD.sub(" ", text).split())


def normalize(text: str) -> str:
    """Case-folded, umlauts as ae/oe/ue, ß as ss, punctuation as single spaces, format
    characters dropped."""
    return _fold(text, _UMLAUTS)


def index_text(*parts: str) -> str:
    """Searchable text: each part in the ae/oe/ue form and in the form without the e.

    Queries are normalised to the ae/oe/ue form; a query typed without umlauts at all
    ("fuhrerschein") still finds the second form.
    """
    joined = " ".join(p for p in parts if p)
    with_e = normalize(joined)
    plain = _fold(joined, _PLAIN)
    return with_e if plain == with_e else f"{with_e} | {plain}"


def query_terms(query: str) -> list[str]:
    """The normalised words of a query, longest first, at most :data:`MAX_TERMS`.

    Empty for a query of punctuation only: callers must not take that for "no query".
    """
    terms = normalize(query[:MAX_QUERY_LENGTH]).split()
    unique = list(dict.fromkeys(terms))
    return sorted(unique, key=len, reverse=True)[:MAX_TERMS]
