"""Property tests: arbitrary input never breaks the engine, only ever gives messages.

- every field type, fed arbitrary posted strings, gives a result (clean values that can be
  stored as JSON in PostgreSQL, or messages) and renders;
- clean values survive a round trip through the form (show them, post them again);
- stale or foreign answers (e.g. saved under an older schema) never break anything;
- the schema loader raises nothing but SchemaError, whatever it is given;
- months are calendar months, and a period that should end on a working day ends on the first
  one that is no Saturday, Sunday or public holiday of the Land.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import os
import re
import tomllib
from typing import Any

import holidays
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rathaus.forms.countries import COUNTRIES
from rathaus.forms.display import describe_answers
from rathaus.forms.engine import initial_data, row_action, validate_all, validate_step
from rathaus.forms.field_types import ADDRESS_ABROAD_PARTS, ADDRESS_PARTS, DATE_PARTS, NAME_PARTS
from rathaus.forms.periods import STATES, months_after
from rathaus.forms.rendering import render_step
from rathaus.forms.schema import FIELD_KINDS, FormSchema, SchemaError, load_schema

from .conftest import EXAMPLE, TODAY, field, one_step

# RATHAUS_HYPOTHESIS_EXAMPLES=2000 for a deeper run than the suite's quick one.
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("RATHAUS_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "\u202e",
        "\ufeff",
        "0",
        "-1",
        "1e999",
        "NaN",
        "Infinity",
        "31",
        "29",
        "2",
        "2000",
        "99999999999999999999",
        "1,5",
        "1.234,56",
        "yes",
        "no",
        "true",
        "<script>",
        "DE89 3704 0044 0532 0130 00",
        "DE00 0000 0000 0000 0000 00",
        "a@b",
        "x" * 300,
        "😀",
        "ß",
        "\n\r\t",
        "AT",
        "DE",
        "SW1A 1AA",
        "1100-053",
    ]
)
POSTED_TEXT = st.one_of(
    NASTY, st.text(max_size=60), st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
)
POSTED_VALUE = st.one_of(POSTED_TEXT, st.lists(POSTED_TEXT, max_size=4))

OPTIONS = [{"value": value, "label": {"de": value, "en": value}} for value in ("a", "b", "other")]
EXTRA: dict[str, dict[str, Any]] = {
    "select": {"options": OPTIONS},
    "radio": {"options": OPTIONS},
    "checkbox": {"options": OPTIONS, "min_selected": 1, "max_selected": 2},
    "number": {"min": -5, "max": 10_000, "decimals": 2},
    "text": {"max_length": 50, "pattern": "[A-Za-z ]*"},
    "iban": {"countries": ["DE", "AT"]},
    "person_list": {
        "fields": [
            field("name", "person_name"),
            field("born", "date", checks=[{"rule": "not_in_future"}]),
            field("role", "select", options=OPTIONS, required=False),
            field("abroad", "address_abroad", required=False),
        ],
        "max_items": 3,
    },
    "file": {"accept": [".pdf"], "max_size_mb": 1, "max_files": 2},
    "date": {
        "checks": [
            {
                "rule": "max_days_ago",
                "days": 14,
                "ends_on_working_day": True,
                "severity": "warning",
                "message": {"de": "spät", "en": "late"},
            },
            {"rule": "max_months_ago", "months": 1200},
            {"rule": "max_days_ahead", "days": 7},
            {"rule": "max_months_ahead", "months": 1},
        ]
    },
}


def input_names(field_type: str, name: str) -> list[str]:
    if field_type == "date":
        return [f"{name}__{part}" for part in DATE_PARTS]
    if field_type == "person_name":
        return [f"{name}__{key}" for key, *_rest in NAME_PARTS]
    if field_type == "address":
        return [f"{name}__{key}" for key, *_rest in ADDRESS_PARTS]
    if field_type == "address_abroad":
        return [f"{name}__{key}" for key, *_rest in ADDRESS_ABROAD_PARTS]
    if field_type == "person_list":
        names = [f"{name}__rows"]
        for row in (1, 2, 3):
            names += input_names("person_name", f"{name}__{row}__name")
            names += input_names("date", f"{name}__{row}__born")
            names.append(f"{name}__{row}__role")
            names += input_names("address_abroad", f"{name}__{row}__abroad")
        return names
    if field_type == "file":
        return [f"{name}__remove"]
    return [name]


SCHEMAS = {
    field_type: one_step(field("f", field_type, required=required, **EXTRA.get(field_type, {})))
    for field_type in FIELD_KINDS
    for required in (True,)
}
OPTIONAL_SCHEMAS = {
    field_type: one_step(field("f", field_type, required=False, **EXTRA.get(field_type, {})))
    for field_type in FIELD_KINDS
}


@st.composite
def posted(draw: st.DrawFn, field_type: str) -> dict[str, Any]:
    names = input_names(field_type, "f")
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    data: dict[str, Any] = {name: draw(POSTED_VALUE) for name in chosen}
    if draw(st.booleans()):
        data[draw(POSTED_TEXT)] = draw(POSTED_VALUE)  # keys the form never has
    return data


def assert_storable(value: Any) -> None:
    """JSON that PostgreSQL's jsonb accepts: UTF-8 encodable, no NUL characters."""
    encoded = json.dumps(value, ensure_ascii=False)
    encoded.encode("utf-8")
    assert "\\u0000" not in encoded and "\x00" not in encoded


