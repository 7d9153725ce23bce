"""Reading a file plan from CSV, the way administrations keep and exchange their Aktenplan.

Columns (header row required, comma or semicolon separated, UTF-8):
``key``, ``title`` (required); ``retention_years`` (whole years, ``dauernd``/``permanent`` to
keep files permanently, empty to use the period of the group above); ``retention_trigger``
(``closed_year_end`` default, or ``closed``); ``disposal`` (``evaluate`` default, ``archive``,
``destroy``); ``description``. Every key's group must be in the same file. All rows are checked
before anything is written; each problem names its row (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

from rathaus.records import file_plan
from rathaus.records.errors import PlanImportError
from rathaus.records.models import DisposalAction, RetentionTrigger

REQUIRED_COLUMNS = ("key", "title")
OPTIONAL_COLUMNS = ("retention_years", "retention_trigger", "disposal", "description")
PERMANENT = {"dauernd", "permanent"}
MAX_RETENTION_YEARS = file_plan.MAX_RETENTION_YEARS
MAX_ROWS = 20_000
_TRIGGERS = frozenset(RetentionTrigger.values)
_DISPOSALS = frozenset(DisposalAction.values)


def _is_years(text: str) -> bool:
    """ASCII digits only, and few of them: ``str.isdigit`` also accepts "²" or "٣", which
    ``int`` refuses, and ``int`` refuses numbers of more than 4300 digits."""
    return 0 < len(text) <= 6 and all("0" <= c <= "9" for c in text)


def _shorten(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class PlanRow:
    row: int
    key: str
    title: str
    description: str
    retention_years: int | None
    retention_permanent: bool
    retention_trigger: str
    disposal_action: str


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    header = text.split("\n", 1)[0]
    return csv.excel if header.count(",") >= header.count(";") else _Semicolon()


class _Semicolon(csv.excel):
    delimiter = ";"


def parse(csv_text: str) -> list[PlanRow]:
    """The rows of a plan CSV in plan order; raises :class:`PlanImportError` listing every
    malformed row."""
    text = csv_text.removeprefix("\ufeff")
    if not text.strip():
        raise PlanImportError([(1, _("The file is empty; it needs a header row and entries."))])
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text)))
    except csv.Error as exc:
        raise PlanImportError([(1, _("The file is not valid CSV: %s") % exc)]) from exc
    header = [h.strip().lower() for h in records[0]]
    problems: list[tuple[int, str]] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [h for h in header if h not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing:
        problems.append((1, _("The column(s) %s are missing.") % ", ".join(missing)))
    if unknown:
        problems.append(
            (
                1,
                _("Unknown column(s) %(unknown)s; known are %(known)s.")
                % {
                    "unknown": ", ".join(unknown),
                    "known": ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS),
                },
            )
        )
    if len(header) != len(set(header)):
        problems.append((1, _("A column appears twice.")))
    if problems:
        raise PlanImportError(problems)
    if len(records) - 1 > MAX_ROWS:
        raise PlanImportError([(1, _("More than %d entries.") % MAX_ROWS)])

    rows: dict[str, PlanRow] = {}
    for number, values in enumerate(records[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(
                (
                    number,
                    _("%(found)d values, but the header has %(expected)d columns.")
                    % {"found": len(values), "expected": len(header)},
                )
            )
            continue
        cells = {name: value.strip() for name, value in zip(header, values, strict=True)}
        row_problems: list[str] = []
        key = cells["key"]
        if not key:
            row_problems.append(_("The key is empty."))
        elif not file_plan.is_valid_key(key):
            row_problems.append(
                _("“%s” is not a file plan key (digits and dots, e.g. 32.10.05).") % key
            )
        elif key in rows:
            row_problems.append(
                _("The key %(key)s already appears in row %(row)d.")
                % {"key": key, "row": rows[key].row}
            )
        title = cells["title"]
        if not title:
            row_problems.append(_("The title is empty."))
        elif len(title) > 200:
            row_problems.append(_("The title is longer than 200 characters."))
        years_text = cells.get("retention_years", "")
        years: int | None = None
        permanent = years_text.lower() in PERMANENT
        if years_text and not permanent:
            if not _is_years(years_text) or int(years_text) > MAX_RETENTION_YEARS:
                row_problems.append(
                    _(
                        "The retention period “%(value)s” is not a number of years from 0 to "
                        "%(max)d, “dauernd” or empty."
                    )
                    % {"value": _shorten(years_text), "max": MAX_RETENTION_YEARS}
                )
            else:
                years = int(years_text)
        trigger = cells.get("retention_trigger", "") or RetentionTrigger.CLOSED_YEAR_END
        if trigger not in _TRIGGERS:
            row_problems.append(
                _("The retention trigger “%(value)s” is not one of %(allowed)s.")
                % {"value": trigger, "allowed": ", ".join(RetentionTrigger.values)}
            )
        disposal = cells.get("disposal", "") or DisposalAction.EVALUATE
        if disposal not in _DISPOSALS:
            row_problems.append(
                _("The disposal “%(value)s” is not one of %(allowed)s.")
                % {"value": disposal, "allowed": ", ".join(DisposalAction.values)}
            )
        problems.extend((number, p) for p in row_problems)
        if row_problems:
            continue
        rows[key] = PlanRow(
            row=number,
            key=key,
            title=title,
            description=cells.get("description", ""),
            retention_years=years,
            retention_permanent=permanent,
            retention_trigger=trigger,
            disposal_action=disposal,
        )
    for row in rows.values():
        above = file_plan.parent_key(row.key)
        if above is not None and above not in rows:
            problems.append(
                (
                    row.row,
                    _("The group %(parent)s above %(key)s is not in the file.")
                    % {"parent": above, "key": row.key},
                )
            )
    if not rows and not problems:
        problems.append((1, _("The file has no entries.")))
    if problems:
        raise PlanImportError(sorted(problems))
    return sorted(rows.values(), key=lambda r: file_plan.sort_key(r.key))
