"""Conditions and compare checks inside a person-list row: a question a row asks only when an
earlier answer of the same row says so (``show_if``), and dates of one row compared with each
other (a marriage not before the birth)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from rathaus.forms.display import describe_answers
from rathaus.forms.engine import validate_step
from rathaus.forms.field_types import input_names
from rathaus.forms.rendering import render_step
from rathaus.forms.schema import FormSchema, SchemaError

from .conftest import TODAY, field, one_step, text
from .test_properties import POSTED_VALUE, PROPERTY_SETTINGS, check_everything
from .test_rendering import Elements

STATUS = [
    {"value": "single", "label": text("ledig", "single")},
    {"value": "married", "label": text("verheiratet", "married")},
]
MARRIAGE_BEFORE_BIRTH = {
    "rule": "compare",
    "field": "married_on",
    "op": ">=",
    "other": "born",
    "message": text("Nicht vor der Geburt.", "Not before the birth."),
}


def persons(*subfields: dict[str, Any], checks: list[dict[str, Any]] | None = None) -> FormSchema:
    extra: dict[str, Any] = {"checks": checks} if checks is not None else {}
    return one_step(
        field(
            "persons",
            "person_list",
            fields=list(subfields),
            item_label=text("Person"),
            max_items=3,
            **extra,
        )
    )


def schema() -> FormSchema:
    return persons(
        field("born", "date"),
        field("status", "select", options=STATUS),
        field("married_on", "date", show_if={"field": "status", "equals": "married"}),
        field("id_card", "yes_no"),
        field(
            "serial",
            "text",
            pattern="[0-9A-Z]{9}",
            show_if={"field": "id_card", "equals": True},
        ),
        checks=[MARRIAGE_BEFORE_BIRTH],
    )


def row(number: int = 1, **answers: str) -> dict[str, str]:
    posted = {f"persons__{number}__{key}": value for key, value in answers.items()}
    return {"persons__rows": str(number), **posted}


def date(name: str, day: int, month: int, year: int) -> dict[str, str]:
    return {f"{name}__day": str(day), f"{name}__month": str(month), f"{name}__year": str(year)}


BORN = date("born", 27, 3, 1985)


# --- loading ----------------------------------------------------------------------------------


def test_a_row_field_may_depend_on_an_earlier_field_of_its_row() -> None:
    married_on = schema().field("persons").fields[2]
    assert married_on.show_if is not None
    assert married_on.show_if.evaluate({"status": "married"})
    assert not married_on.show_if.evaluate({"status": "single"})


@pytest.mark.parametrize(
    ("subfields", "expected"),
    [
        (  # a later field of the row
            [
                field("status", "date", show_if={"field": "other", "answered": True}),
                field("other", "text"),
            ],
            "not a field asked before",
        ),
        (  # the list itself: a row cannot depend on the list it belongs to
            [field("status", "text", show_if={"field": "persons", "answered": True})],
            "not a field asked before",
        ),
        (  # the compared value must fit the row's field
            [
                field("status", "select", options=STATUS),
                field("x", "text", show_if={"field": "status", "equals": "widowed"}),
            ],
            "not an option",
        ),
    ],
)
def test_row_conditions_are_checked_when_loading(
    subfields: list[dict[str, Any]], expected: str
) -> None:
    with pytest.raises(SchemaError, match=expected) as error:
        persons(*subfields)
    assert error.value.step == "s"


def test_a_row_condition_cannot_name_a_field_outside_the_row() -> None:
    with pytest.raises(SchemaError, match="not a field asked before"):
        one_step(
            field("kind", "yes_no"),
            field(
                "persons",
                "person_list",
                fields=[field("x", "text", show_if={"field": "kind", "equals": True})],
            ),
        )


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ({**MARRIAGE_BEFORE_BIRTH, "rule": "not_in_future"}, "only 'compare' checks"),
        ({**MARRIAGE_BEFORE_BIRTH, "other": "nowhere"}, "not a field of this person_list"),
        ({**MARRIAGE_BEFORE_BIRTH, "field": ["born"]}, "not a field of this person_list"),
        ({**MARRIAGE_BEFORE_BIRTH, "op": "=>"}, "op must be one of"),
        ({**MARRIAGE_BEFORE_BIRTH, "other": "name"}, "two dates, two numbers or two texts"),
        ({**MARRIAGE_BEFORE_BIRTH, "field": "name", "other": "nick"}, "only be compared with =="),
        ({**MARRIAGE_BEFORE_BIRTH, "colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_row_checks_are_checked_when_loading(check: dict[str, Any], expected: str) -> None:
    with pytest.raises(SchemaError, match=expected):
        persons(
            field("name", "text"),
            field("nick", "text"),
            field("born", "date"),
            field("married_on", "date"),
            checks=[check],
        )


# --- validating -------------------------------------------------------------------------------


def test_a_question_the_row_does_not_ask_is_ignored_even_when_filled_in() -> None:
    posted = row(**BORN, status="single", id_card="no", serial="garbage!")
    posted.update(
        {f"persons__1__{key}": value for key, value in date("married_on", 1, 1, 2000).items()}
    )
    result = validate_step(schema(), "s", posted, today=TODAY)
    assert result.is_valid, result.errors
    assert result.cleaned["persons"] == [
        {"born": "1985-03-27", "status": "single", "id_card": False}
    ]


def test_a_question_the_row_asks_is_required_and_checked() -> None:
    result = validate_step(
        schema(), "s", row(**BORN, status="married", id_card="yes", serial="x"), today=TODAY
    )
    assert {issue.name: issue.message for issue in result.errors} == {
        "persons__1__married_on": "Geben Sie ein Datum ein.",
        "persons__1__serial": "Geben Sie den Wert im verlangten Format ein.",
    }


def test_each_row_asks_by_its_own_answers() -> None:
    posted = {
        **row(1, **BORN, status="married", **date("married_on", 14, 6, 2012), id_card="no"),
        **row(2, **BORN, status="single", id_card="yes", serial="L01X00T47"),
    }
    result = validate_step(schema(), "s", posted, today=TODAY)
    assert result.is_valid, result.errors
    first, second = result.cleaned["persons"]
    assert first["married_on"] == "2012-06-14" and "serial" not in first
    assert second["serial"] == "L01X00T47" and "married_on" not in second


def test_a_row_compare_check_shows_its_message_at_the_rows_field() -> None:
    posted = row(**BORN, status="married", **date("married_on", 1, 1, 1980), id_card="no")
    result = validate_step(schema(), "s", posted, today=TODAY)
    assert not result.is_valid
    [issue] = result.errors
    assert (issue.name, issue.anchor, issue.message) == (
        "persons__1__married_on",
        "field-persons-1-married_on-day",
        "Nicht vor der Geburt.",
    )
    assert issue.label == "Person 1: married_on (de)"
    html = render_step(schema(), "s", data=posted, result=result)
    assert 'href="#field-persons-1-married_on-day"' in html
    assert 'id="field-persons-1-married_on-day"' in html


def test_a_row_compare_check_without_a_message_explains_itself() -> None:
    plain = {key: value for key, value in MARRIAGE_BEFORE_BIRTH.items() if key != "message"}
    form = persons(field("born", "date"), field("married_on", "date"), checks=[plain])
    result = validate_step(form, "s", row(**BORN, **date("married_on", 1, 1, 1980)), today=TODAY)
    assert [issue.message for issue in result.errors] == [
        "Das Datum darf nicht vor „born (de)“ liegen."
    ]


def test_a_row_compare_check_is_skipped_while_a_date_is_missing_or_wrong() -> None:
    form = persons(
        field("born", "date", required=False),
        field("married_on", "date", required=False),
        checks=[MARRIAGE_BEFORE_BIRTH],
    )
    only_marriage = validate_step(form, "s", row(**date("married_on", 1, 1, 1980)), today=TODAY)
    assert only_marriage.is_valid, only_marriage.errors
    wrong_birth = validate_step(
        form, "s", row(**date("born", 31, 2, 1985), **date("married_on", 1, 1, 1980)), today=TODAY
    )
    assert [issue.name for issue in wrong_birth.errors] == ["persons__1__born"]


def test_a_row_compare_warning_does_not_block() -> None:
    warning = {**MARRIAGE_BEFORE_BIRTH, "severity": "warning"}
    form = persons(field("born", "date"), field("married_on", "date"), checks=[warning])
    result = validate_step(form, "s", row(**BORN, **date("married_on", 1, 1, 1980)), today=TODAY)
    assert result.is_valid
    assert [issue.message for issue in result.warnings] == ["Nicht vor der Geburt."]
    assert result.cleaned["persons"][0]["married_on"] == "1980-01-01"


def test_a_warning_of_a_rows_own_field_keeps_the_rows() -> None:
    """A warning lets the step pass, so the rows must be kept (they were dropped before)."""
    late = {"rule": "max_years_ago", "years": 30, "severity": "warning", "message": text("alt")}
    form = persons(field("born", "date", checks=[late]))
    result = validate_step(form, "s", row(**date("born", 1, 1, 1950)), today=TODAY)
    assert result.is_valid
    assert [issue.message for issue in result.warnings] == ["alt"]
    assert result.cleaned == {"persons": [{"born": "1950-01-01"}]}


# --- showing the answers ----------------------------------------------------------------------


def test_the_answers_list_only_the_questions_each_row_asked() -> None:
    answers = {
        "persons": [
            {
                "born": "1985-03-27",
                "status": "married",
                "married_on": "2012-06-14",
                "id_card": False,
            },
            {"born": "2019-02-14", "status": "single", "id_card": True, "serial": "L01X00T47"},
        ]
    }
    [section] = describe_answers(schema(), answers)
    first, second = section.rows[0].children
    assert [item.field_id for item in first] == ["born", "status", "married_on", "id_card"]
    assert [item.field_id for item in second] == ["born", "status", "id_card", "serial"]


# --- arbitrary input --------------------------------------------------------------------------

NAMES = [
    f"persons__{number}__{name}"
    for number in (1, 2)
    for name in (
        "born__day",
        "born__month",
        "born__year",
        "status",
        "married_on__day",
        "married_on__month",
        "married_on__year",
        "id_card",
        "serial",
    )
]


@PROPERTY_SETTINGS
@given(
    posted=st.dictionaries(st.sampled_from(NAMES), POSTED_VALUE, max_size=len(NAMES)),
    rows=st.sampled_from(["0", "1", "2", "x"]),
    status=st.sampled_from(["single", "married", ""]),
    id_card=st.sampled_from(["yes", "no", ""]),
)
def test_arbitrary_input_to_conditional_rows_gives_values_or_messages(
    posted: dict[str, Any], rows: str, status: str, id_card: str
) -> None:
    data = {**posted, "persons__rows": rows, "persons__1__status": status}
    data["persons__1__id_card"] = id_card
    check_everything(schema(), data)


def test_a_row_check_cannot_compare_a_field_with_itself() -> None:
    with pytest.raises(SchemaError, match="two different fields"):
        one_step(
            field(
                "persons",
                "person_list",
                fields=[field("born", "date")],
                checks=[{"rule": "compare", "field": "born", "op": ">", "other": "born"}],
            )
        )


def test_a_person_list_holds_at_most_thirty_questions() -> None:
    assert one_step(
        field("persons", "person_list", fields=[field(f"q{n}", "text") for n in range(30)])
    ).field("persons")
    with pytest.raises(SchemaError, match="more than 30 entries"):
        one_step(
            field("persons", "person_list", fields=[field(f"q{n}", "text") for n in range(31)])
        )


# --- rendering --------------------------------------------------------------------------------


def test_each_rows_conditional_question_names_the_inputs_of_its_own_row() -> None:
    """For rathaus.js: the condition of row 2 reads row 2's answers, by their input names."""
    page = Elements(render_step(schema(), "s", data=row(2, status="married")))
    conditions = [json.loads(a["data-show-if"]) for _tag, a in page.elements if "data-show-if" in a]
    assert conditions == [
        {"field": f"persons__{number}__{controlling}", "type": kind, "equals": value}
        for number in (1, 2)
        for controlling, kind, value in [
            ("status", "select", "married"),
            ("id_card", "yes_no", True),
        ]
    ]