def check_everything(schema: FormSchema, data: dict[str, Any], files: Any = None) -> None:
    result = validate_step(schema, "s", data, files, today=TODAY)
    for issue in result.issues:
        assert issue.message.strip() and issue.anchor.startswith("field-")
        assert issue.severity in {"error", "warning"}
    assert_storable(result.cleaned)
    html = render_step(schema, "s", data=data, result=result)
    for issue in result.errors:
        assert f'href="#{issue.anchor}"' in html
        assert f'id="{issue.anchor}"' in html
    if result.is_valid and result.cleaned:
        again = validate_step(schema, "s", initial_data(schema, "s", result.cleaned), today=TODAY)
        assert again.cleaned == result.cleaned, "clean values survive showing and posting again"


def property_test(field_type: str):
    @PROPERTY_SETTINGS
    @given(data=posted(field_type), required=st.booleans())
    def test(data: dict[str, Any], required: bool) -> None:
        schema = SCHEMAS[field_type] if required else OPTIONAL_SCHEMAS[field_type]
        check_everything(schema, data)

    test.__name__ = f"test_arbitrary_input_to_{field_type}_gives_values_or_messages"
    return test


for _field_type in FIELD_KINDS:
    globals()[f"test_arbitrary_input_to_{_field_type}_gives_values_or_messages"] = property_test(
        _field_type
    )


FRIENDLY = "Rua Augusta 10-ºéß"
LINE = st.one_of(st.text(alphabet=FRIENDLY, min_size=1, max_size=60), POSTED_TEXT)


@PROPERTY_SETTINGS
@given(
    lines=st.tuples(LINE, LINE, LINE, LINE),
    postal_code=st.one_of(st.text(alphabet="AZaz09 -", max_size=11), POSTED_TEXT),
    country=st.one_of(
        st.sampled_from(list(COUNTRIES)), st.sampled_from(["DE", "", "de", "XX"]), POSTED_TEXT
    ),
)
@example(lines=("Rua Augusta 10", "", "3.º Esq.", "Lisboa"), postal_code=" 1100-053", country="PT")
@example(lines=("10 Downing St", "", "", "London"), postal_code="sw1a  2aa", country="GB")
def test_what_an_address_abroad_accepts_keeps_to_its_limits(lines, postal_code, country):
    """Near-valid input, so that many examples pass: what is accepted has a known state, no
    part longer than its limit and a postal code of ASCII letters, digits, spaces and hyphens;
    everything else is a message at the part it is about."""
    line1, line2, line3, place = lines
    data = {
        "f__address_line1": line1,
        "f__address_line2": line2,
        "f__address_line3": line3,
        "f__postal_code": postal_code,
        "f__place": place,
        "f__country": country,
    }
    schema = SCHEMAS["address_abroad"]
    check_everything(schema, data)
    result = validate_step(schema, "s", data, today=TODAY)
    for issue in result.errors:
        assert issue.name in data or issue.name == "f"
    if result.is_valid:
        value = result.cleaned["f"]
        assert value["country"] in COUNTRIES
        assert value["address_line1"] and value["place"]
        for key, _label, max_length, _required in ADDRESS_ABROAD_PARTS:
            assert len(value[key]) <= max_length
        assert value["postal_code"] == "" or re.fullmatch(
            r"[A-Z0-9]([A-Z0-9 -]*[A-Z0-9])?", value["postal_code"]
        )


