"""Values a citizen account asserts (OIDC claims, SAML attributes), made fit for the profile.

An identity provider is trusted for who a person is, not for how its text is encoded. The
profile prefills the application forms, which refuse invisible characters
(``core.unicode_text``), its names are compared with the registers and printed on notices. So a
value is cleaned where it arrives (``federation._accept``, again in ``federation.update_profile``):

- tabs, line breaks and every other kind of space become one space; the ends are trimmed;
- invisible format characters (zero-width space, soft hyphen, byte order mark, direction marks,
  overrides and isolates) are removed: they carry no letter, and U+202E would show a name
  reversed. A zero width (non-)joiner stays where it stands between letters, as
  ``core.unicode_text`` allows (Persian, Kurdish, Indic names);
- the text is composed (NFC), as typed text is.

A value that is still not usable is not taken over (``None``): one with a control character
(NUL, escape), a lone surrogate, a private-use or unassigned character — nothing a name is
written with, and a repaired version would be a guess —, one longer than the profile field
holds (never cut: a shortened name is another name), one that is empty once cleaned, and a date
of birth that is no date (``1964-00-00`` for an unknown day) or not a plausible one.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone

from rathaus.accounts.forms import EARLIEST_BIRTH_YEAR
from rathaus.accounts.models import Profile, User
from rathaus.core.unicode_text import JOINERS, has_refused_invisible, joins_letters

#: Longer values are not looked at: no profile field holds a tenth of it.
MAX_ASSERTED_LENGTH = 1000
#: Control characters that are white space (tab, line feed, …, next line).
_SPACE_CONTROLS = frozenset("\t\n\x0b\x0c\r\x85")
_SPACE_CATEGORIES = frozenset({"Zs", "Zl", "Zp"})
#: Control, surrogate, private use, unassigned: the value is not taken over.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def clean_text(value: str, *, max_length: int) -> str | None:
    """``value`` cleaned as described above; None if it cannot be used."""
    if len(value) > MAX_ASSERTED_LENGTH:
        return None
    kept: list[str] = []
    for char in value:
        category = unicodedata.category(char)
        if char in _SPACE_CONTROLS or category in _SPACE_CATEGORIES:
            kept.append(" ")
        elif category in _REFUSED_CATEGORIES:
            return None
        elif category != "Cf" or char in JOINERS:
            kept.append(char)
    text = unicodedata.normalize("NFC", "".join(kept))
    text = "".join(
        char for at, char in enumerate(text) if char not in JOINERS or joins_letters(text, at)
    )
    text = " ".join(part for part in text.split(" ") if part)
    if not text or len(text) > max_length or has_refused_invisible(text):
        return None
    return text


def clean_birth_date(value: str) -> str | None:
    """An ISO date (``YYYY-MM-DD``) that is a plausible date of birth, as the profile form
    accepts it (not in the future, not before :data:`forms.EARLIEST_BIRTH_YEAR`); None
    otherwise. Day or month ``00`` (unknown on some identity cards) is no date."""
    text = clean_text(value, max_length=10)
    if text is None or not _ISO_DATE.fullmatch(text):
        return None
    try:
        date = datetime.date.fromisoformat(text)
    except ValueError:
        return None
    if date > timezone.localdate() or date.year < EARLIEST_BIRTH_YEAR:
        return None
    return text


def clean_email(value: str) -> str | None:
    """The address as sent, trimmed; None if it holds a space, an invisible or control
    character or is longer than the column (254, RFC 5321). Never repaired: it is where the
    account's mail goes."""
    text = value.strip()
    limit = User._meta.get_field("email").max_length or 254
    if not text or len(text) > limit:
        return None
    if any(
        char.isspace() or unicodedata.category(char) in _REFUSED_CATEGORIES | {"Cf"}
        for char in text
    ):
        return None
    return text


def clean_attribute(name: str, value: object) -> str | None:
    """The value of the attribute ``name`` (``ExternalIdentity.attributes``) cleaned for its
    profile field; None if it cannot be used."""
    if not isinstance(value, str):
        return None
    if name == "email":
        return clean_email(value)
    if name == "birth_date":
        return clean_birth_date(value)
    return clean_text(value, max_length=_max_length(name))


def _max_length(name: str) -> int:
    try:
        field = Profile._meta.get_field(name)
    except FieldDoesNotExist:  # an attribute the profile has no field for (email)
        return MAX_ASSERTED_LENGTH
    return getattr(field, "max_length", None) or MAX_ASSERTED_LENGTH


def storable_identifier(value: str) -> bool:
    """Whether an issuer or subject (bPK2, ``sub``) can be kept as it is: no control character
    (PostgreSQL refuses NUL in text and JSON) and no lone surrogate (not encodable as UTF-8).
    An identifier is compared exactly, so it is refused, never cleaned."""
    return not any(unicodedata.category(char) in {"Cc", "Cs"} for char in value)
