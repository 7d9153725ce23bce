"""The form schema: steps, fields, conditions and checks of one service's form, as plain data.

A schema comes from a data file of the service definition (TOML, read with ``tomllib``) and is
checked completely when it is loaded: every mistake is a :class:`SchemaError` that names the
service and the step and field, so a broken service never reaches a citizen as a 500.
The format is documented in ``docs/modules/forms.md``.
"""

from __future__ import annotations

import datetime
import json
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.utils.translation import get_language

from rathaus.forms.countries import COUNTRIES, HOME_COUNTRY, state_names
from rathaus.forms.iban import IBAN_LENGTHS

Severity = Literal["error", "warning"]

#: Field types and the kind of value each one produces (see ``docs/modules/forms.md``).
FIELD_KINDS: dict[str, str] = {
    "text": "text",
    "email": "text",
    "phone": "text",
    "iban": "text",
    "number": "number",
    "date": "date",
    "select": "choice",
    "radio": "choice",
    "country": "choice",
    "checkbox": "multi",
    "yes_no": "bool",
    "person_name": "compound",
    "address": "compound",
    "address_abroad": "compound",
    "person_list": "list",
    "file": "files",
}

_COMMON_KEYS = {"id", "type", "label", "hint", "required", "show_if", "checks", "autocomplete"}
_TYPE_KEYS: dict[str, set[str]] = {
    "text": {"min_length", "max_length", "pattern", "pattern_message", "multiline", "format"},
    "email": set(),
    "phone": set(),
    "iban": {"countries"},
    "number": {"min", "max", "decimals"},
    "date": set(),
    "select": {"options"},
    "radio": {"options"},
    "country": {"countries", "nationality"},
    "checkbox": {"options", "min_selected", "max_selected"},
    "yes_no": set(),
    "person_name": set(),
    "address": set(),
    "address_abroad": {"countries"},
    "person_list": {"fields", "min_items", "max_items", "initial_items", "item_label"},
    "file": {"max_files", "max_size_mb", "accept"},
}

#: Field-level check rules and the value kinds they apply to.
FIELD_RULES: dict[str, set[str]] = {
    "pattern": {"text"},
    "min": {"number"},
    "max": {"number"},
    "not_in_future": {"date"},
    "not_in_past": {"date"},
    "max_days_ago": {"date"},
    "max_days_ahead": {"date"},
    "max_months_ago": {"date"},
    "max_months_ahead": {"date"},
    "min_years_ago": {"date"},
    "max_years_ago": {"date"},
    "earliest": {"date"},
    "latest": {"date"},
}
#: Rules about a period (a deadline) that begins with the date; ``ends_on_working_day`` moves
#: its end off Saturdays, Sundays and public holidays (§ 31 Abs. 3 VwVfG).
PERIOD_RULES = {"max_days_ago", "max_months_ago"}
#: Step-level (cross-field) check rules.
STEP_RULES = {"compare", "at_least_one", "max_days_after", "max_months_after"}
#: Cross-field rules that bound a date by another one: at most so many days or calendar months
#: after it.
AFTER_RULES = {"max_days_after": "days", "max_months_after": "months"}
MAX_DAYS = 36_500
MAX_MONTHS = 1_200
COMPARE_OPS = {"==", "!=", "<", "<=", ">", ">="}
#: vehicle_plate: a German registration number, stored as ``W-AB 123``; code: a code such as a
#: document serial, stored without spaces and in capitals (checked by ``pattern`` after that).
TEXT_FORMATS = {"vehicle_plate", "code"}

#: Input names the engine or Django use themselves; no field may take them.
RESERVED_IDS = {"csrfmiddlewaretoken"}

_ID = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_OPTION_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_AUTOCOMPLETE = re.compile(r"[a-z0-9 -]{1,100}")
_ACCEPT = re.compile(r"\.[a-z0-9]{1,10}|[a-z]+/[a-z0-9.+*-]{1,60}")

MAX_ID_LENGTH = 50
MAX_TEXT_LENGTH = 2000
MAX_STEPS = 50
MAX_FIELDS_PER_STEP = 100
#: Form parameters a step page posts besides its fields (the CSRF token, the button pressed),
#: with room to spare.
STEP_OVERHEAD_PARAMETERS = 10
MAX_OPTIONS = 500
MAX_CHECKS = 50
MAX_CONDITION_DEPTH = 8
MAX_TEXT_INPUT = 10_000
MAX_LIST_ITEMS = 50
MAX_FILES = 20
#: Questions per row of a person list (the Meldeschein asks about 25 per person).
MAX_ROW_FIELDS = 30
MAX_FILE_SIZE_MB = 100