# Names as Django's upload handler passes them on (it strips the paths browsers may send).
FILE_NAMES = st.text(
    alphabet=st.characters(exclude_characters="/\\\x00"), min_size=1, max_size=30
).filter(lambda name: name not in {".", ".."})


@PROPERTY_SETTINGS
@given(
    uploads=st.lists(
        st.tuples(
            FILE_NAMES,
            st.binary(max_size=64),
            st.sampled_from(["application/pdf", "", "x/y"]),
        ),
        max_size=3,
    ),
    removed=POSTED_VALUE,
    stored=st.one_of(
        st.none(),
        st.just("x"),
        st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3), max_size=3),
    ),
)
def test_arbitrary_uploads_give_values_or_messages(uploads, removed, stored):
    files = MultiValueDict(
        {
            "f": [
                SimpleUploadedFile(name, content, content_type=kind)
                for name, content, kind in uploads
            ]
        }
    )
    result = validate_step(
        SCHEMAS["file"], "s", {"f__remove": removed}, files, answers={"f": stored}, today=TODAY
    )
    assert all(issue.message for issue in result.issues)
    render_step(
        SCHEMAS["file"], "s", data={"f__remove": removed}, result=result, answers={"f": stored}
    )


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), POSTED_TEXT),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(POSTED_TEXT, children, max_size=4)
    ),
    max_leaves=15,
)


def example_schema() -> FormSchema:
    return load_schema(tomllib.loads(EXAMPLE.read_text()), source="x")


EXAMPLE_SCHEMA_DATA = tomllib.loads(EXAMPLE.read_text())


@PROPERTY_SETTINGS
@given(
    answers=st.dictionaries(
        st.sampled_from([f.id for f in example_schema().all_fields()] + ["x"]), JSONISH, max_size=8
    )
)
def test_stale_or_foreign_answers_never_break_validation_or_rendering(answers):
    schema = example_schema()
    result = validate_all(schema, answers, today=TODAY, state="SN")
    # stored file descriptors come from ``applications`` and are passed through as they are
    assert_storable({key: value for key, value in result.cleaned.items() if key != "confirmation"})
    describe_answers(schema, answers)
    for step in schema.steps:
        render_step(schema, step.id, answers=answers)
        validate_step(schema, step.id, {}, answers=answers, today=TODAY)


@PROPERTY_SETTINGS
@given(action=POSTED_TEXT, rows=POSTED_TEXT)
@example(action="remove:persons:\u00b2", rows="2")  # "²".isdigit(), but int("²") fails
@example(action="remove:persons:" + "9" * 5000, rows="2")
def test_row_buttons_with_arbitrary_values(action, rows):
    schema = example_schema()
    data = row_action(schema, "people", {"_rows": action, "persons__rows": rows})
    render_step(schema, "people", data=data)


@PROPERTY_SETTINGS
@given(data=JSONISH)
def test_loader_raises_only_schema_errors_on_arbitrary_data(data):
    try:
        load_schema(data, source="fuzz")
    except SchemaError as error:
        assert "fuzz" in str(error)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


EXAMPLE_PATHS = paths(EXAMPLE_SCHEMA_DATA)


@PROPERTY_SETTINGS
@given(path=st.sampled_from(EXAMPLE_PATHS), value=JSONISH, delete=st.booleans())
def test_loader_raises_only_schema_errors_on_a_damaged_example(path, value, delete):
    data = copy.deepcopy(EXAMPLE_SCHEMA_DATA)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    try:
        schema = load_schema(data, source="fuzz")
    except SchemaError as error:
        assert error.source == "fuzz"
    else:  # what loads must also run
        for step in schema.steps:
            validate_step(schema, step.id, {}, today=TODAY)
            render_step(schema, step.id)


# --- calendar months and working days (forms.periods and the date rules that use them) ---------

DAYS = st.dates(min_value=datetime.date(1995, 1, 1), max_value=datetime.date(2095, 12, 31))
LAENDER = st.sampled_from([None, *sorted(STATES)])


