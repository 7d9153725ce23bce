"""What each field type accepts: from the strings a browser posts to a clean, JSON-ready value.

Every parser takes the posted strings of one field and returns its value (``None`` when it was
left empty) and the problems found, as :class:`Issue` objects with a message in the active
language. Nothing in here raises on bad input; whatever arrives becomes a value or a message.

Input names: a field ``move_in_date`` posts ``move_in_date__day``, ``__month``, ``__year``; a row
of a person list ``persons`` posts ``persons__2__given_name``. HTML ids are the names with
``-`` for ``__``, prefixed with ``field-`` (``field-persons-2-given_name``).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rathaus.core.unicode_text import is_refused_invisible, joins_letters
from rathaus.forms.countries import HOME_COUNTRY, is_country
from rathaus.forms.iban import IBAN_LENGTHS, InvalidIban, check_iban
from rathaus.forms.schema import MAX_LIST_ITEMS, MAX_TEXT_INPUT, Field, Severity, is_answered
from rathaus.forms.vehicle_plate import normalize_vehicle_plate

DEFAULT_MAX_LENGTH = 200
DEFAULT_MAX_LENGTH_MULTILINE = 4000
EMAIL_MAX_LENGTH = 254
PHONE_MAX_LENGTH = 30


class QueryDictLike(Protocol):
    def getlist(self, key: str) -> list[Any]: ...


class RawData:
    """Posted form data: a Django ``QueryDict`` or a plain mapping of strings or lists."""

    def __init__(self, data: QueryDictLike | Mapping[str, Any] | None) -> None:
        self._data = data if data is not None else {}

    def getlist(self, key: str) -> list[str]:
        values: list[Any]
        if hasattr(self._data, "getlist"):
            values = list(self._data.getlist(key))
        elif isinstance(self._data, Mapping):
            value = self._data.get(key)
            values = list(value) if isinstance(value, list | tuple) else [value]
        else:
            values = []
        return [
            value if isinstance(value, str) else str(value) for value in values if value is not None
        ]

    def get(self, key: str) -> str:
        values = self.getlist(key)
        return values[-1] if values else ""

    def as_lists(self) -> dict[str, list[str]]:
        """A plain copy: every key with all its values."""
        if hasattr(self._data, "lists"):
            return {key: [str(v) for v in values] for key, values in self._data.lists()}
        keys = self._data.keys() if isinstance(self._data, Mapping) else []
        return {str(key): self.getlist(key) for key in keys}

    def names(self) -> list[str]:
        """The posted names (a ``QueryDict`` is a mapping too)."""
        return (
            [key for key in self._data if isinstance(key, str)]
            if isinstance(self._data, Mapping)
            else []
        )


def html_id(name: str) -> str:
    return "field-" + name.replace("__", "-")


@dataclass(frozen=True)
class Issue:
    """A problem with an answer, shown next to the input and in the summary at the top."""

    field: str  # id of the top-level field it belongs to
    name: str  # input name (or field name, for the whole field) it is about
    label: str  # label for the summary (``Person 2: Date of birth``)
    message: str
    severity: Severity = "error"
    target: str = ""  # input the summary link focuses, if not ``name`` itself

    @property
    def anchor(self) -> str:
        return html_id(self.target or self.name)

    def concerns(self, name: str) -> bool:
        """True if the issue is about the input or group ``name`` or a part of it."""
        return self.name == name or self.name.startswith(name + "__")


# Parts of compound fields: (key, label, max length, required).
NAME_PARTS: tuple[tuple[str, str, int, bool], ...] = (
    ("given_names", "Given names", 80, True),
    ("family_name", "Family name", 120, True),
)
ADDRESS_PARTS: tuple[tuple[str, str, int, bool], ...] = (
    ("street", "Street", 55, True),  # FIM "Anschrift Inland": Straße, 55 characters
    ("house_number", "House number", 9, False),
    ("address_supplement", "Address supplement", 40, False),
    ("postal_code", "Postal code", 5, True),
    ("place", "Place", 50, True),
)
#: FIM "Anschrift Ausland": street, house number or PO box as free lines (foreign addresses
#: put them in their own order), a postal code of any format, the place and the state.
ADDRESS_ABROAD_PARTS: tuple[tuple[str, str, int, bool], ...] = (
    ("address_line1", "Street and house number or PO box", 55, True),
    ("address_line2", "Address line 2", 55, False),
    ("address_line3", "Address line 3", 55, False),
    ("postal_code", "Postal code", 10, False),
    ("place", "Place", 50, True),
    ("country", "Country", 2, True),  # a select of ISO 3166-1 codes (``forms.countries``)
)
DATE_PARTS = ("day", "month", "year")
#: The parts of each compound field type.
COMPOUND_PARTS = {
    "person_name": NAME_PARTS,
    "address": ADDRESS_PARTS,
    "address_abroad": ADDRESS_ABROAD_PARTS,
}
#: The part of a compound field that an error summary link focuses for the whole field.
FIRST_PART = {
    "date": "day",
    "person_name": "given_names",
    "address": "street",
    "address_abroad": "address_line1",
}

# Five digits; German postal codes run from 01001 to 99998, none begins with 00.
_POSTAL_CODE = re.compile(r"(?!00)[0-9]{5}")
#: Foreign postal codes: letters and digits, inner spaces and hyphens (SW1A 1AA, 1250-096).
_FOREIGN_POSTAL_CODE = re.compile(r"[A-Z0-9](?:[A-Z0-9 -]*[A-Z0-9])?")
_HOUSE_NUMBER = re.compile(r"[0-9]{1,5} ?[A-Za-z]?(?: ?[-/] ?[0-9]{1,5} ?[A-Za-z]?)?")
_NAME_PUNCTUATION = set(" '-.,`\u2019\u2010")  # with typographic apostrophe and hyphen
_PHONE_CHARS = re.compile(r"\+?[0-9 ()/.-]+")
_NUMBER = re.compile(r"[+-]?[0-9]{1,15}(?:\.[0-9]+)?")
#: "1.500" or "12.345.678": German thousands separators (or an English decimal point).
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+")
_DIGITS = re.compile(r"[0-9]{1,4}")


def part_label(key: str) -> str:
    labels = {
        "given_names": _("Given names"),
        "family_name": _("Family name"),
        "street": _("Street"),
        "house_number": _("House number"),
        "address_supplement": _("Address supplement"),
        "postal_code": _("Postal code"),
        "place": _("Place"),
        "address_line1": _("Street and house number or PO box"),
        "address_line2": _("Address line 2"),
        "address_line3": _("Address line 3"),
        "country": _("Country"),
        "day": _("Day"),
        "month": _("Month"),
        "year": _("Year"),
    }
    return labels[key]


class FieldParser:
    """Parses one field's posted strings; collects :class:`Issue` objects in ``issues``."""

    def __init__(
        self,
        raw: RawData,
        *,
        today: datetime.date,
        state: str | None = None,
        label_prefix: str = "",
    ) -> None:
        self.raw = raw
        self.today = today
        self.state = state
        self.label_prefix = label_prefix
        self.issues: list[Issue] = []

    def parse(self, field: Field, name: str, *, top: str | None = None) -> Any:
        """The value of ``field`` posted under ``name`` (``None`` if empty or wrong)."""
        self._field = field
        self._top = top or field.id
        self._label = self.label_prefix + str(field.label)
        parser: Callable[[Field, str], Any] = getattr(self, f"_parse_{field.type}")
        before = len(self.issues)
        value = parser(field, name)
        if any(issue.severity == "error" for issue in self.issues[before:]):
            return None  # (a person list's rows may bring warnings: the rows are kept then)
        if not is_answered(value):
            if field.required:
                self.error(name, self._missing_message(field), first_input_name(field, name))
            return None
        from rathaus.forms.checks import run_field_checks  # avoids a cycle: checks uses Issue

        for severity, message in run_field_checks(field, value, today=self.today, state=self.state):
            self.issue(name, message, severity, target=first_input_name(field, name))
        if any(issue.severity == "error" for issue in self.issues[before:]):
            return None
        return value

    # reporting

    def report(self, field: Field, name: str, message: str, severity: Severity = "error") -> None:
        """Record an issue about ``field`` found outside the type parsers (e.g. uploads)."""
        label = self.label_prefix + str(field.label)
        self.issues.append(Issue(field.id, name, label, message, severity))

    def issue(
        self,
        name: str,
        message: str,
        severity: Severity = "error",
        *,
        target: str = "",
        label: str = "",
    ) -> None:
        self.issues.append(Issue(self._top, name, label or self._label, message, severity, target))

    def error(self, name: str, message: str, target: str = "") -> None:
        self.issue(name, message, target=target)

    def _missing_message(self, field: Field) -> str:
        if field.kind in {"choice", "multi", "bool"}:
            return _("Select an answer.")
        if field.kind == "date":
            return _("Enter a date.")
        if field.kind == "files":
            return _("Upload a file.")
        if field.kind == "list":
            return _("Enter at least one entry.")
        if field.type in {"address", "address_abroad"}:
            return _("Enter the address.")
        if field.type == "person_name":
            return _("Enter the name.")
        return _("Fill in this field.")

    # text-like

    def clean_text(
        self,
        name: str,
        *,
        multiline: bool = False,
        label: str = "",
        part: str = "",
        emoji: bool = False,
    ) -> str | None:
        """The posted text, stripped; ``None`` (with a message) if it cannot be stored.

        Invisible format characters (zero-width space, soft hyphen, direction marks, overrides
        and isolates, byte order mark) are refused as in names (``core.unicode_text``): a clerk
        would not see them, and U+202E shows the text reversed. A zero width (non-)joiner may
        stand between letters; with ``emoji`` (free text) a joiner in an emoji sequence too.
        ``part`` names the part of a compound field the input is, for the message."""
        value = self.raw.get(name)
        if len(value) > MAX_TEXT_INPUT:
            self.issue(name, _("The text is too long."), label=label)
            return None
        if multiline:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        for char in value:
            category = unicodedata.category(char)
            allowed_control = multiline and char in "\n\t"
            if (category in {"Cc", "Cs", "Co"} and not allowed_control) or category == "Cn":
                self.issue(
                    name,
                    _("The text contains characters that are not allowed."),
                    label=label,
                )
                return None
        if any(
            unicodedata.category(value[at]) == "Cf"  # controls and the rest: refused above
            and is_refused_invisible(value, at)
            and not (emoji and _joins_emoji(value, at))
            for at in range(len(value))
        ):
            self.issue(name, _invisible_message(part), label=label)
            return None
        return value.strip()

    def _parse_text(self, field: Field, name: str) -> str | None:
        value = self.clean_text(name, multiline=field.multiline, emoji=True)
        if not value:
            return value
        max_length = field.max_length or (
            DEFAULT_MAX_LENGTH_MULTILINE if field.multiline else DEFAULT_MAX_LENGTH
        )
        if len(value) > max_length:
            self.error(
                name,
                ngettext(
                    "Enter at most %(count)d character.",
                    "Enter at most %(count)d characters.",
                    max_length,
                )
                % {"count": max_length},
            )
            return None
        if field.min_length is not None and len(value) < field.min_length:
            self.error(
                name,
                ngettext(
                    "Enter at least %(count)d character.",
                    "Enter at least %(count)d characters.",
                    field.min_length,
                )
                % {"count": field.min_length},
            )
            return None
        if field.format == "vehicle_plate":
            plate = normalize_vehicle_plate(value)
            if plate is None:
                self.error(name, _("Enter a German registration number like B-AB 1234."))
                return None
            value = plate
        elif field.format == "code":
            value = "".join(value.split()).upper()
        if field.pattern is not None and not field.pattern.fullmatch(value):
            message = field.pattern_message
            self.error(
                name, str(message) if message else _("Enter the value in the format asked for.")
            )
            return None
        return value

    def _parse_email(self, field: Field, name: str) -> str | None:
        value = self.clean_text(name)
        if not value:
            return value
        try:
            if len(value) > EMAIL_MAX_LENGTH:
                raise ValidationError("too long")
            validate_email(value)
        except ValidationError:
            self.error(name, _("Enter an e-mail address like name@example.de."))
            return None
        local, _at, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"

    def _parse_phone(self, field: Field, name: str) -> str | None:
        value = self.clean_text(name)
        if not value:
            return value
        digits = sum(char.isdigit() for char in value)
        if (
            len(value) > PHONE_MAX_LENGTH
            or not value.isascii()
            or not _PHONE_CHARS.fullmatch(value)
            or not 5 <= digits <= 17
        ):
            self.error(name, _("Enter a telephone number like 0202 123456 or +49 202 123456."))
            return None
        return " ".join(value.split())

    def _parse_iban(self, field: Field, name: str) -> str | None:
        value = self.clean_text(name)
        if not value:
            return value
        try:
            iban = check_iban(value)
        except InvalidIban as error:
            messages = {
                "format": _("Enter an IBAN like DE89 3704 0044 0532 0130 00."),
                "country": _("The IBAN does not start with a known country code."),
                "length": _("The IBAN has the wrong number of characters for its country."),
                "checksum": _("The IBAN is not correct. Check it for typing errors."),
            }
            if error.reason == "length" and value[:2].upper() in IBAN_LENGTHS:
                message = _("An IBAN from %(country)s has %(count)d characters.") % {
                    "country": value[:2].upper(),
                    "count": IBAN_LENGTHS[value[:2].upper()],
                }
            else:
                message = messages[error.reason]
            self.error(name, message)
            return None
        if field.countries and iban[:2] not in field.countries:
            self.error(
                name,
                _("Enter an IBAN from one of these countries: %(countries)s.")
                % {"countries": ", ".join(field.countries)},
            )
            return None
        return iban

    # numbers and dates

    def _parse_number(self, field: Field, name: str) -> int | str | None:
        text = self.clean_text(name)
        if not text:
            return None
        compact = "".join(text.split())
        if "," in compact:  # German notation: 1.234,5
            compact = compact.replace(".", "").replace(",", ".")
        elif _GROUPED.fullmatch(compact):
            # "1.500" is 1500 in German and 1.5 in English notation. With at most two decimal
            # places only the German reading is a valid answer; with more it is ambiguous.
            if field.decimals >= 3:
                self.error(
                    name,
                    _(
                        "Write the number without a thousands separator and with a decimal "
                        "comma, like 1500 or 1,5."
                    ),
                )
                return None
            compact = compact.replace(".", "")
        if not compact.isascii() or not _NUMBER.fullmatch(compact):
            self.error(name, _("Enter a number, like 12 or 12,5."))
            return None
        try:
            number = Decimal(compact)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            self.error(name, _("Enter a number, like 12 or 12,5."))
            return None
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)
        if -exponent > field.decimals:
            if field.decimals == 0:
                self.error(name, _("Enter a whole number."))
            else:
                self.error(
                    name,
                    ngettext(
                        "Enter a number with at most %(count)d decimal place.",
                        "Enter a number with at most %(count)d decimal places.",
                        field.decimals,
                    )
                    % {"count": field.decimals},
                )
            return None
        if field.minimum is not None and number < field.minimum:
            self.error(
                name,
                _("Enter a number of at least %(min)s.") % {"min": format_number(field.minimum)},
            )
            return None
        if field.maximum is not None and number > field.maximum:
            self.error(
                name,
                _("Enter a number of at most %(max)s.") % {"max": format_number(field.maximum)},
            )
            return None
        return number_to_value(number, field.decimals)

    def _parse_date(self, field: Field, name: str) -> str | None:
        parts = {}
        for part in DATE_PARTS:
            text = self.clean_text(f"{name}__{part}")
            if text is None:
                return None
            parts[part] = text
        if not any(parts.values()):
            return None
        missing = [part for part in DATE_PARTS if not parts[part]]
        if missing:
            messages = {
                "day": _("The date must include a day."),
                "month": _("The date must include a month."),
                "year": _("The date must include a year."),
            }
            self.error(f"{name}__{missing[0]}", messages[missing[0]])
            return None
        if (
            not all(_DIGITS.fullmatch(parts[part]) for part in DATE_PARTS)
            or len(parts["year"]) != 4
        ):
            self.error(
                name,
                _("Enter a real date, like 27 3 2007 (year with four digits)."),
                f"{name}__day",
            )
            return None
        try:
            value = datetime.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            self.error(
                name,
                _("Enter a real date, like 27 3 2007 (year with four digits)."),
                f"{name}__day",
            )
            return None
        return value.isoformat()

    # choices

    def _parse_select(self, field: Field, name: str) -> str | None:
        return self._chosen(field, name, _("Select one of the options offered."))

    _parse_radio = _parse_select

    def _parse_country(self, field: Field, name: str) -> str | None:
        return self._chosen(field, name, _("Select one of the countries offered."))

    def _chosen(self, field: Field, name: str, refusal: str) -> str | None:
        value = self.raw.get(name)
        if not value:
            return None
        if field.option(value) is None:
            self.error(name, refusal)
            return None
        return value

    def _parse_checkbox(self, field: Field, name: str) -> list[str] | None:
        chosen = set(self.raw.getlist(name))
        if any(field.option(value) is None for value in chosen):
            self.error(name, _("Select one of the options offered."))
            return None
        values = [option.value for option in field.options if option.value in chosen]
        if values and field.min_selected is not None and len(values) < field.min_selected:
            self.error(
                name,
                ngettext(
                    "Select at least %(count)d option.",
                    "Select at least %(count)d options.",
                    field.min_selected,
                )
                % {"count": field.min_selected},
            )
            return None
        if field.max_selected is not None and len(values) > field.max_selected:
            self.error(
                name,
                ngettext(
                    "Select at most %(count)d option.",
                    "Select at most %(count)d options.",
                    field.max_selected,
                )
                % {"count": field.max_selected},
            )
            return None
        return values

    def _parse_yes_no(self, field: Field, name: str) -> bool | None:
        value = self.raw.get(name)
        if value == "yes":
            return True
        if value == "no":
            return False
        if value:
            self.error(name, _("Select yes or no."))
        return None

    # compounds

    def _parse_parts(
        self, field: Field, name: str, parts: tuple[tuple[str, str, int, bool], ...]
    ) -> dict[str, str] | None:
        values = self._read_parts(name, parts)
        if values is None or not any(values.values()):
            return None
        return values if self._check_parts(name, values, parts) else None

    def _read_parts(
        self, name: str, parts: tuple[tuple[str, str, int, bool], ...]
    ) -> dict[str, str] | None:
        """The parts' posted texts, stripped; ``None`` if one cannot be stored (a message
        at each such part)."""
        values: dict[str, str] = {}
        ok = True
        for key, *_rest in parts:  # every part: a message beside each one that cannot be stored
            text = self.clean_text(f"{name}__{key}", part=key)
            if text is None:
                ok = False
            else:
                values[key] = text
        return values if ok else None

    def _check_parts(
        self, name: str, values: Mapping[str, str], parts: tuple[tuple[str, str, int, bool], ...]
    ) -> bool:
        """Required parts filled in, none too long; a message at each part that is not."""
        ok = True
        for key, _label, max_length, required in parts:
            value, part_name = values[key], f"{name}__{key}"
            if required and not value:
                self.error(part_name, _("Fill in “%(part)s”.") % {"part": part_label(key)})
                ok = False
            elif len(value) > max_length:
                self.error(
                    part_name,
                    ngettext(
                        "“%(part)s” can have at most %(count)d character.",
                        "“%(part)s” can have at most %(count)d characters.",
                        max_length,
                    )
                    % {"part": part_label(key), "count": max_length},
                )
                ok = False
        return ok

    def _parse_person_name(self, field: Field, name: str) -> dict[str, str] | None:
        values = self._parse_parts(field, name, NAME_PARTS)
        if values is None:
            return None
        for key, value in values.items():
            # (invisible characters were refused by ``clean_text``, with their own message)
            if not all(_is_name_char(value, at) for at in range(len(value))):
                self.error(
                    f"{name}__{key}",
                    _("“%(part)s” may only contain letters, spaces, hyphens and apostrophes.")
                    % {"part": part_label(key)},
                )
                return None
        return values

    def _parse_address(self, field: Field, name: str) -> dict[str, str] | None:
        values = self._parse_parts(field, name, ADDRESS_PARTS)
        if values is None:
            return None
        values["postal_code"] = values["postal_code"].replace(" ", "")
        if not _POSTAL_CODE.fullmatch(values["postal_code"]):
            self.error(f"{name}__postal_code", _("Enter a postal code with 5 digits, like 42103."))
            return None
        if values["house_number"] and not _HOUSE_NUMBER.fullmatch(values["house_number"]):
            self.error(f"{name}__house_number", _("Enter a house number like 12, 12a or 12-14."))
            return None
        return values

    def _parse_address_abroad(self, field: Field, name: str) -> dict[str, str] | None:
        lines = ADDRESS_ABROAD_PARTS[:-1]  # the country is a choice, checked on its own
        values = self._read_parts(name, lines)
        if values is None:
            return None
        country = self.raw.get(f"{name}__country").strip()
        if not any(values.values()) and not country:
            return None
        ok = True
        for part in lines:  # part by part: the messages in the order of the inputs
            if not self._check_parts(name, values, (part,)):
                ok = False
            elif part[0] == "postal_code" and values["postal_code"]:
                postal_code = " ".join(values["postal_code"].split()).upper()
                if not values["postal_code"].isascii() or not _FOREIGN_POSTAL_CODE.fullmatch(
                    postal_code
                ):
                    self.error(
                        f"{name}__postal_code",
                        _("Enter the postal code with letters, digits, spaces and hyphens only."),
                    )
                    ok = False
                values["postal_code"] = postal_code
        country_input = f"{name}__country"
        if not country:
            self.error(country_input, _("Select the country."))
            ok = False
        elif country == HOME_COUNTRY:
            self.error(
                country_input, _("Germany cannot be chosen here: this is for addresses abroad.")
            )
            ok = False
        elif not is_country(country) or (field.countries and country not in field.countries):
            self.error(country_input, _("Select one of the countries offered."))
            ok = False
        return {**values, "country": country} if ok else None

    # person list

    def _parse_person_list(self, field: Field, name: str) -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = []
        failed = False
        for index in posted_rows(field, self.raw, name):
            prefix = f"{name}__{index}__"
            if not _row_has_input(field, self.raw, prefix):
                continue
            item_label = str(field.item_label) if field.item_label else _("Entry")
            row_parser = FieldParser(
                self.raw,
                today=self.today,
                state=self.state,
                label_prefix=f"{item_label} {index}: ",
            )
            row: dict[str, Any] = {}
            for sub in field.fields:
                if sub.show_if is not None and not sub.show_if.evaluate(row):
                    continue  # not asked in this row: a condition on an earlier field of it
                value = row_parser.parse(sub, prefix + sub.id, top=field.id)
                if value is not None:
                    row[sub.id] = value
            row_parser.issues += row_issues(field, row, prefix, row_parser.label_prefix)
            self._field, self._top = field, field.id
            self._label = self.label_prefix + str(field.label)
            if row_parser.issues:
                self.issues.extend(row_parser.issues)
                if any(issue.severity == "error" for issue in row_parser.issues):
                    failed = True
            rows.append(row)
        if last_filled_row(field, self.raw, name) > field.max_items:
            # more rows than the list allows (a crafted request, or a form that allowed more
            # when the draft was saved): refused, never cut short; the rows are shown again
            first = field.fields[0]
            beyond = f"{name}__{field.max_items + 1}__{first.id}"
            self.error(
                name,
                ngettext(
                    "Only %(count)d entry can be given here. Remove the others.",
                    "At most %(count)d entries can be given here. Remove the others.",
                    field.max_items,
                )
                % {"count": field.max_items},
                first_input_name(first, beyond),
            )
            return None
        if failed:
            return None
        if rows and len(rows) < field.min_items:
            self.error(
                name,
                ngettext(
                    "Enter at least %(count)d entry.",
                    "Enter at least %(count)d entries.",
                    field.min_items,
                )
                % {"count": field.min_items},
                first_input_name(field, name),
            )
            return None
        return rows

    def _parse_file(self, field: Field, name: str) -> None:
        raise TypeError("file fields are validated by rathaus.forms.engine")  # pragma: no cover