class SchemaError(Exception):
    """A form schema is broken; the message names the service (source), the step and the field."""

    def __init__(
        self, message: str, *, source: str, step: str | None = None, field: str | None = None
    ) -> None:
        self.source = source
        self.step = step
        self.field = field
        self.detail = message
        where = f"Form schema {source!r}"
        if step is not None:
            where += f", step {step!r}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Text:
    """A text in German and English; ``str()`` gives the one of the active language."""

    de: str
    en: str

    def __str__(self) -> str:
        language = get_language() or "de"
        return self.en if language.lower().startswith("en") else self.de


@dataclass(frozen=True)
class Option:
    value: str
    label: Text
    hint: Text | None = None


@dataclass(frozen=True)
class Condition:
    """Shows or hides a step or field depending on earlier answers.

    ``op`` is one of ``equals``, ``not_equals``, ``in``, ``contains``, ``answered``,
    ``not_answered`` (these name a ``field``) or ``all``, ``any``, ``not`` (these combine
    ``children``).
    """

    op: str
    field: str | None = None
    value: Any = None
    children: tuple[Condition, ...] = ()

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        if self.op == "all":
            return all(child.evaluate(answers) for child in self.children)
        if self.op == "any":
            return any(child.evaluate(answers) for child in self.children)
        if self.op == "not":
            return not self.children[0].evaluate(answers)
        assert self.field is not None
        answer = answers.get(self.field)
        if self.op == "answered":
            return is_answered(answer)
        if self.op == "not_answered":
            return not is_answered(answer)
        if self.op == "contains":
            return isinstance(answer, list) and self.value in answer
        if self.op == "in":
            return any(_same(answer, candidate) for candidate in self.value)
        if self.op == "equals":
            return _same(answer, self.value)
        return not _same(answer, self.value)  # not_equals

    def fields(self) -> set[str]:
        names = {self.field} if self.field else set()
        for child in self.children:
            names |= child.fields()
        return names


def is_answered(value: Any) -> bool:
    return value not in (None, "", [], {})


