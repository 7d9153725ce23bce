"""Everything stored about a person, for the data export (Art. 15, 20 GDPR) and erasure (Art. 17).

Accounts knows only its own data. Higher modules (applications, mailbox, payments, …) add their
part without accounts importing them: in their ``AppConfig.ready`` they call
:func:`register_export_section` and, where they keep personal data,
:func:`register_erasure_handler`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

JSONValue = Any  #: a value :func:`json.dumps` (with DjangoJSONEncoder) can write

#: Format version of the export document; raise it when the shape changes.
EXPORT_FORMAT = "rathaus.personal-data/1"


class ErasureBlocked(Exception):
    """Raised by an erasure handler when the law requires keeping the data for now.

    The message is shown to the citizen, e.g. "A case is still being processed."
    """


@dataclass(frozen=True)
class _Section:
    name: str
    collect: Callable[[Any], JSONValue]


_export_sections: dict[str, _Section] = {}
_erasure_handlers: dict[str, Callable[[Any], None]] = {}


def register_export_section(name: str, collect: Callable[[Any], JSONValue]) -> None:
    """Add a section ``name`` to every export; ``collect(user)`` returns JSON-ready data.

    Registering the same name again replaces the collector (app reloads in tests).
    """
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"Export section names are identifiers, not {name!r}.")
    _export_sections[name] = _Section(name=name, collect=collect)


def register_erasure_handler(name: str, handler: Callable[[Any], None]) -> None:
    """Call ``handler(user)`` inside the deletion transaction, before the user row goes.

    A handler deletes or anonymises its module's data, or raises :class:`ErasureBlocked`.
    """
    _erasure_handlers[name] = handler


def export_sections() -> list[str]:
    return list(_export_sections)


def collect_personal_data(user: Any) -> dict[str, JSONValue]:
    """The export document: a header and one key per registered section."""
    document: dict[str, JSONValue] = {
        "format": EXPORT_FORMAT,
        "created_at": timezone.now().isoformat(),
    }
    for section in _export_sections.values():
        document[section.name] = section.collect(user)
    return document


def run_erasure_handlers(user: Any) -> None:
    for handler in _erasure_handlers.values():
        handler(user)