def row_issues(field: Field, row: Mapping[str, Any], prefix: str, label: str) -> list[Issue]:
    """The compare checks of a person list that one row's clean values break."""
    from rathaus.forms.checks import run_row_checks  # avoids a cycle: checks uses Issue

    issues = []
    for check, sub, message in run_row_checks(field, row):
        name = prefix + sub.id
        target = first_input_name(sub, name)
        issues.append(
            Issue(field.id, name, label + str(sub.label), message, check.severity, target)
        )
    return issues


#: A row number as the engine writes it: ASCII digits (``[0-9]`` is ASCII only), no leading zero.
_ROW_NUMBER = re.compile(r"[1-9][0-9]*")


def row_ceiling(field: Field) -> int:
    """How many rows of a person list are read and shown at most, whatever a request claims:
    room for every row a draft can hold (saved when the schema allowed up to ``MAX_LIST_ITEMS``)
    and for the rows of a request beyond ``max_items``, which are refused with a message.
    Rows numbered higher (only a crafted request has them) are not shown; the message stays."""
    return field.max_items + MAX_LIST_ITEMS


def posted_rows(field: Field, raw: RawData, name: str) -> range:
    """Row numbers (1-based) of a person list as posted, to read and to show again.

    Up to the ``__rows`` count (a page posts it with its rows), at most ``max_items`` of them
    (empty rows beyond hold nothing), and on to the last row anything was typed in, however it
    got there, so that nothing typed is lost; never beyond :func:`row_ceiling`. A count that is
    not a number counts as none; a huge one is ``max_items``."""
    text = raw.get(f"{name}__rows")
    count = (int(text) if len(text) <= 3 else field.max_items) if _is_ascii_number(text) else 0
    last = max(min(count, field.max_items), last_filled_row(field, raw, name))
    return range(1, min(last, row_ceiling(field)) + 1)


