"""IBAN check after ISO 13616: country length and the mod-97 check digits (ISO 7064)."""

from __future__ import annotations

import re

#: IBAN length per country, from the SWIFT IBAN registry.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")

#: Countries whose account part (BBAN) is digits only, from the SWIFT IBAN registry: a German
#: IBAN is the 8-digit bank code and the 10-digit account number, so a letter in it is a typing
#: error even when the check digits happen to fit.
NUMERIC_BBAN = frozenset(
    {"AT", "BE", "CZ", "DE", "DK", "EE", "ES", "FI", "HR", "LT", "NO", "PL", "PT", "SE", "SI", "SK"}
)


class InvalidIban(ValueError):
    """The reason, one of ``format``, ``country``, ``length``, ``checksum``, is in ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalize_iban(value: str) -> str:
    """Upper case without the spaces people type (``de89 3704 …`` → ``DE893704…``)."""
    return "".join(value.split()).upper()


def check_iban(value: str) -> str:
    """Return the normalised IBAN or raise :class:`InvalidIban` saying why it is wrong."""
    iban = normalize_iban(value)
    if not iban.isascii() or not _SHAPE.fullmatch(iban):
        raise InvalidIban("format")
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None:
        raise InvalidIban("country")
    if len(iban) != expected:
        raise InvalidIban("length")
    if iban[:2] in NUMERIC_BBAN and not iban[4:].isdigit():
        raise InvalidIban("format")
    if not ("02" <= iban[2:4] <= "98"):  # ISO 13616: mod 97 cannot tell 01 from 98, 00 from 97
        raise InvalidIban("checksum")
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    if int(digits) % 97 != 1:
        raise InvalidIban("checksum")
    return iban


def format_iban(iban: str) -> str:
    """Groups of four for display: ``DE89 3704 0044 0532 0130 00``."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
