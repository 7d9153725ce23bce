"""Date rules with severities, cross-field checks, and conditions on steps and fields."""

from __future__ import annotations

import datetime

import pytest
from freezegun import freeze_time

from rathaus.forms.engine import (
    apply_step,
    next_step,
    previous_step,
    prune_answers,
    validate_all,
    validate_step,
    visible_fields,
    visible_steps,
)

from .conftest import TODAY, field, one_step, text


def date_data(name: str, day: datetime.date) -> dict[str, str]:
    return {
        f"{name}__day": str(day.day),
        f"{name}__month": str(day.month),
        f"{name}__year": str(day.year),
    }


class TestMoveInDateOfTheExample:
    """§ 17 Abs. 1 BMG: register within two weeks; registering ahead is possible for one week."""

    def valid_move(self, day: datetime.date) -> dict[str, str]:
        return {
            **date_data("move_in_date", day),
            "new_address__street": "Neumarkt",
            "new_address__postal_code": "42103",
            "new_address__place": "Wuppertal",
            "main_residence": "yes",
        }

    def test_a_recent_move_passes_without_notes(self, example):
        result = validate_step(
            example, "move", self.valid_move(TODAY - datetime.timedelta(days=14)), today=TODAY
        )
        assert result.is_valid and result.issues == []

    def test_a_late_registration_warns_but_does_not_block(self, example):
        result = validate_step(
            example, "move", self.valid_move(TODAY - datetime.timedelta(days=16)), today=TODAY
        )
        assert result.is_valid
        assert [issue.severity for issue in result.issues] == ["warning"]
        assert "§ 17 BMG" in result.warnings[0].message
        assert result.cleaned["move_in_date"] == "2026-11-06"

    def test_two_weeks_ending_on_a_saturday_run_to_the_monday(self, example):
        """Moved in on Saturday 7 November: the two weeks end on Saturday 21 November, so on
        Monday 23 November (§ 31 Abs. 3 VwVfG); on Sunday 22 November it is not late yet."""
        result = validate_step(
            example, "move", self.valid_move(TODAY - datetime.timedelta(days=15)), today=TODAY
        )
        assert result.is_valid and result.issues == []

    def test_more_than_a_week_ahead_is_an_error(self, example):
        result = validate_step(
            example, "move", self.valid_move(TODAY + datetime.timedelta(days=8)), today=TODAY
        )
        assert not result.is_valid
        assert result.errors[0].message.startswith("Sie können sich höchstens eine Woche")
        assert result.errors[0].anchor == "field-move_in_date-day"

    def test_today_defaults_to_the_local_date(self, example):
        with freeze_time("2026-11-22 23:30:00+00:00"):  # already 23 November in Berlin
            result = validate_step(example, "move", self.valid_move(datetime.date(2026, 11, 30)))
        assert result.is_valid


@pytest.mark.parametrize(
    ("rule", "extra", "ok", "bad", "message"),
    [
        (
            "not_in_future",
            {},
            TODAY,
            TODAY + datetime.timedelta(days=1),
            "Das Datum darf nicht in der Zukunft liegen.",
        ),
        (
            "not_in_past",
            {},
            TODAY,
            TODAY - datetime.timedelta(days=1),
            "Das Datum darf nicht in der Vergangenheit liegen.",
        ),
        (
            "max_days_ago",
            {"days": 14},
            TODAY - datetime.timedelta(days=14),
            TODAY - datetime.timedelta(days=15),
            "Das Datum darf höchstens 14 Tage zurückliegen.",
        ),
        (
            "max_days_ahead",
            {"days": 1},
            TODAY + datetime.timedelta(days=1),
            TODAY + datetime.timedelta(days=2),
            "Das Datum darf höchstens 1 Tag in der Zukunft liegen.",
        ),
        (
            "min_years_ago",
            {"years": 16},
            datetime.date(2010, 11, 22),
            datetime.date(2010, 11, 23),
            "Das Datum muss mindestens 16 Jahre zurückliegen.",
        ),
        (
            "max_years_ago",
            {"years": 1},
            datetime.date(2025, 11, 22),
            datetime.date(2025, 11, 21),
            "Das Datum darf höchstens 1 Jahr zurückliegen.",
        ),
        (
            "earliest",
            {"date": datetime.date(2000, 1, 1)},
            datetime.date(2000, 1, 1),
            datetime.date(1999, 12, 31),
            "Das Datum darf nicht vor dem 01.01.2000 liegen.",
        ),
        (
            "latest",
            {"date": "2030-01-01"},
            datetime.date(2030, 1, 1),
            datetime.date(2030, 1, 2),
            "Das Datum darf nicht nach dem 01.01.2030 liegen.",
        ),
    ],
)
def test_date_rules(rule, extra, ok, bad, message):
    schema = one_step(field("d", "date", checks=[{"rule": rule, **extra}]))
    assert validate_step(schema, "s", date_data("d", ok), today=TODAY).is_valid
    result = validate_step(schema, "s", date_data("d", bad), today=TODAY)
    assert [issue.message for issue in result.errors] == [message]