def posted_date(name: str, day: datetime.date) -> dict[str, str]:
    return {
        f"{name}__day": str(day.day),
        f"{name}__month": str(day.month),
        f"{name}__year": str(day.year),
    }


@functools.cache
def date_rule(**check: Any) -> FormSchema:
    if check.get("severity") == "warning":
        check["message"] = {"de": "Frist vorbei", "en": "Period over"}
    return one_step(field("d", "date", checks=[check]))


@PROPERTY_SETTINGS
@given(day=st.dates(), months=st.integers(min_value=-1200, max_value=1200))
@example(day=datetime.date(2026, 8, 31), months=6)
@example(day=datetime.date(9999, 12, 31), months=1)
@example(day=datetime.date(1, 1, 1), months=-1)
def test_months_after_is_the_same_day_or_the_last_of_a_shorter_month(day, months):
    """§ 188 Abs. 3 BGB, as dateutil counts too; beyond the calendar it stops at its end."""
    try:
        expected = day + relativedelta(months=months)
    except (ValueError, OverflowError):
        expected = datetime.date.max if months > 0 else datetime.date.min
    assert months_after(day, months) == expected


@PROPERTY_SETTINGS
@given(today=DAYS, months=st.integers(min_value=0, max_value=36))
@example(today=datetime.date(2026, 6, 1), months=3)
@example(today=datetime.date(2027, 8, 31), months=6)
def test_max_months_ahead_takes_the_day_n_months_on_and_refuses_the_next(today, months):
    schema = date_rule(rule="max_months_ahead", months=months)
    last = today + relativedelta(months=months)
    assert validate_step(schema, "s", posted_date("d", last), today=today).is_valid
    later = posted_date("d", last + datetime.timedelta(days=1))
    assert not validate_step(schema, "s", later, today=today).is_valid


@PROPERTY_SETTINGS
@given(start=DAYS, months=st.integers(min_value=0, max_value=36), days=st.integers(0, 400))
def test_max_after_takes_the_last_day_allowed_and_refuses_the_next(start, months, days):
    for check, last in (
        ({"rule": "max_months_after", "months": months}, start + relativedelta(months=months)),
        ({"rule": "max_days_after", "days": days}, start + datetime.timedelta(days=days)),
    ):
        schema = after_rule(**check)
        data = {**posted_date("first", start), **posted_date("last", last)}
        assert validate_step(schema, "s", data, today=start).is_valid
        data.update(posted_date("last", last + datetime.timedelta(days=1)))
        assert not validate_step(schema, "s", data, today=start).is_valid


@functools.cache
def after_rule(**check: Any) -> FormSchema:
    return one_step(
        field("first", "date"),
        field("last", "date"),
        checks=[{"field": "last", "other": "first", **check}],
    )


@PROPERTY_SETTINGS
@given(
    day=DAYS,
    state=LAENDER,
    period=st.one_of(
        st.fixed_dictionaries({"rule": st.just("max_days_ago"), "days": st.integers(0, 60)}),
        st.fixed_dictionaries({"rule": st.just("max_months_ago"), "months": st.integers(0, 24)}),
    ),
)
@example(day=datetime.date(2026, 10, 31), state=None, period={"rule": "max_days_ago", "days": 14})
@example(day=datetime.date(2026, 12, 11), state="NW", period={"rule": "max_days_ago", "days": 14})
@example(day=datetime.date(2026, 11, 4), state="SN", period={"rule": "max_days_ago", "days": 14})
def test_a_period_runs_to_the_first_working_day_from_its_last_day(day, state, period):
    """Warned from the day after the first day, from the period's last day on, that is no
    Saturday, Sunday or public holiday of the Land (national holidays without a Land)."""
    if period["rule"] == "max_days_ago":
        end = day + datetime.timedelta(days=period["days"])
    else:
        end = day + relativedelta(months=period["months"])
    closed = holidays.country_holidays("DE", subdiv=state, years=range(end.year, end.year + 2))
    while end.weekday() >= 5 or end in closed:
        end += datetime.timedelta(days=1)
    schema = date_rule(**period, ends_on_working_day=True, severity="warning")
    data = posted_date("d", day)
    assert validate_step(schema, "s", data, today=end, state=state).issues == []
    after = validate_step(schema, "s", data, today=end + datetime.timedelta(days=1), state=state)
    assert [issue.message for issue in after.warnings] == ["Frist vorbei"]
