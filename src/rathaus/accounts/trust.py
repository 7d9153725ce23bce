"""Trust levels (Vertrauensniveau, § 3 Abs. 4 OZG, eIDAS) and how federation protocols name them.

Our levels are ``low`` (a registration with user name and password), ``substantial`` (ELSTER
certificate or another eIDAS-notified means) and ``high`` (online ID card, eID). BundID asks for
and reports them as STORK QAA levels; its attributes carry an ``akdb:TrustLevel`` each.
"""

from __future__ import annotations

from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

#: The session key that carries the level this login reached (read by the application flow).
SESSION_KEY = "rathaus_trust_level"


class Level(models.TextChoices):
    LOW = "low", _("low (user name and password)")
    SUBSTANTIAL = "substantial", _("substantial (e.g. ELSTER certificate)")
    HIGH = "high", _("high (online ID card, eID)")


ORDER: list[str] = [Level.LOW, Level.SUBSTANTIAL, Level.HIGH]

# RequestedAuthnContext / AuthnContextClassRef of the BundID SAML profile.
STORK_BY_LEVEL = {
    Level.LOW: "STORK-QAA-Level-1",
    Level.SUBSTANTIAL: "STORK-QAA-Level-3",
    Level.HIGH: "STORK-QAA-Level-4",
}
_LEVEL_BY_STORK = {
    "STORK-QAA-Level-1": Level.LOW,
    "STORK-QAA-Level-2": Level.LOW,
    "STORK-QAA-Level-3": Level.SUBSTANTIAL,
    "STORK-QAA-Level-4": Level.HIGH,
}
# The per-attribute akdb:TrustLevel values.
_LEVEL_BY_AKDB = {
    "UNTERGEORDNET": None,
    "NORMAL": Level.LOW,
    "SUBSTANTIELL": Level.SUBSTANTIAL,
    "HOCH": Level.HIGH,
}
AKDB_BY_LEVEL = {Level.LOW: "NORMAL", Level.SUBSTANTIAL: "SUBSTANTIELL", Level.HIGH: "HOCH"}


def rank(level: str) -> int:
    return ORDER.index(Level(level))


def suffices(*, required: str, reached: str) -> bool:
    return rank(reached) >= rank(required)


def lowest(levels: list[str]) -> str:
    return min(levels, key=rank)


def from_stork(value: str) -> str | None:
    """``STORK-QAA-Level-4`` (also as a URI ending in it) → ``high``; unknown values → None."""
    for name, level in _LEVEL_BY_STORK.items():
        if value == name or value.endswith("/" + name) or value.endswith(":" + name):
            return level
    return None


def from_akdb(value: str) -> str | None:
    """An attribute's akdb:TrustLevel → our level; ``UNTERGEORDNET`` and unknown → None."""
    return _LEVEL_BY_AKDB.get(value.strip().upper())


def session_level(request: HttpRequest) -> str:
    """The level this session's login reached; a local account counts as ``low``."""
    value = request.session.get(SESSION_KEY, Level.LOW)
    return value if value in ORDER else Level.LOW
