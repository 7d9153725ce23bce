"""The rules of a file plan: decimal keys, their hierarchy and the Aktenzeichen format.

Keys are decimal and hierarchical: in the first segment every digit is one level (``3`` →
``32``), after that every dotted segment is one level (``32`` → ``32.10`` → ``32.10.05``), as
in the municipal plans along the budget outline 0 to 9 (REFERENCE.md, "Records").
"""

from __future__ import annotations

import re
import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

KEY_MAX_LENGTH = 40
_KEY = re.compile(r"[0-9]+(?:\.[0-9]+)*")  # ASCII only: \d also matches "٣"

DEFAULT_REFERENCE_FORMAT = "{plan}-{serial:04d}/{year}"
DEFAULT_UNIT_REFERENCE_FORMAT = "{unit}-{plan}-{serial:04d}/{year}"
REFERENCE_MAX_LENGTH = 80
#: The longest retention period of a plan entry, in years (CSV import and admin alike).
MAX_RETENTION_YEARS = 200
_PLACEHOLDERS = {"plan", "unit", "serial", "year"}


def is_valid_key(key: str) -> bool:
    return len(key) <= KEY_MAX_LENGTH and bool(_KEY.fullmatch(key))


def validate_key(key: str) -> None:
    if not is_valid_key(key):
        raise ValidationError(
            _(
                "“%(key)s” is not a file plan key: digits, levels after the first separated by "
                "dots (e.g. 32.10.05), at most %(max)s characters."
            ),
            code="invalid_key",
            params={"key": key, "max": KEY_MAX_LENGTH},
        )


def parent_key(key: str) -> str | None:
    """The key of the group above ``key``, or ``None`` for a main group (one digit)."""
    if "." in key:
        return key.rsplit(".", 1)[0]
    if len(key) > 1:
        return key[:-1]
    return None


def depth(key: str) -> int:
    """The level of ``key`` in the plan: ``3`` is 1, ``32`` is 2, ``32.10`` is 3."""
    first, *rest = key.split(".")
    return len(first) + len(rest)


def sort_key(key: str) -> str:
    """A text that orders keys as the plan reads: ``3`` < ``32`` < ``32.2`` < ``32.10``."""
    first, *rest = key.split(".")
    return ".".join(f"{int(level):04d}" for level in (*first, *rest))


def placeholders(template: str) -> set[str]:
    """The placeholder names of a format (raises ``ValueError`` for a malformed one)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def validate_reference_format(template: str, *, needs_unit: bool = False) -> None:
    """A format must have ``{serial}`` and only the known placeholders, and must render."""
    try:
        names = placeholders(template)
    except ValueError as exc:
        raise ValidationError(
            _("The format cannot be filled in: %(error)s"),
            code="invalid_format",
            params={"error": exc},
        ) from exc
    unknown = names - _PLACEHOLDERS
    if unknown:
        raise ValidationError(
            _(
                "Unknown placeholder %(names)s; allowed are {plan}, {unit}, {serial} (e.g. "
                "{serial:04d}) and {year}."
            ),
            code="unknown_placeholder",
            params={"names": ", ".join(sorted(unknown))},
        )
    if "serial" not in names:
        raise ValidationError(
            _("The format needs the serial number {serial}, otherwise references repeat."),
            code="no_serial",
        )
    if needs_unit and "unit" not in names:
        raise ValidationError(
            _("The format for files of an org unit needs the unit mark {unit}."),
            code="no_unit",
        )
    try:
        example = format_reference(template, plan="32.10.05", unit="33.1", serial=42, year=2026)
        other = format_reference(template, plan="32.10.05", unit="33.1", serial=43, year=2026)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValidationError(
            _("The format cannot be filled in: %(error)s"),
            code="invalid_format",
            params={"error": exc},
        ) from exc
    if example == other:
        raise ValidationError(
            _("The format must show the serial number, otherwise references repeat."),
            code="serial_hidden",
        )
    if len(example) > REFERENCE_MAX_LENGTH - 20:
        raise ValidationError(_("The format gives references that are too long."), code="long")


def validate_unit_reference_format(template: str) -> None:
    validate_reference_format(template, needs_unit=True)


def format_reference(template: str, *, plan: str, unit: str, serial: int, year: int) -> str:
    return template.format(plan=plan, unit=unit, serial=serial, year=year)


def counter_scope(templates: tuple[str, str], *, plan: str, year: int) -> str:
    """The distinguishing part of the serial-number counter's name.

    The counter runs per plan entry and per year only where both formats of the plan (with and
    without unit) show them: ``{plan}-{serial}/{year}`` counts per entry and year,
    ``{serial}/{year}`` per year. Files with and without a unit share the counter, so no two
    references of an authority ever repeat.
    """
    names = placeholders(templates[0]) & placeholders(templates[1])
    return f"{plan if 'plan' in names else '*'}:{year if 'year' in names else '*'}"
