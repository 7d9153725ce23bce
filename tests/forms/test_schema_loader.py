"""Loading schemas: the example loads; every mistake is a SchemaError naming its place."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from rathaus.forms.schema import FIELD_KINDS, SchemaError, load_schema, load_schema_file

from .conftest import EXAMPLE, field, text


def example_data() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text())


def test_documented_example_loads_with_all_steps_and_fields(example):
    assert [step.id for step in example.steps] == ["move", "people", "landlord", "contact", "fees"]
    persons = example.field("persons")
    assert [sub.id for sub in persons.fields] == ["name", "birth_date", "sex", "nationality"]
    assert example.step_of("iban").id == "fees"
    assert example.field("move_in_date").checks[1].severity == "warning"


def test_the_example_uses_every_field_type(example):
    """The property tests on stale answers and the browser test with axe go through the
    example: a new field type must appear in it to be checked there."""
    used = {item.type for item in example.all_fields()}
    used |= {sub.type for item in example.all_fields() for sub in item.fields}
    assert used == set(FIELD_KINDS)


def test_example_in_the_docs_is_the_tested_example():
    docs = Path(__file__).parents[2] / "docs" / "modules" / "forms.md"
    assert EXAMPLE.read_text().strip() in docs.read_text()


def test_labels_follow_the_active_language(example):
    from django.utils import translation

    label = example.field("move_in_date").label
    with translation.override("en"):
        assert str(label) == "Date of moving in"
    with translation.override("de"):
        assert str(label) == "Datum des Einzugs"


def broken(path: list[Any], value: Any, *, delete: bool = False) -> dict[str, Any]:
    data = example_data()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "step", "field_id", "fragment"),
    [
        (
            broken(["steps", 0, "fields", 0, "type"], "colour"),
            "move",
            "move_in_date",
            "unknown field type",
        ),
        (
            broken(["steps", 0, "fields", 0, "label"], {"de": "Datum"}),
            "move",
            "move_in_date",
            "'en'",
        ),
        (
            broken(["steps", 0, "fields", 1, "id"], "move_in_date"),
            "move",
            "move_in_date",
            "used twice",
        ),
        (broken(["steps", 0, "fields", 0, "id"], "Move-Date"), "move", "#1", "field id"),
        (
            broken(["steps", 0, "fields", 0, "checks", 0, "rule"], "soon"),
            "move",
            "move_in_date",
            "unknown check rule",
        ),
        (
            broken(["steps", 0, "fields", 0, "checks", 1, "message"], None, delete=True),
            "move",
            "move_in_date",
            "warning",
        ),
        (
            broken(["steps", 0, "fields", 3, "show_if"], {"field": "later", "equals": True}),
            "move",
            "other_residence",
            "not a field asked before",
        ),
        (
            broken(
                ["steps", 0, "fields", 3, "show_if"], {"field": "main_residence", "equals": "ja"}
            ),
            "move",
            "other_residence",
            "true or false",
        ),
        (
            broken(["steps", 1, "fields", 0, "fields", 2, "options", 1, "value"], "female"),
            "people",
            "persons.sex",
            "used twice",
        ),
        (broken(["steps", 1, "fields", 0, "max_items"], 0), "people", "persons", "max_items"),
        (broken(["steps", 3, "checks", 0, "fields"], ["email", "fax"]), "contact", None, "'fax'"),
        (broken(["steps", 4, "fields", 0, "countries"], ["XX"]), "fees", "iban", "IBAN country"),
        (broken(["steps", 4, "fields", 2, "min"], 40), "fees", "rooms", "min is greater than max"),
        (broken(["steps", 4, "fields", 4, "min_selected"], 9), "fees", "usage", "min_selected"),
        (
            broken(["steps", 4, "fields", 5, "show_if"], {"field": "usage", "contains": "sport"}),
            "fees",
            "usage_other",
            "not an option",
        ),
        (
            broken(["steps", 4, "show_if"], {"field": "iban", "answered": True}),
            "fees",
            None,
            "not a field asked before",
        ),
        (
            broken(["steps", 2, "fields", 0, "max_size_mb"], 5000),
            "landlord",
            "confirmation",
            "max_size_mb",
        ),
        (
            broken(["steps", 0, "fields", 1, "colour"], "red"),
            "move",
            "new_address",
            "unknown key 'colour'",
        ),
        *[
            (
                broken(["steps", 0, "fields", 4, key], value),
                "move",
                "previous_address_abroad",
                fragment,
            )
            for key, value, fragment in [
                ("countries", ["AT", "XX"], "'XX' is not an ISO 3166-1 alpha-2 country code"),
                ("countries", ["at"], "'at' is not an ISO 3166-1"),
                ("countries", [None], "None is not an ISO 3166-1"),
                ("countries", ["DE"], "an address in Germany is a field of type 'address'"),
                ("countries", ["AT", "CH", "AT"], "'AT' is listed twice"),
                ("countries", [], "needs at least one country"),
                ("countries", "AT", "countries must be a list"),
                ("max_length", 80, "unknown key 'max_length' in a address_abroad field"),
                ("checks", [{"rule": "pattern", "pattern": "x"}], "does not apply"),
            ]
        ],
    ],
)
def test_broken_schema_is_a_schema_error_naming_service_step_and_field(
    data, step, field_id, fragment
):
    with pytest.raises(SchemaError) as caught:
        load_schema(data, source="umzug-anmelden")
    error = caught.value
    assert error.source == "umzug-anmelden"
    assert error.step == step
    assert error.field == field_id
    assert fragment in str(error)
    assert str(error).startswith("Form schema 'umzug-anmelden'")


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "steps",
        {"steps": []},
        {"steps": "x"},
        {"stepz": []},
        {"steps": [None]},
        {"steps": [{"id": "a", "title": text("A"), "fields": []}]},
    ],
)
def test_wrong_shapes_are_schema_errors(data):
    with pytest.raises(SchemaError):
        load_schema(data, source="x")


def test_invalid_regular_expression_is_named():
    data = {
        "steps": [
            {"id": "s", "title": text("S"), "fields": [field("plate", "text", pattern="[A-Z")]}
        ]
    }
    with pytest.raises(SchemaError, match=r"field 'plate'.*not a valid regular expression"):
        load_schema(data, source="parken")


def test_condition_on_a_later_field_of_the_same_step_is_refused():
    data = {
        "steps": [
            {
                "id": "s",
                "title": text("S"),
                "fields": [
                    field("a", "text", show_if={"field": "b", "answered": True}),
                    field("b", "text"),
                ],
            }
        ]
    }
    with pytest.raises(SchemaError, match="not a field asked before"):
        load_schema(data, source="x")


def test_conditions_nested_too_deep_are_refused():
    condition: dict[str, Any] = {"field": "a", "answered": True}
    for _level in range(10):
        condition = {"not": condition}
    data = {
        "steps": [
            {
                "id": "s",
                "title": text("S"),
                "fields": [field("a", "text"), field("b", "text", show_if=condition)],
            }
        ]
    }
    with pytest.raises(SchemaError, match="nested deeper"):
        load_schema(data, source="x")


def test_step_check_must_point_at_a_field_of_its_own_step():
    data = example_data()
    data["steps"][3]["checks"][0]["fields"] = ["iban", "email"]
    data["steps"][3]["checks"][0]["fields"] = ["rooms", "email"]
    with pytest.raises(SchemaError):
        load_schema(data, source="x")
    data = example_data()
    data["steps"][0]["fields"].append(
        {"id": "moved_out", "type": "date", "label": {"de": "Auszug", "en": "Moving out"}}
    )
    data["steps"][4]["checks"] = [
        {"rule": "compare", "field": "move_in_date", "op": "<=", "other": "moved_out"}
    ]
    with pytest.raises(SchemaError, match="at a field of this step"):
        load_schema(data, source="x")


def test_compare_needs_fields_of_the_same_kind():
    data = example_data()
    data["steps"][4]["checks"] = [
        {"rule": "compare", "field": "rooms", "op": "<", "other": "move_in_date"}
    ]
    with pytest.raises(SchemaError, match="two dates, two numbers"):
        load_schema(data, source="x")


def test_file_reader_reports_bad_toml_and_missing_files(tmp_path):
    bad = tmp_path / "form.toml"
    bad.write_text("[[steps]\nid = ")
    with pytest.raises(SchemaError, match="not valid toml"):
        load_schema_file(bad, source="svc")
    with pytest.raises(SchemaError, match="cannot read"):
        load_schema_file(tmp_path / "missing.toml", source="svc")
    good = tmp_path / "form.json"
    import json

    good.write_text(json.dumps(example_data()))
    assert load_schema_file(good).source == str(good)


def test_loader_does_not_change_its_input():
    data = example_data()
    before = copy.deepcopy(data)
    load_schema(data, source="x")
    assert data == before


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["steps", 4, "fields", 0, "countries", 0], []),
        (["steps", 4, "fields", 1, "format"], ["vehicle_plate"]),
        (["steps", 3, "checks", 0, "rule"], {"a": 1}),
        (["steps", 0, "fields", 0, "checks", 0, "rule"], ["pattern"]),
        (["steps", 0, "fields", 0, "type"], ["date"]),
        (["steps", 1, "fields", 0, "min_items"], None),
        (["steps", 4, "fields", 2, "min"], None),
        (["steps", 0, "fields", 0, "required"], None),
    ],
)
def test_wrong_value_types_are_schema_errors(path, value):
    with pytest.raises(SchemaError):
        load_schema(broken(path, value), source="x")


def test_compare_op_that_is_a_list_is_a_schema_error():
    data = example_data()
    data["steps"][4]["checks"] = [
        {"rule": "compare", "field": "rooms", "op": ["<"], "other": "floor_area"}
    ]
    with pytest.raises(SchemaError, match="op must be one of"):
        load_schema(data, source="x")


def test_an_address_abroad_may_offer_some_states_and_cannot_be_compared():
    data = example_data()
    data["steps"][0]["fields"][4]["countries"] = ["AT", "CH", "XK"]
    loaded = load_schema(data, source="x")
    assert loaded.field("previous_address_abroad").countries == ("AT", "CH", "XK")
    data["steps"][1]["show_if"] = {"field": "previous_address_abroad", "equals": "AT"}
    with pytest.raises(SchemaError, match=r"step 'people'.*cannot test a address_abroad field"):
        load_schema(data, source="x")
    data["steps"][1]["show_if"] = {"field": "previous_address_abroad", "answered": True}
    assert load_schema(data, source="x").step("people").show_if is not None


def test_compare_of_a_field_with_itself_is_a_schema_error():
    """ "rooms > rooms" would refuse every answer, "rooms == rooms" never: a typing error."""
    data = example_data()
    data["steps"][4]["checks"] = [
        {"rule": "compare", "field": "rooms", "op": ">", "other": "rooms"}
    ]
    with pytest.raises(SchemaError, match="two different fields"):
        load_schema(data, source="x")