# --- size -------------------------------------------------------------------------------------


def _dates(max_items: int) -> dict[str, Any]:
    return field(
        "persons",
        "person_list",
        max_items=max_items,
        item_label=text("Person"),
        fields=[field(f"q{number}", "date") for number in range(30)],
    )


def test_a_step_that_django_would_refuse_in_full_is_a_schema_error() -> None:
    """30 dates are 90 inputs a row: eleven rows and the page's own fields exceed Django's 1000
    (DATA_UPLOAD_MAX_NUMBER_FIELDS), which would answer 400 and lose everything typed."""
    with pytest.raises(SchemaError, match=r"posts up to 1001 form fields .* = 1000"):
        one_step(_dates(11))


def test_a_step_the_loader_accepts_reaches_the_form_engine_in_full() -> None:
    persons = one_step(_dates(10)).field("persons")
    posted = {"csrfmiddlewaretoken": "x", "persons__rows": "10", "aktion": "weiter"}
    for number in range(1, 11):
        posted.update(dict.fromkeys(input_names(persons, f"persons__{number}__"), "1"))
    request = RequestFactory().post("/antraege/x/schritt/people/", posted)
    assert request.POST["persons__rows"] == "10"  # Django refused it with TooManyFieldsSent


def test_the_limit_follows_the_setting(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
    assert one_step(_dates(11)).field("persons").max_items == 11
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = None  # no limit in Django: none here
    assert one_step(_dates(50)).field("persons").max_items == 50
