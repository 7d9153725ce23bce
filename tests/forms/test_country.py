"""The field type ``country``: a state (of birth, of a nationality) chosen from a list of ISO 3166-1
codes, Germany first, and for a nationality the statuses stateless and not determined."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from rathaus.forms.display import describe_answers
from rathaus.forms.engine import validate_step
from rathaus.forms.rendering import render_step
from rathaus.forms.schema import SchemaError

from .conftest import TODAY, field, one_step
from .test_rendering import Elements, assert_accessible


def schema(**extra: Any):
    return one_step(field("state", "country", **extra), field("name", "text", required=False))


def check(data: dict[str, str], **extra: Any):
    return validate_step(schema(**extra), "s", data, today=TODAY)


def errors(result) -> list[tuple[str, str]]:
    return [(issue.anchor, issue.message) for issue in result.errors]


def offered(page: Elements) -> list[tuple[str, str]]:
    return [
        (attrs["value"], page.texts[index])
        for index, (tag, attrs) in enumerate(page.elements)
        if tag == "option" and attrs["value"]
    ]


def test_a_state_is_stored_as_its_iso_code_germany_included():
    assert check({"state": "DE"}).cleaned == {"state": "DE"}
    assert check({"state": "XK"}).cleaned == {"state": "XK"}


@pytest.mark.parametrize("posted", ["Deutschland", "de", "DEU", "XX", "XXA", "<b>"])
def test_anything_but_an_offered_code_is_refused_at_the_field(posted):
    result = check({"state": posted, "name": "kept"})
    assert errors(result) == [("field-state", "Wählen Sie einen der angebotenen Staaten aus.")]


def test_the_refusal_is_english_in_english():
    with translation.override("en"):
        result = check({"state": "Germany"})
    assert errors(result) == [("field-state", "Select one of the countries offered.")]


def test_a_required_state_must_be_chosen_and_an_optional_one_may_stay_empty():
    assert errors(check({"state": ""})) == [("field-state", "Bitte wählen Sie eine Antwort aus.")]
    assert check({"state": ""}, required=False).cleaned == {}


def test_a_nationality_may_be_stateless_or_not_determined():
    assert check({"state": "XXA"}, nationality=True).cleaned == {"state": "XXA"}
    assert check({"state": "XXX"}, nationality=True).cleaned == {"state": "XXX"}


def test_a_schema_may_offer_only_some_states():
    assert check({"state": "AT"}, countries=["AT", "CH"]).is_valid
    assert errors(check({"state": "DE"}, countries=["AT", "CH"])) == [
        ("field-state", "Wählen Sie einen der angebotenen Staaten aus.")
    ]


def test_the_select_lists_germany_first_the_states_by_name_the_statuses_last():
    page = Elements(render_step(schema(nationality=True), "s"))
    assert_accessible(page)
    states = offered(page)
    assert states[0] == ("DE", "Deutschland")
    assert states[-2:] == [("XXA", "staatenlos"), ("XXX", "ungeklärt")]
    names = [name for code, name in states if code in {"AT", "EG", "EE", "NL", "GB"}]
    assert names == ["Ägypten", "Estland", "Niederlande", "Österreich", "Vereinigtes Königreich"]
    assert len(states) == 252  # Germany, 249 ISO 3166-1 states and Kosovo, two statuses
    with translation.override("en"):
        english = offered(Elements(render_step(schema(nationality=True), "s")))
    assert english[0] == ("DE", "Germany")
    assert english[-2:] == [("XXA", "stateless"), ("XXX", "not determined")]
    names = [name for code, name in english if code in {"AT", "EG", "EE", "NL", "GB"}]
    assert names == ["Austria", "Egypt", "Estonia", "Netherlands", "United Kingdom"]


def test_without_nationality_the_statuses_are_not_offered():
    codes = [code for code, _name in offered(Elements(render_step(schema(), "s")))]
    assert "XXA" not in codes and "XXX" not in codes and codes[0] == "DE"


def test_a_refused_choice_keeps_what_else_was_typed_and_marks_the_select():
    data = {"state": "XX", "name": "Erika"}
    result = validate_step(schema(), "s", data, today=TODAY)
    page = Elements(render_step(schema(), "s", data=data, result=result))
    [select] = page.all("select", id="field-state")
    assert select["aria-invalid"] == "true"
    assert page.all("input", id="field-name")[0]["value"] == "Erika"
    chosen = Elements(render_step(schema(), "s", data={"state": "PL"}))
    assert [a["value"] for a in chosen.all("option") if "selected" in a] == ["PL"]


def test_a_state_is_shown_by_name_in_the_readers_language():
    answers = {"state": "PL"}
    [section] = describe_answers(schema(), answers)
    assert section.rows[0].text == "Polen"
    with translation.override("en"):
        [section] = describe_answers(schema(), answers)
    assert section.rows[0].text == "Poland"


def test_conditions_and_compares_use_the_codes():
    loaded = one_step(
        field("first", "country", nationality=True),
        field("second", "country", required=False, show_if={"field": "first", "equals": "DE"}),
        checks=[{"rule": "compare", "field": "second", "op": "!=", "other": "first"}],
    )
    assert loaded.field("second").show_if is not None
    with pytest.raises(SchemaError, match=r"'Germany' is not an option of 'first'"):
        one_step(
            field("first", "country"),
            field("second", "text", show_if={"field": "first", "equals": "Germany"}),
        )


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"countries": ["AT", "XY"]}, "'XY' is not an ISO 3166-1 alpha-2 country code"),
        ({"countries": ["at"]}, "'at' is not an ISO 3166-1"),
        ({"countries": ["XXA"]}, "'XXA' is not an ISO 3166-1"),  # a status only for nationality
        ({"countries": ["AT", "AT"]}, "'AT' is listed twice"),
        ({"countries": []}, "needs at least one country"),
        ({"nationality": "yes"}, "nationality must be true or false"),
        ({"options": [{"value": "a", "label": {"de": "a", "en": "a"}}]}, "unknown key 'options'"),
        ({"max_length": 3}, "unknown key 'max_length'"),
    ],
)
def test_a_broken_country_field_is_a_schema_error(extra, fragment):
    with pytest.raises(SchemaError, match=fragment):
        schema(**extra)


def test_a_nationality_field_may_offer_the_statuses_by_name():
    assert check({"state": "XXA"}, nationality=True, countries=["DE", "XXA"]).is_valid