def last_filled_row(field: Field, raw: RawData, name: str) -> int:
    """The highest row number of a person list with something typed in (0: none), read from the
    posted names (``persons__12__name__given_names``), so its cost is that of the request's
    names however high a number is; a number of more than nine digits counts as 10⁹."""
    suffixes = set(input_names(field, ""))
    last = 0
    for key in raw.names():
        if not key.startswith(f"{name}__"):
            continue
        number, separator, suffix = key[len(name) + 2 :].partition("__")
        if not separator or suffix not in suffixes or not _ROW_NUMBER.fullmatch(number):
            continue
        row = int(number) if len(number) <= 9 else 10**9
        if row > last and any(value.strip() for value in raw.getlist(key)):
            last = row
    return last


def _is_ascii_number(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²".isdigit() is true, but int("²") fails


def _row_has_input(field: Field, raw: RawData, prefix: str) -> bool:
    return any(value.strip() for key in input_names(field, prefix) for value in raw.getlist(key))


def input_names(field: Field, prefix: str) -> list[str]:
    """All input names the subfields of a person-list row post under ``prefix``."""
    names = []
    for sub in field.fields:
        base = prefix + sub.id
        if sub.type == "date":
            names += [f"{base}__{part}" for part in DATE_PARTS]
        elif sub.type in COMPOUND_PARTS:
            names += [f"{base}__{key}" for key, *_rest in COMPOUND_PARTS[sub.type]]
        else:
            names.append(base)
    return names


def posted_parameters(field: Field) -> int:
    """How many form parameters ``field`` posts at most, filled in completely: each part of a
    date or an address, each ticked option, each row of a person list at its ``max_items``
    (files themselves do not count, their removal boxes do). Django refuses a request with more
    than ``DATA_UPLOAD_MAX_NUMBER_FIELDS``, before the form engine could keep what was typed."""
    if field.type == "date":
        return len(DATE_PARTS)
    if field.type in COMPOUND_PARTS:
        return len(COMPOUND_PARTS[field.type])
    if field.type == "checkbox":
        return len(field.options)
    if field.type == "file":
        return field.max_files
    if field.type == "person_list":
        return 1 + field.max_items * sum(posted_parameters(sub) for sub in field.fields)
    return 1


def first_input_name(field: Field, name: str) -> str:
    """The input an error summary link should focus for the whole field."""
    if field.type in FIRST_PART:
        return f"{name}__{FIRST_PART[field.type]}"
    if field.type == "person_list":
        return first_input_name(field.fields[0], f"{name}__1__{field.fields[0].id}")
    return name


def _invisible_message(part: str) -> str:
    """The message for an invisible character in an input (``part``: of a compound field)."""
    if part:
        return _(
            "“%(part)s” contains an invisible character that cannot stand there, "
            "such as a zero-width space or a joiner that is not between two "
            "letters. Type it again without that character."
        ) % {"part": part_label(part)}
    return _(
        "The text contains an invisible character that cannot stand there, such as a "
        "zero-width space, a soft hyphen or a text direction control. Type it again without "
        "that character."
    )


#: The symbols an emoji sequence joins (👩‍💻, 👩🏽‍💻, 🏳️‍🌈): other symbols, skin tone
#: modifiers (Sk) and the emoji presentation selector before the joiner.
_EMOJI_BEFORE_JOINER = frozenset({"So", "Sk"})


def _joins_emoji(value: str, at: int) -> bool:
    """Whether ``value[at]`` is a ZERO WIDTH JOINER inside an emoji ZWJ sequence (Unicode
    Technical Standard #51), as a phone's keyboard types a family or a profession emoji."""
    if value[at] != "\u200d" or not 0 < at < len(value) - 1:
        return False
    before, after = value[at - 1], value[at + 1]
    return (
        unicodedata.category(before) in _EMOJI_BEFORE_JOINER or before == "\ufe0f"
    ) and unicodedata.category(after) == "So"


def _is_name_char(value: str, at: int) -> bool:
    """Whether ``value[at]`` may stand in a name: a letter, a combining mark, name punctuation,
    or a zero width (non-)joiner between letters (Persian, Kurdish and Indic names)."""
    char = value[at]
    return (
        unicodedata.category(char)[0] in {"L", "M"}
        or char in _NAME_PUNCTUATION
        or joins_letters(value, at)
    )


def format_number(value: Decimal) -> str:
    """A number for messages in the active language's notation (``12,5`` in German)."""
    plain = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    return number_format(plain)


def number_to_value(number: Decimal, decimals: int) -> int | str:
    """Whole numbers as ``int``, others as a string with ``decimals`` places (JSON-safe)."""
    if decimals == 0:
        return int(number)
    return str(number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


# --- values back to input strings (to show saved answers in the form) ---------------------


def to_raw(field: Field, value: Any, name: str) -> dict[str, list[str]]:
    """The posted strings that would produce ``value`` (``{}`` for no value)."""
    if value is None or field.type == "file":
        return {}
    try:
        return _to_raw(field, value, name)
    except (TypeError, ValueError, KeyError, AttributeError):
        return {}  # an answer saved under an older schema: show the field empty


def _to_raw(field: Field, value: Any, name: str) -> dict[str, list[str]]:
    if field.type == "date":
        date = datetime.date.fromisoformat(value)
        return {
            f"{name}__day": [str(date.day)],
            f"{name}__month": [str(date.month)],
            f"{name}__year": [str(date.year)],
        }
    if field.type == "number":
        return {name: [str(value).replace(".", ",")]}
    if field.type == "yes_no":
        return {name: ["yes" if value else "no"]}
    if field.type == "checkbox":
        return {name: [str(item) for item in value]}
    if field.type in COMPOUND_PARTS:
        parts = COMPOUND_PARTS[field.type]
        return {f"{name}__{key}": [str(value.get(key, ""))] for key, *_rest in parts}
    if field.type == "person_list":
        raw: dict[str, list[str]] = {f"{name}__rows": [str(len(value))]}
        for index, row in enumerate(value, start=1):
            for sub in field.fields:
                raw.update(to_raw(sub, row.get(sub.id), f"{name}__{index}__{sub.id}"))
        return raw
    return {name: [str(value)]}