def _same(answer: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(answer, bool):
        return answer is expected
    if isinstance(expected, Decimal):
        try:
            return Decimal(str(answer)) == expected
        except (InvalidOperation, ValueError):
            return False
    return bool(answer == expected)


@dataclass(frozen=True)
class Check:
    """A rule with a severity: ``error`` blocks the step, ``warning`` is shown and lets it pass."""

    rule: str
    severity: Severity = "error"
    message: Text | None = None
    days: int | None = None
    months: int | None = None
    years: int | None = None
    #: a period (``PERIOD_RULES``) that would end on a Saturday, Sunday or public holiday ends
    #: on the next working day
    ends_on_working_day: bool = False
    date: datetime.date | None = None
    value: Decimal | None = None
    pattern: re.Pattern[str] | None = None
    field: str | None = None
    op: str | None = None
    other: str | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    id: str
    type: str
    label: Text
    hint: Text | None = None
    required: bool = True
    show_if: Condition | None = None
    checks: tuple[Check, ...] = ()
    autocomplete: str | None = None
    # text
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_message: Text | None = None
    multiline: bool = False
    format: str | None = None
    # iban, address_abroad, country (ISO 3166-1 alpha-2 codes; none: all)
    countries: tuple[str, ...] = ()
    # country: also the nationalities that are no state (stateless, not determined)
    nationality: bool = False
    # number
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    decimals: int = 0
    # select, radio, checkbox
    options: tuple[Option, ...] = ()
    min_selected: int | None = None
    max_selected: int | None = None
    # person_list
    fields: tuple[Field, ...] = ()
    min_items: int = 0
    max_items: int = 10
    initial_items: int = 1
    item_label: Text | None = None
    # file
    max_files: int = 1
    max_size_mb: int = 10
    accept: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return FIELD_KINDS[self.type]

    @property
    def max_size_bytes(self) -> int:
        return self.max_size_mb * 1024 * 1024

    def option(self, value: str) -> Option | None:
        return next((option for option in self.options if option.value == value), None)


@dataclass(frozen=True)
class Step:
    id: str
    title: Text
    fields: tuple[Field, ...]
    intro: Text | None = None
    show_if: Condition | None = None
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class FormSchema:
    source: str
    steps: tuple[Step, ...]
    _fields: dict[str, tuple[Step, Field]] = field(default_factory=dict, repr=False, compare=False)

    def has_step(self, step_id: str) -> bool:
        return any(step.id == step_id for step in self.steps)

    def step(self, step_id: str) -> Step:
        """The step ``step_id``; ``KeyError`` if there is none (check ids from URLs first)."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def field(self, field_id: str) -> Field:
        return self._fields[field_id][1]

    def step_of(self, field_id: str) -> Step:
        return self._fields[field_id][0]

    def all_fields(self) -> Iterator[Field]:
        for step in self.steps:
            yield from step.fields


# --- loading ------------------------------------------------------------------------------


def load_schema_file(path: str | Path, *, source: str | None = None) -> FormSchema:
    """Read a schema from a ``.toml`` or ``.json`` file and load it."""
    path = Path(path)
    name = source or str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SchemaError(f"cannot read the file: {error.strerror}", source=name) from error
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise SchemaError(
            f"the file is not valid {path.suffix[1:] or 'TOML'}: {error}", source=name
        ) from error
    return load_schema(data, source=name)


def load_schema(data: Any, *, source: str) -> FormSchema:
    """Check ``data`` completely and build a :class:`FormSchema`, or raise :class:`SchemaError`."""
    return _Loader(source).load(data)


class _Loader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.step: str | None = None
        self.field: str | None = None
        self.known: dict[str, Field] = {}
        self.placed: dict[str, tuple[Step, Field]] = {}

    def fail(self, message: str) -> SchemaError:
        return SchemaError(message, source=self.source, step=self.step, field=self.field)

    # generic value readers

    def mapping(self, value: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
            raise self.fail(f"{what} must be a table (mapping), not {_type_name(value)}")
        return value

    def keys(self, data: Mapping[str, Any], allowed: set[str], what: str) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(
                f"unknown key {unknown[0]!r} in {what}; allowed: {', '.join(sorted(allowed))}"
            )

    def sequence(self, value: Any, what: str, *, limit: int) -> Sequence[Any]:
        if not isinstance(value, list | tuple):
            raise self.fail(f"{what} must be a list, not {_type_name(value)}")
        if len(value) > limit:
            raise self.fail(f"{what} has more than {limit} entries")
        return value

    def identifier(self, value: Any, what: str) -> str:
        if (
            not isinstance(value, str)
            or len(value) > MAX_ID_LENGTH
            or not _ID.fullmatch(value)
            or value in RESERVED_IDS
        ):
            raise self.fail(
                f"{what} must be a name of lowercase letters, digits and single underscores "
                f"(at most {MAX_ID_LENGTH} characters), not {_short(value)}"
            )
        return value

    def text(self, value: Any, what: str) -> Text:
        data = self.mapping(value, what)
        self.keys(data, {"de", "en"}, what)
        texts = {}
        for language in ("de", "en"):
            item = data.get(language)
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{what} needs a non-empty text for {language!r}")
            if len(item) > MAX_TEXT_LENGTH:
                raise self.fail(f"{what} ({language}) is longer than {MAX_TEXT_LENGTH} characters")
            texts[language] = item.strip()
        return Text(de=texts["de"], en=texts["en"])

    def optional_text(self, data: Mapping[str, Any], key: str) -> Text | None:
        return self.text(data[key], key) if key in data else None

    def boolean(self, data: Mapping[str, Any], key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{key} must be true or false, not {_short(value)}")
        return value

    def integer(
        self, data: Mapping[str, Any], key: str, default: int | None, *, low: int, high: int
    ) -> int | None:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(
                f"{key} must be a whole number from {low} to {high}, not {_short(value)}"
            )
        return value

    def required_integer(
        self, data: Mapping[str, Any], key: str, default: int, *, low: int, high: int
    ) -> int:
        value = self.integer(data, key, default, low=low, high=high)
        assert value is not None
        return value

    def decimal(self, value: Any, what: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(f"{what} must be a number, not {_short(value)}")
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise self.fail(f"{what} must be a number, not {_short(value)}") from None
        if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
            raise self.fail(f"{what} must be a finite number below 10^15, not {_short(value)}")
        return number

    def iso_date(self, value: Any, what: str) -> datetime.date:
        if isinstance(value, datetime.datetime):
            raise self.fail(f"{what} must be a date without a time")
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(f"{what} must be a date like 2025-01-31, not {_short(value)}")

    def regex(self, value: Any, what: str) -> re.Pattern[str]:
        if not isinstance(value, str) or not value or len(value) > 500:
            raise self.fail(f"{what} must be a regular expression of 1 to 500 characters")
        try:
            return re.compile(value)
        except (re.error, OverflowError, RecursionError, ValueError) as error:
            raise self.fail(f"{what} is not a valid regular expression: {error}") from None

    # schema parts

    def load(self, data: Any) -> FormSchema:
        data = self.mapping(data, "the form schema")
        self.keys(data, {"steps"}, "the form schema")
        if "steps" not in data:
            raise self.fail("the form schema needs a list 'steps'")
        raw_steps = self.sequence(data["steps"], "steps", limit=MAX_STEPS)
        if not raw_steps:
            raise self.fail("the form schema needs at least one step")
        steps: list[Step] = []
        for index, raw_step in enumerate(raw_steps):
            self.step, self.field = f"#{index + 1}", None
            steps.append(self.load_step(raw_step, seen={step.id for step in steps}))
        return FormSchema(source=self.source, steps=tuple(steps), _fields=dict(self.placed))

    def load_step(self, raw: Any, *, seen: set[str]) -> Step:
        data = self.mapping(raw, "a step")
        self.keys(data, {"id", "title", "intro", "show_if", "fields", "checks"}, "a step")
        step_id = self.identifier(data.get("id"), "the step id")
        if step_id in seen:
            raise self.fail(f"the step id {step_id!r} is used twice")
        self.step = step_id
        title = self.text(data.get("title"), "title")
        intro = self.optional_text(data, "intro")
        earlier = dict(self.known)
        show_if = self.condition(data["show_if"], earlier, 0) if "show_if" in data else None
        if "fields" not in data:
            raise self.fail("a step needs a list 'fields'")
        raw_fields = self.sequence(data["fields"], "fields", limit=MAX_FIELDS_PER_STEP)
        if not raw_fields:
            raise self.fail("a step needs at least one field")
        fields = []
        for index, raw_field in enumerate(raw_fields):
            self.field = f"#{index + 1}"
            loaded = self.load_field(raw_field)
            fields.append(loaded)
            self.known[loaded.id] = loaded
        self.field = None
        self.check_posted_size(fields)
        checks = tuple(
            self.step_check(item)
            for item in self.sequence(data.get("checks", []), "checks", limit=MAX_CHECKS)
        )
        step = Step(step_id, title, tuple(fields), intro, show_if, checks)
        for loaded in fields:
            self.placed[loaded.id] = (step, loaded)
        return step

    def check_posted_size(self, fields: Sequence[Field]) -> None:
        """A step filled in completely must fit into one request that Django accepts."""
        from rathaus.forms.field_types import posted_parameters  # field_types uses Field

        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        if limit is None:
            return
        posted = STEP_OVERHEAD_PARAMETERS + sum(posted_parameters(item) for item in fields)
        if posted > limit:
            raise self.fail(
                f"filled in completely, this step posts up to {posted} form fields (person lists "
                f"at their max_items), more than DATA_UPLOAD_MAX_NUMBER_FIELDS = {limit}; lower "
                f"max_items or split the step"
            )

    def load_field(
        self, raw: Any, *, parent: str | None = None, siblings: Mapping[str, Field] | None = None
    ) -> Field:
        data = self.mapping(raw, "a field")
        field_id = self.identifier(data.get("id"), "the field id")
        self.field = f"{parent}.{field_id}" if parent else field_id
        if not parent and field_id in self.known:
            raise self.fail(f"the field id {field_id!r} is used twice in this form")
        field_type = data.get("type")
        if not isinstance(field_type, str) or field_type not in FIELD_KINDS:
            raise self.fail(
                f"unknown field type {_short(field_type)}; known: {', '.join(sorted(FIELD_KINDS))}"
            )
        if parent and field_type in {"person_list", "file"}:
            raise self.fail(f"a {field_type} field cannot be part of a person_list")
        self.keys(data, _COMMON_KEYS | _TYPE_KEYS[field_type], f"a {field_type} field")
        kind = FIELD_KINDS[field_type]
        attrs: dict[str, Any] = {
            "id": field_id,
            "type": field_type,
            "label": self.text(data.get("label"), "label"),
            "hint": self.optional_text(data, "hint"),
            "required": self.boolean(data, "required", True),
        }
        if "autocomplete" in data:
            value = data["autocomplete"]
            if not isinstance(value, str) or not _AUTOCOMPLETE.fullmatch(value):
                raise self.fail("autocomplete must be an HTML autocomplete token like 'bday'")
            attrs["autocomplete"] = value
        if "show_if" in data:
            # in a person list a condition names an earlier field of the same row (``siblings``)
            known = self.known if siblings is None else siblings
            attrs["show_if"] = self.condition(data["show_if"], known, 0)
        attrs.update(getattr(self, f"_type_{kind}")(data, field_type))
        checks = []
        for item in self.sequence(data.get("checks", []), "checks", limit=MAX_CHECKS):
            if kind == "list":
                checks.append(self.row_check(item, attrs["fields"]))
            else:
                checks.append(self.field_check(item, kind))
        attrs["checks"] = tuple(checks)
        return Field(**attrs)

    def _type_text(self, data: Mapping[str, Any], field_type: str) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if field_type == "iban":
            countries = self.sequence(
                data.get("countries", []), "countries", limit=len(IBAN_LENGTHS)
            )
            for country in countries:
                if not isinstance(country, str) or country not in IBAN_LENGTHS:
                    raise self.fail(f"countries: {_short(country)} is not an IBAN country code")
            attrs["countries"] = tuple(countries)
        if field_type != "text":
            return attrs
        min_length = self.integer(data, "min_length", None, low=0, high=MAX_TEXT_INPUT)
        max_length = self.integer(data, "max_length", None, low=1, high=MAX_TEXT_INPUT)
        if min_length is not None and max_length is not None and min_length > max_length:
            raise self.fail("min_length is greater than max_length")
        attrs.update(min_length=min_length, max_length=max_length)
        if "pattern" in data:
            attrs["pattern"] = self.regex(data["pattern"], "pattern")
            attrs["pattern_message"] = self.optional_text(data, "pattern_message")
        elif "pattern_message" in data:
            raise self.fail("pattern_message needs a pattern")
        attrs["multiline"] = self.boolean(data, "multiline", False)
        if "format" in data:
            if not isinstance(data["format"], str) or data["format"] not in TEXT_FORMATS:
                raise self.fail(
                    f"unknown format {_short(data['format'])}; known: {', '.join(TEXT_FORMATS)}"
                )
            attrs["format"] = data["format"]
        return attrs

    def _type_number(self, data: Mapping[str, Any], field_type: str) -> dict[str, Any]:
        minimum = self.decimal(data["min"], "min") if "min" in data else None
        maximum = self.decimal(data["max"], "max") if "max" in data else None
        if minimum is not None and maximum is not None and minimum > maximum:
            raise self.fail("min is greater than max")
        decimals = self.integer(data, "decimals", 0, low=0, high=6)
        return {"minimum": minimum, "maximum": maximum, "decimals": decimals}

    def _type_date(self, data: Mapping[str, Any], field_type: str) -> dict[str, Any]:
        return {}

    def _type_bool(self, data: Mapping[str, Any], field_type: str) -> dict[str, Any]:
        return {}

    def _type_compound(self, data: Mapping[str, Any], field_type: str) -> dict[str, Any]:
        if field_type != "address_abroad" or "countries" not in data:
            return {}
        # The states offered, e.g. only those of the EU; without the key all of them.
        countries = self.sequence(data["countries"], "countries", limit=len(COUNTRIES))
        if not countries:
            raise self.fail("countries needs at least one country; leave it out to offer all")
        for index, country in enumerate(countries):
            if country == HOME_COUNTRY:
                raise self.fail(
                    f"countries: {HOME_COUNTRY!r} cannot be offered here; an address in Germany "
                    f"is a field of type 'address'"
                )
            if not isinstance(country, str) or country not in COUNTRIES:
                raise self.fail(
                    f"countries: {_short(country)} is not an ISO 3166-1 alpha-2 country code "
                    f"like 'AT'"
                )
            if country in countries[:index]:
                raise self.fail(f"countries: {country!r} is listed twice")
        return {"countries": tuple(countries)}

    def _type_choice(self, data: Mapping[str, Any], field_type: str) -> dict[str, Any]:
        if field_type == "country":
            return self._country_options(data)
        if "options" not in data:
            raise self.fail(f"a {field_type} field needs a list 'options'")
        options = []
        seen: set[str] = set()
        for raw in self.sequence(data["options"], "options", limit=MAX_OPTIONS):
            item = self.mapping(raw, "an option")
            self.keys(item, {"value", "label", "hint"}, "an option")
            value = item.get("value")
            if not isinstance(value, str) or not _OPTION_VALUE.fullmatch(value):
                raise self.fail(
                    f"option value {_short(value)} must be 1 to 64 letters, digits, '_', '.' or '-'"
                )
            if value in seen:
                raise self.fail(f"option value {value!r} is used twice")
            seen.add(value)
            options.append(
                Option(
                    value,
                    self.text(item.get("label"), f"the label of option {value!r}"),
                    self.optional_text(item, "hint"),
                )
            )
        if not options:
            raise self.fail(f"a {field_type} field needs at least one option")
        return {"options": tuple(options)}

    def _country_options(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A state of birth or a nationality: the options are the states (Germany included),
        all of them or those of ``countries``; ``nationality = true`` adds the statuses."""
        nationality = self.boolean(data, "nationality", False)
        names = state_names(nationality=nationality)
        offered = list(names)
        if "countries" in data:
            offered = list(self.sequence(data["countries"], "countries", limit=len(names)))
            if not offered:
                raise self.fail("countries needs at least one country; leave it out to offer all")
            for index, code in enumerate(offered):
                if not isinstance(code, str) or code not in names:
                    raise self.fail(
                        f"countries: {_short(code)} is not an ISO 3166-1 alpha-2 country code "
                        f"like 'AT'" + (" (or XXA, XXX)" if nationality else "")
                    )
                if code in offered[:index]:
                    raise self.fail(f"countries: {code!r} is listed twice")
        options = tuple(Option(code, Text(*names[code])) for code in offered)
        restricted = tuple(offered) if "countries" in data else ()
        return {"options": options, "countries": restricted, "nationality": nationality}

    def _type_multi(self, data: Mapping[str, Any], field_type: str) -> dict[str, Any]:
        attrs = self._type_choice(data, field_type)
        count = len(attrs["options"])
        attrs["min_selected"] = self.integer(data, "min_selected", None, low=0, high=count)
        attrs["max_selected"] = self.integer(data, "max_selected", None, low=1, high=count)
        if (
            attrs["min_selected"] is not None
            and attrs["max_selected"] is not None
            and attrs["min_selected"] > attrs["max_selected"]
        ):
            raise self.fail("min_selected is greater than max_selected")
        return attrs

    def _type_list(self, data: Mapping[str, Any], field_type: str) -> dict[str, Any]:
        list_id = self.field
        if "fields" not in data:
            raise self.fail("a person_list field needs a list 'fields'")
        raw_fields = self.sequence(data["fields"], "fields", limit=MAX_ROW_FIELDS)
        if not raw_fields:
            raise self.fail("a person_list field needs at least one field")
        subfields: list[Field] = []
        for index, raw in enumerate(raw_fields):
            self.field = f"{list_id}.#{index + 1}"
            siblings = {loaded.id: loaded for loaded in subfields}
            sub = self.load_field(raw, parent=list_id, siblings=siblings)
            if any(other.id == sub.id for other in subfields):
                raise self.fail(f"the field id {sub.id!r} is used twice in this list")
            subfields.append(sub)
        self.field = list_id
        max_items = self.required_integer(data, "max_items", 10, low=1, high=MAX_LIST_ITEMS)
        min_items = self.required_integer(data, "min_items", 0, low=0, high=max_items)
        initial = self.required_integer(
            data, "initial_items", max(min_items, 1), low=min_items, high=max_items
        )
        return {
            "fields": tuple(subfields),
            "min_items": min_items,
            "max_items": max_items,
            "initial_items": initial,
            "item_label": self.optional_text(data, "item_label"),
        }

    def _type_files(self, data: Mapping[str, Any], field_type: str) -> dict[str, Any]:
        accept = self.sequence(data.get("accept", []), "accept", limit=30)
        for item in accept:
            if not isinstance(item, str) or not _ACCEPT.fullmatch(item):
                raise self.fail(
                    f"accept: {_short(item)} must be a file ending like '.pdf' or a MIME type"
                )
        return {
            "max_files": self.integer(data, "max_files", 1, low=1, high=MAX_FILES),
            "max_size_mb": self.integer(data, "max_size_mb", 10, low=1, high=MAX_FILE_SIZE_MB),
            "accept": tuple(accept),
        }

    # checks

    def _check_common(self, data: Mapping[str, Any]) -> dict[str, Any]:
        severity = data.get("severity", "error")
        if severity not in ("error", "warning"):
            raise self.fail(f"severity must be 'error' or 'warning', not {_short(severity)}")
        message = self.optional_text(data, "message")
        if severity == "warning" and message is None:
            raise self.fail("a check with severity 'warning' needs a message that explains it")
        return {"rule": data["rule"], "severity": severity, "message": message}

    def field_check(self, raw: Any, kind: str) -> Check:
        data = self.mapping(raw, "a check")
        rule = data.get("rule")
        if not isinstance(rule, str) or rule not in FIELD_RULES:
            raise self.fail(
                f"unknown check rule {_short(rule)}; known: {', '.join(sorted(FIELD_RULES))}"
            )
        if kind not in FIELD_RULES[rule]:
            raise self.fail(f"the check rule {rule!r} does not apply to this field type")
        parameter = {
            "pattern": "pattern",
            "min": "value",
            "max": "value",
            "max_days_ago": "days",
            "max_days_ahead": "days",
            "max_months_ago": "months",
            "max_months_ahead": "months",
            "min_years_ago": "years",
            "max_years_ago": "years",
            "earliest": "date",
            "latest": "date",
        }.get(rule)
        allowed = {"rule", "severity", "message"} | ({parameter} if parameter else set())
        if rule in PERIOD_RULES:
            allowed.add("ends_on_working_day")
        self.keys(data, allowed, f"the check {rule!r}")
        attrs = self._check_common(data)
        if rule in PERIOD_RULES:
            attrs["ends_on_working_day"] = self.boolean(data, "ends_on_working_day", False)
        if parameter is not None and parameter not in data:
            raise self.fail(f"the check {rule!r} needs {parameter!r}")
        if parameter == "pattern":
            attrs["pattern"] = self.regex(data["pattern"], "pattern")
        elif parameter == "value":
            attrs["value"] = self.decimal(data["value"], "value")
        elif parameter == "days":
            attrs["days"] = self.integer(data, "days", None, low=0, high=MAX_DAYS)
        elif parameter == "months":
            attrs["months"] = self.integer(data, "months", None, low=0, high=MAX_MONTHS)
        elif parameter == "years":
            attrs["years"] = self.integer(data, "years", None, low=0, high=150)
        elif parameter == "date":
            attrs["date"] = self.iso_date(data["date"], "date")
        return Check(**attrs)

    def step_check(self, raw: Any) -> Check:
        data = self.mapping(raw, "a check")
        rule = data.get("rule")
        if not isinstance(rule, str) or rule not in STEP_RULES:
            raise self.fail(
                f"unknown step check rule {_short(rule)}; known: {', '.join(sorted(STEP_RULES))}"
            )
        # Both fields may come from this step or an earlier one; the message shows at ``field``.
        attrs: dict[str, Any]
        if rule == "compare":
            self.keys(
                data, {"rule", "severity", "message", "field", "op", "other"}, "a compare check"
            )
            attrs = self._check_common(data)
            left = self.known_field(data.get("field"), "field")
            right = self.known_field(data.get("other"), "other")
            if left is right:
                raise self.fail(
                    f"compare needs two different fields, not {data.get('field')} with itself"
                )
            if not isinstance(data.get("op"), str) or data["op"] not in COMPARE_OPS:
                raise self.fail(f"op must be one of {' '.join(sorted(COMPARE_OPS))}")
            if left.kind != right.kind or left.kind not in {"date", "number", "text", "choice"}:
                raise self.fail(
                    f"compare needs two dates, two numbers or two texts; {left.id!r} and "
                    f"{right.id!r} are {left.type} and {right.type}"
                )
            if left.kind in {"text", "choice"} and data["op"] not in {"==", "!="}:
                raise self.fail("texts can only be compared with == or !=")
            attrs.update(field=left.id, op=data["op"], other=right.id)
        elif rule in AFTER_RULES:
            attrs = self._after_check(data, rule)
        else:
            self.keys(data, {"rule", "severity", "message", "fields"}, "an at_least_one check")
            attrs = self._check_common(data)
            names = self.sequence(data.get("fields"), "fields", limit=MAX_FIELDS_PER_STEP)
            if len(names) < 2:
                raise self.fail("at_least_one needs at least two fields")
            attrs["fields"] = tuple(self.known_field(name, "fields").id for name in names)
            attrs["field"] = attrs["fields"][0]
        if attrs["field"] not in {loaded.id for loaded in self._current_step_fields()}:
            raise self.fail(
                f"a step check must show its message at a field of this step, "
                f"not {attrs['field']!r}"
            )
        return Check(**attrs)

    def _after_check(self, data: Mapping[str, Any], rule: str) -> dict[str, Any]:
        """A date at most so many days or calendar months after another date, e.g. the last day
        of a permit at most six months after its first: ``max_months_after``, ``months = 6``."""
        unit = AFTER_RULES[rule]
        self.keys(data, {"rule", "severity", "message", "field", "other", unit}, f"a {rule} check")
        attrs = self._check_common(data)
        left = self.known_field(data.get("field"), "field")
        right = self.known_field(data.get("other"), "other")
        if left is right:
            raise self.fail(f"{rule} needs two different fields, not {left.id} with itself")
        if left.kind != "date" or right.kind != "date":
            raise self.fail(
                f"{rule} needs two dates; {left.id!r} and {right.id!r} are {left.type} and "
                f"{right.type}"
            )
        if unit not in data:
            raise self.fail(f"the check {rule!r} needs {unit!r}")
        high = MAX_DAYS if unit == "days" else MAX_MONTHS
        attrs[unit] = self.integer(data, unit, None, low=0, high=high)
        attrs.update(field=left.id, other=right.id)
        return attrs

    def row_check(self, raw: Any, subfields: tuple[Field, ...]) -> Check:
        """A compare check between two fields of one person-list row, e.g. a marriage date on
        or after the birth date; the message shows at ``field`` of the row."""
        data = self.mapping(raw, "a check")
        if data.get("rule") != "compare":
            raise self.fail(
                f"a person_list takes only 'compare' checks of its own fields, "
                f"not {_short(data.get('rule'))}"
            )
        self.keys(data, {"rule", "severity", "message", "field", "op", "other"}, "a compare check")
        attrs = self._check_common(data)
        row = {sub.id: sub for sub in subfields}
        compared = []
        for what in ("field", "other"):
            name = data.get(what)
            if not isinstance(name, str) or name not in row:
                raise self.fail(f"{what}: {_short(name)} is not a field of this person_list")
            compared.append(row[name])
        left, right = compared
        if left.id == right.id:
            raise self.fail(f"compare needs two different fields, not {left.id} with itself")
        if not isinstance(data.get("op"), str) or data["op"] not in COMPARE_OPS:
            raise self.fail(f"op must be one of {' '.join(sorted(COMPARE_OPS))}")
        if left.kind != right.kind or left.kind not in {"date", "number", "text", "choice"}:
            raise self.fail(
                f"compare in a person_list needs two dates, two numbers or two texts; "
                f"{left.id!r} and {right.id!r} are {left.type} and {right.type}"
            )
        if left.kind in {"text", "choice"} and data["op"] not in {"==", "!="}:
            raise self.fail("texts can only be compared with == or !=")
        attrs.update(field=left.id, op=data["op"], other=right.id)
        return Check(**attrs)

    def _current_step_fields(self) -> list[Field]:
        placed = set(self.placed)
        return [loaded for field_id, loaded in self.known.items() if field_id not in placed]

    def known_field(self, value: Any, what: str) -> Field:
        if not isinstance(value, str) or value not in self.known:
            raise self.fail(
                f"{what}: {_short(value)} is not a field of this step or an earlier one"
            )
        return self.known[value]

    # conditions

    def condition(self, raw: Any, known: Mapping[str, Field], depth: int) -> Condition:
        if depth >= MAX_CONDITION_DEPTH:
            raise self.fail(f"show_if is nested deeper than {MAX_CONDITION_DEPTH} levels")
        data = self.mapping(raw, "show_if")
        for combinator in ("all", "any"):
            if combinator in data:
                self.keys(data, {combinator}, "show_if")
                parts = self.sequence(data[combinator], f"show_if.{combinator}", limit=20)
                if not parts:
                    raise self.fail(f"show_if.{combinator} needs at least one condition")
                children = tuple(self.condition(part, known, depth + 1) for part in parts)
                return Condition(combinator, children=children)
        if "not" in data:
            self.keys(data, {"not"}, "show_if")
            return Condition("not", children=(self.condition(data["not"], known, depth + 1),))
        tests = {"equals", "not_equals", "in", "contains", "answered"}
        self.keys(data, {"field"} | tests, "show_if")
        name = data.get("field")
        if not isinstance(name, str) or name not in known:
            raise self.fail(
                f"show_if refers to {_short(name)}, which is not a field asked before this one"
            )
        target = known[name]
        present = [test for test in tests if test in data]
        if len(present) != 1:
            raise self.fail(f"show_if needs exactly one of: {', '.join(sorted(tests))}")
        op = present[0]
        value = data[op]
        if op == "answered":
            if not isinstance(value, bool):
                raise self.fail("show_if.answered must be true or false")
            return Condition("answered" if value else "not_answered", field=name)
        if op == "contains":
            if target.kind != "multi":
                raise self.fail("show_if.contains applies to checkbox fields only")
            return Condition("contains", field=name, value=self.operand(target, value))
        if target.kind in {"multi", "compound", "list", "files"}:
            raise self.fail(f"show_if.{op} cannot test a {target.type} field")
        if op == "in":
            values = self.sequence(value, "show_if.in", limit=MAX_OPTIONS)
            if not values:
                raise self.fail("show_if.in needs at least one value")
            return Condition("in", field=name, value=tuple(self.operand(target, v) for v in values))
        return Condition(op, field=name, value=self.operand(target, value))

    def operand(self, target: Field, value: Any) -> Any:
        if target.kind == "bool":
            if not isinstance(value, bool):
                raise self.fail(
                    f"show_if compares the yes/no field {target.id!r} with true or false"
                )
            return value
        if target.kind in {"choice", "multi"}:
            if not isinstance(value, str) or target.option(value) is None:
                raise self.fail(f"show_if: {_short(value)} is not an option of {target.id!r}")
            return value
        if target.kind == "number":
            return self.decimal(value, "show_if value")
        if target.kind == "date":
            return self.iso_date(value, "show_if value").isoformat()
        if not isinstance(value, str):
            raise self.fail(f"show_if compares the text field {target.id!r} with a text")
        return value


def _type_name(value: Any) -> str:
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