def test_number_and_pattern_checks_can_warn():
    schema = one_step(
        field(
            "n",
            "number",
            checks=[{"rule": "max", "value": 10, "severity": "warning", "message": text("Viel")}],
        ),
        field("t", "text", checks=[{"rule": "pattern", "pattern": "[a-z]+"}]),
    )
    result = validate_step(schema, "s", {"n": "11", "t": "ABC"}, today=TODAY)
    assert [(issue.field, issue.severity, issue.message) for issue in result.issues] == [
        ("n", "warning", "Viel"),
        ("t", "error", "Geben Sie den Wert im verlangten Format ein."),
    ]
    assert result.cleaned == {"n": 11}


class TestCrossFieldChecks:
    def schema(self, op: str = "<="):
        return (
            one_step(
                field("moved_out", "date"),
                field("moved_in", "date"),
                checks=[{"rule": "compare", "field": "moved_in", "op": ">=", "other": "moved_out"}],
            )
            if op == "<="
            else None
        )

    def test_compare_dates(self):
        schema = self.schema()
        good = {**date_data("moved_out", TODAY), **date_data("moved_in", TODAY)}
        assert validate_step(schema, "s", good, today=TODAY).is_valid
        bad = {
            **date_data("moved_out", TODAY),
            **date_data("moved_in", TODAY - datetime.timedelta(days=1)),
        }
        result = validate_step(schema, "s", bad, today=TODAY)
        assert [issue.message for issue in result.errors] == [
            "Das Datum darf nicht vor „moved_out (de)“ liegen."
        ]
        assert result.errors[0].anchor == "field-moved_in-day"

    def test_compare_is_skipped_when_a_field_has_its_own_error(self):
        bad = {
            **date_data("moved_out", TODAY),
            "moved_in__day": "40",
            "moved_in__month": "1",
            "moved_in__year": "2026",
        }
        result = validate_step(self.schema(), "s", bad, today=TODAY)
        assert len(result.errors) == 1

    def test_compare_with_an_earlier_step(self):
        from rathaus.forms.schema import load_schema

        schema = load_schema(
            {
                "steps": [
                    {"id": "a", "title": text("A"), "fields": [field("rooms", "number")]},
                    {
                        "id": "b",
                        "title": text("B"),
                        "fields": [field("sleeping_rooms", "number")],
                        "checks": [
                            {
                                "rule": "compare",
                                "field": "sleeping_rooms",
                                "op": "<=",
                                "other": "rooms",
                            }
                        ],
                    },
                ]
            },
            source="x",
        )
        result = validate_step(
            schema, "b", {"sleeping_rooms": "4"}, answers={"rooms": 3}, today=TODAY
        )
        assert [issue.message for issue in result.errors] == [
            "Die Zahl darf höchstens „rooms (de)“ sein."
        ]

    def test_at_least_one(self, example):
        result = validate_step(example, "contact", {"contact_way": "mailbox"}, today=TODAY)
        assert result.is_valid
        assert [issue.anchor for issue in result.warnings] == ["field-email"]
        result = validate_step(
            example, "contact", {"contact_way": "mailbox", "phone": "0202 1234"}, today=TODAY
        )
        assert result.issues == []

    def test_at_least_one_over_hidden_fields_does_not_apply(self):
        # "has_contact = no" hides e-mail and phone: the check cannot demand either of them
        contact = {"field": "has_contact", "equals": True}
        schema = one_step(
            field("has_contact", "yes_no"),
            field("email", "email", required=False, show_if=contact),
            field("phone", "phone", required=False, show_if=contact),
            checks=[{"rule": "at_least_one", "fields": ["email", "phone"]}],
        )
        hidden = validate_step(schema, "s", {"has_contact": "no", "email": "a@b.de"}, today=TODAY)
        assert hidden.is_valid and hidden.issues == [] and "email" not in hidden.cleaned
        assert validate_all(schema, hidden.cleaned).is_valid
        shown = validate_step(schema, "s", {"has_contact": "yes"}, today=TODAY)
        assert not shown.is_valid and shown.errors[0].field == "email"


