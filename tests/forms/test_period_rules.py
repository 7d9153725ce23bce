"""Date rules that count like the law: calendar months (§ 188 BGB), periods that end on the next
working day (§ 31 Abs. 3 VwVfG), and a date at most so long after another one; the three
service forms that use them (Wohnsitzanmeldung, Bewohnerparkausweis, Straßenmusik)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

import rathaus.catalog
from rathaus.forms.engine import validate_all, validate_step
from rathaus.forms.schema import FormSchema, SchemaError, load_schema, load_schema_file

from .conftest import field, one_step, text

SERVICES = Path(rathaus.catalog.__file__).with_name("services")
D = datetime.date


def service_form(slug: str) -> FormSchema:
    return load_schema_file(SERVICES / slug / "form.toml", source=slug)


def date_data(name: str, day: datetime.date) -> dict[str, str]:
    return {
        f"{name}__day": str(day.day),
        f"{name}__month": str(day.month),
        f"{name}__year": str(day.year),
    }


# --- Wohnsitzanmeldung: § 17 Abs. 1 BMG, two weeks, ending on a working day --------------------


LATE = "Die Anmeldefrist (§ 17 BMG) ist überschritten"


def move(day: datetime.date) -> dict[str, str]:
    return {
        **date_data("move_in_date", day),
        "new_address__street": "Friedrich-Engels-Allee",
        "new_address__house_number": "12",
        "new_address__postal_code": "42283",
        "new_address__place": "Wuppertal",
        "residence_kind": "main",
    }


def late_warnings(
    moved_in: datetime.date, today: datetime.date, state: str | None = None
) -> list[str]:
    result = validate_step(
        service_form("wohnsitz-anmelden"), "move", move(moved_in), today=today, state=state
    )
    assert result.is_valid, result.errors
    return [issue.message for issue in result.warnings if LATE in issue.message]


@pytest.mark.parametrize(
    ("moved_in", "last_day_in_time"),
    [
        # two weeks end on Saturday 14 November: the period runs to Monday 16 November
        (D(2026, 10, 31), D(2026, 11, 16)),
        # two weeks end on Friday 25 December (Christmas), then 26, 27: Monday 28 December
        (D(2026, 12, 11), D(2026, 12, 28)),
        # two weeks end on Sunday 3 January 2027: Monday 4 January
        (D(2026, 12, 20), D(2027, 1, 4)),
        # Good Friday 26 March 2027, then Easter Monday 29 March: Tuesday 30 March
        (D(2027, 3, 12), D(2027, 3, 30)),
        # a Wednesday end that is a working day stays where it is
        (D(2026, 11, 4), D(2026, 11, 18)),
    ],
)
def test_a_late_registration_is_warned_only_after_the_next_working_day(moved_in, last_day_in_time):
    assert late_warnings(moved_in, last_day_in_time) == []
    assert len(late_warnings(moved_in, last_day_in_time + datetime.timedelta(days=1))) == 1


def test_the_warning_before_submission_follows_the_same_period():
    """``validate_all`` (the review page, the submission) says the same as the step."""
    schema = service_form("wohnsitz-anmelden")
    answers = {"move_in_date": "2026-10-31"}
    on_monday = validate_all(schema, answers, today=D(2026, 11, 16))
    on_tuesday = validate_all(schema, answers, today=D(2026, 11, 17))
    assert not [issue for issue in on_monday.warnings if LATE in issue.message]
    assert [issue.field for issue in on_tuesday.warnings if LATE in issue.message] == [
        "move_in_date"
    ]


def test_the_holidays_of_the_land_passed_in_move_the_end():
    """Buß- und Bettag (18 November 2026) is a public holiday in Saxony only; All Saints' Day
    (Monday 1 November 2027) in North Rhine-Westphalia, not nationally."""
    moved_in = D(2026, 11, 4)  # two weeks end on Wednesday 18 November 2026
    assert late_warnings(moved_in, D(2026, 11, 19))  # national holidays: late on Thursday
    assert late_warnings(moved_in, D(2026, 11, 19), state="NW")
    assert late_warnings(moved_in, D(2026, 11, 19), state="SN") == []
    assert late_warnings(moved_in, D(2026, 11, 20), state="SN")
    moved_in = D(2027, 10, 18)  # two weeks end on Monday 1 November 2027
    assert late_warnings(moved_in, D(2027, 11, 2))
    assert late_warnings(moved_in, D(2027, 11, 2), state="NW") == []
    assert late_warnings(moved_in, D(2027, 11, 3), state="NW")
    assert late_warnings(moved_in, D(2027, 11, 2), state="BE")


def test_an_unknown_land_is_the_caller_s_mistake():
    schema = service_form("wohnsitz-anmelden")
    with pytest.raises(ValueError, match="unknown state 'XY'"):
        validate_step(schema, "move", move(D(2026, 11, 4)), today=D(2026, 11, 20), state="XY")
    with pytest.raises(ValueError, match="unknown state"):
        validate_all(schema, {}, today=D(2026, 11, 20), state="nw")


# --- the field rules ---------------------------------------------------------------------------


def date_rule(**check: Any) -> FormSchema:
    if check.get("severity") == "warning":
        check.setdefault("message", text("Frist vorbei", "Period over"))
    return one_step(field("d", "date", checks=[check]))


def messages(schema: FormSchema, day: datetime.date, today: datetime.date) -> list[str]:
    return [
        issue.message
        for issue in validate_step(schema, "s", date_data("d", day), today=today).issues
    ]


@pytest.mark.parametrize(
    ("months", "today", "last_allowed"),
    [
        (3, D(2026, 6, 1), D(2026, 9, 1)),  # exactly three months: 90 days would end on 30 August
        (6, D(2026, 8, 31), D(2027, 2, 28)),  # no 31 February: the month's last day
        (6, D(2027, 8, 31), D(2028, 2, 29)),  # in a leap year
        (1, D(2026, 1, 31), D(2026, 2, 28)),
        (1, D(2026, 12, 15), D(2027, 1, 15)),
        (12, D(2028, 2, 29), D(2029, 2, 28)),
        (0, D(2026, 6, 1), D(2026, 6, 1)),
    ],
)
def test_max_months_ahead_counts_calendar_months(months, today, last_allowed):
    schema = date_rule(rule="max_months_ahead", months=months)
    assert messages(schema, last_allowed, today) == []
    assert messages(schema, last_allowed + datetime.timedelta(days=1), today) == [
        f"Das Datum darf höchstens {months} Monat{'e' if months != 1 else ''} in der Zukunft "
        f"liegen."
    ]


@pytest.mark.parametrize(
    ("months", "day", "last_day_in_time"),
    [
        (6, D(2026, 8, 31), D(2027, 2, 28)),
        (1, D(2026, 3, 31), D(2026, 4, 30)),
        (3, D(2026, 6, 1), D(2026, 9, 1)),
    ],
)
def test_max_months_ago_ends_on_the_same_day_of_the_month(months, day, last_day_in_time):
    schema = date_rule(rule="max_months_ago", months=months)
    assert messages(schema, day, last_day_in_time) == []
    assert messages(schema, day, last_day_in_time + datetime.timedelta(days=1)) == [
        f"Das Datum darf höchstens {months} Monat{'e' if months != 1 else ''} zurückliegen."
    ]


def test_a_months_period_may_end_on_the_next_working_day_too():
    """31 August 2026 + 6 months: Sunday 28 February 2027, so Monday 1 March."""
    schema = date_rule(rule="max_months_ago", months=6, ends_on_working_day=True)
    assert messages(schema, D(2026, 8, 31), D(2027, 3, 1)) == []
    assert messages(schema, D(2026, 8, 31), D(2027, 3, 2)) == [
        "Die Frist von 6 Monaten ab diesem Datum ist am 01.03.2027 abgelaufen."
    ]


def test_a_days_period_names_its_moved_end_by_default():
    schema = date_rule(rule="max_days_ago", days=14, ends_on_working_day=True)
    assert messages(schema, D(2026, 10, 31), D(2026, 11, 16)) == []
    assert messages(schema, D(2026, 10, 31), D(2026, 11, 17)) == [
        "Die Frist von 14 Tagen ab diesem Datum ist am 16.11.2026 abgelaufen."
    ]
    with translation.override("en"):
        assert messages(schema, D(2026, 10, 31), D(2026, 11, 17)) == [
            "The period of 14 days from this date ended on 16.11.2026."
        ]


def test_without_the_flag_a_period_ends_on_its_day_whatever_the_weekday():
    schema = date_rule(rule="max_days_ago", days=14, severity="warning")
    assert messages(schema, D(2026, 10, 31), D(2026, 11, 14)) == []
    assert messages(schema, D(2026, 10, 31), D(2026, 11, 15)) == ["Frist vorbei"]


def test_a_date_in_the_future_is_never_late():
    schema = date_rule(rule="max_days_ago", days=0, ends_on_working_day=True)
    assert messages(schema, D(9999, 12, 31), D(2026, 11, 20)) == []
    assert messages(schema, D(2026, 11, 21), D(2026, 11, 20)) == []  # a Saturday
    assert messages(schema, D(2026, 11, 19), D(2026, 11, 20)) != []


# --- a date at most so long after another one ----------------------------------------------------


def after_rule(**check: Any) -> FormSchema:
    return one_step(
        field("first_day", "date"),
        field("last_day", "date"),
        field("note", "text", required=False),
        checks=[{"field": "last_day", "other": "first_day", **check}],
    )


def period(first: datetime.date, last: datetime.date) -> dict[str, str]:
    return {**date_data("first_day", first), **date_data("last_day", last)}


@pytest.mark.parametrize(
    ("check", "first", "last_allowed", "message"),
    [
        (
            {"rule": "max_months_after", "months": 6},
            D(2026, 8, 31),
            D(2027, 2, 28),
            "Das Datum darf höchstens 6 Monate nach „first_day (de)“ liegen, spätestens am "
            "28.02.2027.",
        ),
        (
            {"rule": "max_months_after", "months": 1},
            D(2026, 6, 1),
            D(2026, 7, 1),
            "Das Datum darf höchstens 1 Monat nach „first_day (de)“ liegen, spätestens am "
            "01.07.2026.",
        ),
        (
            {"rule": "max_days_after", "days": 30},
            D(2026, 6, 1),
            D(2026, 7, 1),
            "Das Datum darf höchstens 30 Tage nach „first_day (de)“ liegen, spätestens am "
            "01.07.2026.",
        ),
    ],
)
def test_max_after_bounds_a_date_by_another(check, first, last_allowed, message):
    schema = after_rule(**check)
    assert validate_step(schema, "s", period(first, last_allowed), today=first).issues == []
    refused = validate_step(
        schema, "s", period(first, last_allowed + datetime.timedelta(days=1)), today=first
    )
    assert [(issue.field, issue.anchor, issue.message) for issue in refused.errors] == [
        ("last_day", "field-last_day-day", message)
    ]


def test_max_after_is_skipped_while_a_date_is_missing_or_wrong():
    schema = after_rule(rule="max_days_after", days=1)
    only_last = date_data("last_day", D(9999, 12, 31))
    result = validate_step(schema, "s", only_last, today=D(2026, 6, 1))
    assert [issue.field for issue in result.errors] == ["first_day"]  # only "enter the date"
    wrong_first = {
        **only_last,
        "first_day__day": "31",
        "first_day__month": "2",
        "first_day__year": "2026",
    }
    result = validate_step(schema, "s", wrong_first, today=D(2026, 6, 1))
    assert [issue.field for issue in result.errors] == ["first_day"]


def test_max_after_with_another_step_and_the_end_of_the_calendar():
    """The other date may come from an earlier step; a date near 9999 does not overflow."""
    schema = load_schema(
        {
            "steps": [
                {"id": "a", "title": text("A"), "fields": [field("first_day", "date")]},
                {
                    "id": "b",
                    "title": text("B"),
                    "fields": [field("last_day", "date")],
                    "checks": [
                        {
                            "rule": "max_months_after",
                            "field": "last_day",
                            "other": "first_day",
                            "months": 1200,
                        }
                    ],
                },
            ]
        },
        source="x",
    )
    answers = {"first_day": "9999-12-01"}
    data = date_data("last_day", D(9999, 12, 31))
    assert validate_step(schema, "b", data, answers=answers, today=D(2026, 6, 1)).is_valid
    answers = {"first_day": "2026-06-01"}
    assert not validate_step(schema, "b", data, answers=answers, today=D(2026, 6, 1)).is_valid


# --- the service forms -------------------------------------------------------------------------


def test_a_residents_parking_permit_may_start_exactly_three_months_ahead():
    schema = service_form("bewohnerparkausweis")
    typed_on = D(2026, 6, 1)
    assert (
        validate_step(
            schema, "permit", date_data("start_date", D(2026, 9, 1)), today=typed_on
        ).issues
        == []
    )
    refused = validate_step(
        schema, "permit", date_data("start_date", D(2026, 9, 2)), today=typed_on
    )
    assert [issue.message for issue in refused.errors] == [
        "Bitte beantragen Sie den Ausweis höchstens drei Monate im Voraus."
    ]
    # 30 November + 3 months: no 30 February, so the last day of February
    typed_on = D(2026, 11, 30)
    assert validate_step(
        schema, "permit", date_data("start_date", D(2027, 2, 28)), today=typed_on
    ).is_valid
    assert not validate_step(
        schema, "permit", date_data("start_date", D(2027, 3, 1)), today=typed_on
    ).is_valid


def street_music(first: datetime.date, last: datetime.date) -> dict[str, str]:
    return {
        **period(first, last),
        "places": "Fußgängerzone Elberfeld",
        "instruments": "Gitarre",
        "amplifier": "no",
    }


def test_a_street_music_permit_may_be_applied_for_six_calendar_months_ahead():
    schema = service_form("strassenmusik")
    typed_on = D(2026, 6, 1)
    first = D(2026, 12, 1)  # six months: 180 days would end on 28 November
    assert (
        validate_step(schema, "performance", street_music(first, first), today=typed_on).issues
        == []
    )
    later = first + datetime.timedelta(days=1)
    refused = validate_step(schema, "performance", street_music(later, later), today=typed_on)
    assert [issue.message for issue in refused.errors] == [
        "Sie können die Erlaubnis höchstens sechs Monate im Voraus beantragen."
    ]


@pytest.mark.parametrize(
    ("first", "last_allowed"),
    [(D(2026, 6, 1), D(2026, 12, 1)), (D(2026, 8, 31), D(2027, 2, 28))],
)
def test_a_street_music_permit_covers_at_most_six_months(first, last_allowed):
    schema = service_form("strassenmusik")
    assert (
        validate_step(schema, "performance", street_music(first, last_allowed), today=first).issues
        == []
    )
    for last in (last_allowed + datetime.timedelta(days=1), D(9999, 12, 31)):
        refused = validate_step(schema, "performance", street_music(first, last), today=first)
        assert [(issue.field, issue.message) for issue in refused.errors] == [
            (
                "last_day",
                "Die Erlaubnis gilt höchstens für sechs Monate: Der letzte Tag darf höchstens "
                "sechs Monate nach dem ersten Tag liegen.",
            )
        ]


# --- the loader: a misconfigured rule is a SchemaError that names the service and the field ------


def load_date_check(check: dict[str, Any]) -> FormSchema:
    return load_schema(
        {
            "steps": [
                {
                    "id": "s",
                    "title": text("S"),
                    "fields": [field("move_in_date", "date", checks=[check])],
                }
            ]
        },
        source="wohnsitz-anmelden",
    )


@pytest.mark.parametrize(
    ("check", "fragment"),
    [
        (
            {"rule": "max_days_ahead", "days": 7, "ends_on_working_day": True},
            "unknown key 'ends_on_working_day' in the check 'max_days_ahead'",
        ),
        (
            {"rule": "max_months_ahead", "months": 3, "ends_on_working_day": True},
            "unknown key 'ends_on_working_day'",
        ),
        (
            {"rule": "max_days_ago", "days": 14, "ends_on_working_day": "yes"},
            "ends_on_working_day must be true or false, not 'yes'",
        ),
        ({"rule": "max_months_ahead"}, "the check 'max_months_ahead' needs 'months'"),
        (
            {"rule": "max_months_ago", "days": 14},
            "unknown key 'days' in the check 'max_months_ago'",
        ),
        (
            {"rule": "max_months_ahead", "months": -1},
            "months must be a whole number from 0 to 1200",
        ),
        ({"rule": "max_months_ahead", "months": 1201}, "from 0 to 1200, not 1201"),
        ({"rule": "max_months_ahead", "months": 2.5}, "months must be a whole number"),
        ({"rule": "max_months_ahead", "months": True}, "months must be a whole number"),
        ({"rule": "max_months_after", "months": 6}, "unknown check rule 'max_months_after'"),
    ],
)
def test_a_misconfigured_field_rule_names_service_step_and_field(check, fragment):
    with pytest.raises(SchemaError) as caught:
        load_date_check(check)
    error = caught.value
    assert (error.source, error.step, error.field) == ("wohnsitz-anmelden", "s", "move_in_date")
    assert fragment in str(error)
    assert str(error).startswith(
        "Form schema 'wohnsitz-anmelden', step 's', field 'move_in_date': "
    )


def test_months_rules_apply_to_dates_only():
    with pytest.raises(SchemaError, match=r"field 'rooms'.*'max_months_ahead' does not apply"):
        one_step(field("rooms", "number", checks=[{"rule": "max_months_ahead", "months": 1}]))


def load_performance(check: dict[str, Any], *, other_step: bool = False) -> FormSchema:
    first = field("first_day", "date")
    fields = [field("last_day", "date"), field("places", "text"), field("group_size", "number")]
    steps: list[dict[str, Any]] = [
        {"id": "performance", "title": text("P"), "fields": fields, "checks": [check]}
    ]
    if other_step:
        fields.insert(0, field("start", "date"))
        steps.insert(0, {"id": "musician", "title": text("M"), "fields": [first]})
    else:
        fields.insert(0, first)
    return load_schema({"steps": steps}, source="strassenmusik")


@pytest.mark.parametrize(
    ("check", "fragment"),
    [
        (
            {"rule": "max_months_after", "field": "last_day", "other": "first_day"},
            "the check 'max_months_after' needs 'months'",
        ),
        (
            {"rule": "max_months_after", "field": "last_day", "other": "first_day", "days": 180},
            "unknown key 'days' in a max_months_after check",
        ),
        (
            {"rule": "max_days_after", "field": "last_day", "other": "first_day", "months": 6},
            "unknown key 'months' in a max_days_after check",
        ),
        (
            {"rule": "max_months_after", "field": "last_day", "other": "last_day", "months": 6},
            "max_months_after needs two different fields, not last_day with itself",
        ),
        (
            {"rule": "max_months_after", "field": "places", "other": "first_day", "months": 6},
            "max_months_after needs two dates; 'places' and 'first_day' are text and date",
        ),
        (
            {"rule": "max_days_after", "field": "last_day", "other": "group_size", "days": 6},
            "'last_day' and 'group_size' are date and number",
        ),
        (
            {"rule": "max_months_after", "field": "last_day", "other": "first_dy", "months": 6},
            "other: 'first_dy' is not a field of this step or an earlier one",
        ),
        (
            {"rule": "max_months_after", "field": "last_day", "other": "first_day", "months": 0.5},
            "months must be a whole number from 0 to 1200",
        ),
        (
            {"rule": "max_days_after", "field": "last_day", "other": "first_day", "days": 36_501},
            "days must be a whole number from 0 to 36500",
        ),
        (
            {
                "rule": "max_months_after",
                "field": "last_day",
                "other": "first_day",
                "months": 6,
                "ends_on_working_day": True,
            },
            "unknown key 'ends_on_working_day'",
        ),
    ],
)
def test_a_misconfigured_cross_field_rule_names_service_step_and_fields(check, fragment):
    with pytest.raises(SchemaError) as caught:
        load_performance(check)
    error = caught.value
    assert (error.source, error.step) == ("strassenmusik", "performance")
    assert fragment in str(error)
    assert str(error).startswith("Form schema 'strassenmusik', step 'performance': ")


def test_a_cross_field_rule_shows_its_message_at_a_field_of_its_step():
    check = {"rule": "max_months_after", "field": "first_day", "other": "start", "months": 6}
    with pytest.raises(SchemaError, match="at a field of this step, not 'first_day'"):
        load_performance(check, other_step=True)
    check = {"rule": "max_months_after", "field": "last_day", "other": "first_day", "months": 6}
    loaded = load_performance(check, other_step=True)
    assert loaded.step("performance").checks[0].months == 6
