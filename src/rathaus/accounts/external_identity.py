"""What a citizen-account login (SAML or OIDC) tells us, in one shape for both protocols."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rathaus.accounts.asserted_values import MAX_ASSERTED_LENGTH, clean_text


class FederationError(Exception):
    """A login answer we refuse. ``reason`` goes to the log, never to the citizen."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ExternalIdentity:
    issuer: str
    subject: str  # bPK2 (SAML) or ``sub`` (OIDC): stable for this citizen
    level: str  # low, substantial or high
    #: Profile values by our field name: given_names, family_name, birth_date (ISO),
    #: street, house_number, postal_code, place, email.
    attributes: dict[str, str] = field(default_factory=dict)
    #: The trust level each attribute was asserted with (None: below "low", e.g. self-declared).
    attribute_levels: dict[str, str | None] = field(default_factory=dict)
    email_verified: bool = False
    #: Attributes the provider sent that cannot be used (``asserted_values``): not in
    #: ``attributes``, so they are not taken over, and the profile page says so.
    unusable: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "subject": self.subject,
            "level": self.level,
            "attributes": self.attributes,
            "attribute_levels": self.attribute_levels,
            "email_verified": self.email_verified,
            "unusable": self.unusable,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ExternalIdentity:
        return cls(
            issuer=str(data["issuer"]),
            subject=str(data["subject"]),
            level=str(data["level"]),
            attributes=dict(data.get("attributes") or {}),  # type: ignore[call-overload]
            attribute_levels=dict(data.get("attribute_levels") or {}),  # type: ignore[call-overload]
            email_verified=bool(data.get("email_verified")),
            unusable=[str(name) for name in data.get("unusable") or []],  # type: ignore[attr-defined]
        )


_STREET_AND_NUMBER = re.compile(
    r"^(?P<street>.*\S)\s+(?P<number>\d{1,4}\s?[a-zA-Z]?(?:\s?[-/]\s?\d{1,4}\s?[a-zA-Z]?)?)$"
)


def split_street(value: str) -> tuple[str, str]:
    """``Friedrich-Engels-Allee 12a`` → (``Friedrich-Engels-Allee``, ``12a``).

    Split after cleaning (``asserted_values``): a line break or a soft hyphen in the line
    must not keep the house number in the street. A line that cannot be used comes back
    whole as the street, to be refused there."""
    cleaned = clean_text(value, max_length=MAX_ASSERTED_LENGTH)
    if cleaned is None:
        return value, ""
    match = _STREET_AND_NUMBER.match(cleaned)
    if match is None:
        return cleaned, ""
    return match["street"], match["number"].replace(" ", "")
