"""The parties of a letter (DIN 5008): the sending authority and the recipient's address.

``documents/letter_base.html`` expects ``sender`` (a :class:`Sender`), ``recipient`` (a
:class:`Recipient`), ``reference`` (the Aktenzeichen), ``date`` and ``subject`` in the context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rathaus.core.models import Authority, OrgUnit


def _address_lines(address: str) -> tuple[str, ...]:
    """'Johannes-Rau-Platz 1, 42275 Wuppertal' or a multi-line address -> one line per part."""
    parts = re.split(r"\s*(?:\n|,)\s*", address.strip())
    return tuple(part for part in parts if part)


@dataclass(frozen=True)
class Sender:
    """The issuing authority, as printed in the letterhead, return address and footer."""

    municipality: str
    authority: str
    address_lines: tuple[str, ...]
    unit: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    opening_hours: str = ""

    @classmethod
    def from_authority(cls, authority: Authority, *, unit: OrgUnit | None = None) -> Sender:
        return cls(
            municipality=authority.municipality.name,
            authority=authority.name,
            unit=f"{unit.code} {unit.name}" if unit else "",
            address_lines=_address_lines(authority.address),
            phone=authority.phone,
            email=authority.email,
            website=authority.website,
            opening_hours=authority.opening_hours,
        )

    @property
    def address_line(self) -> str:
        """The address on one line, as in the footer."""
        return ", ".join(self.address_lines)

    @property
    def return_address(self) -> str:
        """The one-line sender above the recipient's address (Rücksendeangabe)."""
        return " · ".join([self.municipality, self.authority, *self.address_lines])

    @property
    def display_name(self) -> str:
        """Who issued the document, as in the PDF's author field."""
        return f"{self.municipality}, {self.authority}"


@dataclass(frozen=True)
class Recipient:
    """A postal address: name lines, then street and town lines (at most nine lines together)."""

    name_lines: tuple[str, ...]
    address_lines: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # DIN 5008: the address zone (Anschriftzone) holds at most 9 lines.
        if not self.name_lines:
            raise ValueError("A recipient needs a name.")
        if len(self.name_lines) + len(self.address_lines) > 9:
            raise ValueError("A postal address has at most nine lines (DIN 5008).")

    @property
    def lines(self) -> tuple[str, ...]:
        return self.name_lines + self.address_lines
