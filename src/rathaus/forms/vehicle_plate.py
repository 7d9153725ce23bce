"""German vehicle registration numbers (Kennzeichen) after § 8 and § 9 FZV.

A plate is a district code of one to three letters, one or two letters and a number of one to
four digits without a leading zero, eight characters at most, optionally followed by ``E``
(electric vehicle) or ``H`` (historic vehicle). People type it in many ways (``w ab 123``,
``W-AB123``); it is stored as ``W-AB 123``.
"""

from __future__ import annotations

import re

_PLATE = re.compile(
    r"(?P<district>[A-ZÄÖÜ]{1,3})[\s-]+(?P<letters>[A-Z]{1,2})[\s-]*"
    r"(?P<number>[1-9][0-9]{0,3})\s*(?P<suffix>[EH]?)"
)


def normalize_vehicle_plate(value: str) -> str | None:
    """The plate in the form ``W-AB 123`` (``W-AB 123E``), or ``None`` if it is no valid plate."""
    match = _PLATE.fullmatch(value.strip().upper())
    if match is None:
        return None
    district, letters, number, suffix = match.group("district", "letters", "number", "suffix")
    if len(district) + len(letters) + len(number) > 8:  # § 8 Abs. 1 FZV: eight characters at most
        return None
    return f"{district}-{letters} {number}{suffix}"
