"""Invisible characters in text that people type: which ones a name or an address may hold.

Control, invisible format (zero-width space, soft hyphen, direction marks and overrides, byte
order mark), surrogate, private-use and unassigned characters are nothing a name or an address
is written with, and text that looks the same but is stored differently would not match. The
exception are ZERO WIDTH NON-JOINER (U+200C) and ZERO WIDTH JOINER (U+200D), which Persian,
Kurdish (Sorani) and Indic names are spelt with (The Unicode Standard, ch. 23.2 "Layout
Controls"): allowed only between two letters or a letter and a combining mark (categories L*
and M*), so never at the start or the end, doubled, or next to a space, digit, hyphen or other
sign. Used by the form engine's name fields and the landlord's form alike, so a tenant can type
a name as the landlord did.
"""

from __future__ import annotations

import unicodedata

#: ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER.
JOINERS = frozenset({"\u200c", "\u200d"})
#: Control, format, surrogate, private use, unassigned.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# Letter-letter, letter-mark (ZWNJ after a letter before a vowel sign) and mark-letter
# (a virama followed by ZWJ and the next consonant: a half form in Devanagari).
_JOINED = frozenset({"LL", "LM", "ML"})


def joins_letters(text: str, at: int) -> bool:
    """Whether ``text[at]`` is a zero width (non-)joiner between two letters or a letter and
    a combining mark."""
    if text[at] not in JOINERS or not 0 < at < len(text) - 1:
        return False
    kinds = unicodedata.category(text[at - 1])[0] + unicodedata.category(text[at + 1])[0]
    return kinds in _JOINED


def is_refused_invisible(text: str, at: int) -> bool:
    """Whether ``text[at]`` is an invisible or control character that is not allowed there."""
    return unicodedata.category(text[at]) in INVISIBLE_CATEGORIES and not joins_letters(text, at)


def has_refused_invisible(text: str) -> bool:
    """Whether ``text`` holds an invisible or control character that is not allowed where it
    stands (every one but a zero width (non-)joiner between letters)."""
    return any(is_refused_invisible(text, at) for at in range(len(text)))