class TestConditions:
    def test_steps_follow_earlier_answers(self, example):
        assert "fees" not in [step.id for step in visible_steps(example, {"main_residence": True})]
        assert "fees" in [step.id for step in visible_steps(example, {"main_residence": False})]
        assert next_step(example, "contact", {"main_residence": True}) is None
        assert next_step(example, "contact", {"main_residence": False}).id == "fees"
        assert previous_step(example, "people", {}).id == "move"
        assert previous_step(example, "move", {}) is None

    def test_hidden_fields_are_neither_checked_nor_kept(self, example):
        data = {
            "move_in_date__day": "20",
            "move_in_date__month": "11",
            "move_in_date__year": "2026",
            "new_address__street": "Neumarkt",
            "new_address__postal_code": "42103",
            "new_address__place": "Wuppertal",
            "main_residence": "yes",
            "other_residence__street": "Alte Str.",
            "other_residence__postal_code": "x",
            "other_residence__place": "Köln",
        }
        result = validate_step(example, "move", data, today=TODAY)
        assert result.is_valid
        assert "other_residence" not in result.cleaned
        assert result.hidden == {"other_residence"}
        result = validate_step(example, "move", {**data, "main_residence": "no"}, today=TODAY)
        assert [issue.anchor for issue in result.errors] == ["field-other_residence-postal_code"]

    def test_checkbox_contains(self, example):
        answers = {"main_residence": False}
        step = example.step("fees")
        assert "usage_other" not in [
            f.id for f in visible_fields(example, step, {**answers, "usage": ["work"]})
        ]
        assert "usage_other" in [
            f.id for f in visible_fields(example, step, {**answers, "usage": ["other"]})
        ]

    def test_changing_an_earlier_answer_drops_answers_that_no_longer_apply(self, example):
        answers = {"main_residence": False, "iban": "DE89370400440532013000", "rooms": 3}
        result = validate_step(
            example,
            "move",
            {
                "move_in_date__day": "20",
                "move_in_date__month": "11",
                "move_in_date__year": "2026",
                "new_address__street": "Neumarkt",
                "new_address__postal_code": "42103",
                "new_address__place": "Wuppertal",
                "main_residence": "yes",
            },
            answers=answers,
            today=TODAY,
        )
        merged = apply_step(example, answers, result)
        assert merged["main_residence"] is True
        assert "iban" not in merged and "rooms" not in merged

    @pytest.mark.parametrize(
        ("condition", "answers", "shown"),
        [
            (
                {"all": [{"field": "a", "equals": "x"}, {"field": "b", "answered": True}]},
                {"a": "x", "b": 2},
                True,
            ),
            (
                {"all": [{"field": "a", "equals": "x"}, {"field": "b", "answered": True}]},
                {"a": "x"},
                False,
            ),
            (
                {"any": [{"field": "a", "in": ["y", "z"]}, {"field": "b", "equals": 2}]},
                {"b": 2},
                True,
            ),
            ({"not": {"field": "a", "not_equals": "x"}}, {"a": "x"}, True),
            ({"field": "b", "answered": False}, {}, True),
            ({"field": "b", "equals": 2.0}, {"b": 2}, True),
        ],
    )
    def test_combined_conditions(self, condition, answers, shown):
        from rathaus.forms.schema import load_schema

        schema = load_schema(
            {
                "steps": [
                    {
                        "id": "one",
                        "title": text("1"),
                        "fields": [
                            field("a", "text", required=False),
                            field("b", "number", required=False),
                        ],
                    },
                    {
                        "id": "two",
                        "title": text("2"),
                        "show_if": condition,
                        "fields": [field("c", "text")],
                    },
                ]
            },
            source="x",
        )
        assert ("two" in [step.id for step in visible_steps(schema, answers)]) is shown


def test_validate_all_finds_aged_dates_and_missing_answers(example):
    answers = {
        "move_in_date": "2026-11-20",
        "new_address": {
            "street": "Neumarkt",
            "house_number": "",
            "address_supplement": "",
            "postal_code": "42103",
            "place": "Wuppertal",
        },
        "main_residence": True,
        "persons": [
            {"name": {"given_names": "Anna", "family_name": "Muster"}, "birth_date": "1990-01-01"}
        ],
        "confirmation": [{"id": "f1", "name": "bestaetigung.pdf", "size": 1000}],
        "contact_way": "mailbox",
    }
    result = validate_all(example, answers, today=TODAY)
    assert result.is_valid
    assert [issue.field for issue in result.warnings] == ["email"]
    assert result.cleaned["confirmation"] == answers["confirmation"]
    later = validate_all(example, answers, today=TODAY + datetime.timedelta(days=30))
    assert later.is_valid and {issue.field for issue in later.warnings} == {"move_in_date", "email"}
    incomplete = validate_all(example, {**answers, "persons": []}, today=TODAY)
    assert incomplete.first_invalid_step.id == "people"


def test_prune_answers_ignores_unknown_keys(example):
    assert prune_answers(example, {"nonsense": 1, "main_residence": True}) == {
        "main_residence": True
    }
