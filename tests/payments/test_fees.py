"""The fee rule language: fixed fees, lookups by criteria, per-unit fees, fees set in the notice."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest
from django.utils import translation
from freezegun import freeze_time

from rathaus.payments.fees import (
    Collection,
    FeeCalculationError,
    FeeRuleError,
    calculate_fee,
    format_cents,
    parse_fee_schedule,
    schedule_from_catalog,
)

PARKING = """
[fees]
collection = "before_submission"
legal_basis = "GebOSt Nr. 265"

[[fees.items]]
id = "permit"
kind = "table"
label = { de = "Bewohnerparkausweis", en = "Residents' parking permit" }
field = "duration_years"
bands = [
  { equals = 1, amount_cents = 3060 },
  { equals = 2, amount_cents = 6120 },
]

[[fees.items]]
id = "express"
kind = "fixed"
label = "Eilbearbeitung"
amount_cents = 1500
applies_if = { field = "express", equals = true }

[[fees.items]]
id = "copies"
kind = "per_unit"
label = "Zusätzliche Ausfertigung"
field = "copies"
unit_cents = 500
included_units = 1
max_units = 5
"""


def schedule_from(text: str):  # type: ignore[no-untyped-def]
    return parse_fee_schedule(tomllib.loads(text)["fees"])


def test_fee_is_looked_up_by_answer_with_surcharge_and_extra_copies() -> None:
    schedule = schedule_from(PARKING)
    quote = calculate_fee(schedule, {"duration_years": "2", "express": "true", "copies": 3})
    assert [(line.id, line.quantity, line.total_cents) for line in quote.lines] == [
        ("permit", 1, 6120),
        ("express", 1, 1500),
        ("copies", 2, 1000),
    ]
    assert quote.total_cents == 8620
    assert isinstance(quote.total_cents, int)
    assert quote.payable_online


def test_surcharge_and_included_units_cost_nothing_when_not_chosen() -> None:
    quote = calculate_fee(schedule_from(PARKING), {"duration_years": 1, "copies": 1})
    assert quote.total_cents == 3060
    assert [line.id for line in quote.lines] == ["permit"]


def test_a_yes_no_condition_counts_an_unanswered_field_as_no() -> None:
    """Documented (docs/modules/payments.md): an optional or hidden yes/no field left empty is
    "no", so a fee for "no" applies and one for "yes" does not."""
    schedule = parse_fee_schedule(
        {
            "items": [
                {
                    "id": "standard",
                    "kind": "fixed",
                    "label": "Normalbearbeitung",
                    "amount_cents": 1000,
                    "applies_if": {"field": "express", "equals": False},
                },
                {
                    "id": "express",
                    "kind": "fixed",
                    "label": "Eilbearbeitung",
                    "amount_cents": 2500,
                    "applies_if": {"field": "express", "equals": True},
                },
            ]
        }
    )
    for unanswered in ({}, {"express": None}, {"express": ""}):
        assert [line.id for line in calculate_fee(schedule, unanswered).lines] == ["standard"]
    assert [line.id for line in calculate_fee(schedule, {"express": True}).lines] == ["express"]


def test_labels_follow_the_active_language() -> None:
    schedule = schedule_from(PARKING)
    with translation.override("en"):
        assert calculate_fee(schedule, {"duration_years": 1}).lines[0].label == (
            "Residents' parking permit"
        )
    with translation.override("de"):
        assert calculate_fee(schedule, {"duration_years": 1}).lines[0].label == (
            "Bewohnerparkausweis"
        )


def test_age_bands_are_derived_from_the_birth_date() -> None:
    schedule = parse_fee_schedule(
        {
            "items": [
                {
                    "id": "passport",
                    "kind": "table",
                    "label": "Reisepass",
                    "field": "birth_date",
                    "derive": "age",
                    "bands": [
                        {"max": 23, "amount_cents": 3750},
                        {"min": 24, "amount_cents": 7000},
                    ],
                }
            ]
        }
    )
    on = dt.date(2026, 11, 22)
    assert calculate_fee(schedule, {"birth_date": "2003-11-23"}, on=on).total_cents == 3750
    assert calculate_fee(schedule, {"birth_date": "2002-11-22"}, on=on).total_cents == 7000
    with pytest.raises(FeeCalculationError) as error:
        calculate_fee(schedule, {"birth_date": "not a date"}, on=on)
    assert error.value.field == "birth_date"


def test_the_age_is_counted_on_the_german_calendar_day() -> None:
    """At 00:30 in Berlin (23:30 UTC the evening before) the birthday has come in Germany."""
    schedule = parse_fee_schedule(
        {
            "items": [
                {
                    "id": "passport",
                    "kind": "table",
                    "label": "Reisepass",
                    "field": "birth_date",
                    "derive": "age",
                    "bands": [
                        {"max": 23, "amount_cents": 3750},
                        {"min": 24, "amount_cents": 7000},
                    ],
                }
            ]
        }
    )
    with freeze_time("2026-11-22 23:30:00+00:00"):
        assert calculate_fee(schedule, {"birth_date": "2002-11-23"}).total_cents == 7000


def test_answer_outside_every_band_is_an_error_on_that_field() -> None:
    with pytest.raises(FeeCalculationError) as error:
        calculate_fee(schedule_from(PARKING), {"duration_years": 3})
    assert error.value.field == "duration_years"


def test_more_units_than_allowed_is_an_error_on_that_field() -> None:
    with pytest.raises(FeeCalculationError) as error:
        calculate_fee(schedule_from(PARKING), {"duration_years": 1, "copies": 7})
    assert error.value.field == "copies"


def test_fee_set_in_the_notice_is_collected_with_the_notice() -> None:
    schedule = parse_fee_schedule(
        {
            "collection": "with_notice",
            "items": [
                {"id": "base", "kind": "fixed", "label": "Grundgebühr", "amount_cents": 5000},
                {"id": "effort", "kind": "in_notice", "label": "Gebühr nach Aufwand"},
            ],
        }
    )
    quote = calculate_fee(schedule, {})
    assert quote.set_in_notice
    assert quote.notice_lines == ("Gebühr nach Aufwand",)
    assert quote.collection == Collection.WITH_NOTICE
    assert not quote.payable_online


@pytest.mark.parametrize(
    "fees",
    [
        {"items": [{"id": "a", "kind": "fixed", "label": "x", "amount_cents": 30.6}]},
        {"items": [{"id": "a", "kind": "fixed", "label": "x", "amount_cents": -1}]},
        {"items": [{"id": "a", "kind": "flat", "label": "x", "amount_cents": 1}]},
        {"items": [{"id": "a", "kind": "fixed", "amount_cents": 1}]},
        {
            "items": [
                {"id": "a", "kind": "fixed", "label": "x", "amount_cents": 1},
                {"id": "a", "kind": "fixed", "label": "y", "amount_cents": 1},
            ]
        },
        {"items": [{"id": "a", "kind": "in_notice", "label": "x"}]},
        {"items": [{"id": "a", "kind": "table", "label": "x", "field": "f", "bands": []}]},
        {"currency": "USD", "items": []},
        {"collection": "later", "items": []},
    ],
)
def test_malformed_fee_rules_are_rejected_at_load_time(fees: dict) -> None:
    with pytest.raises(FeeRuleError):
        parse_fee_schedule(fees)


def test_service_without_fees_is_free() -> None:
    quote = calculate_fee(parse_fee_schedule(None), {})
    assert quote.total_cents == 0
    assert not quote.payable_online


def test_amounts_are_formatted_the_german_way() -> None:
    assert format_cents(123450) == "1.234,50 €"
    assert format_cents(5) == "0,05 €"


def test_catalog_fees_become_fee_schedules() -> None:
    naturalisation = schedule_from_catalog(
        fee_kind="fixed",
        fees=[
            {"label_de": "Einbürgerung", "label_en": "Adult", "amount": "255.00", "min_age": 18},
            {"label_de": "Miteinbürgerung", "label_en": "Child", "amount": "51.00", "max_age": 17},
        ],
    )
    on = dt.date(2026, 11, 22)
    assert calculate_fee(naturalisation, {"birth_date": "1990-01-01"}, on=on).total_cents == 25500
    child = calculate_fee(naturalisation, {"birth_date": "2015-01-01"}, on=on)
    assert child.total_cents == 5100
    with translation.override("de"):
        assert child.lines[0].label == "Miteinbürgerung"

    fixed = schedule_from_catalog(
        fee_kind="fixed",
        fees=[{"label_de": "Urkunde", "label_en": "Certificate", "amount": "12.00"}],
    )
    assert calculate_fee(fixed, {}).total_cents == 1200

    municipal = schedule_from_catalog(fee_kind="municipal", local_fee="30.60")
    assert calculate_fee(municipal, {}).payable_online
    assert calculate_fee(municipal, {}).total_cents == 3060

    unset = schedule_from_catalog(fee_kind="municipal", local_fee=None)
    assert calculate_fee(unset, {}).set_in_notice
    assert schedule_from_catalog(fee_kind="notice").collection == Collection.WITH_NOTICE
    assert calculate_fee(schedule_from_catalog(fee_kind="free"), {}).total_cents == 0
    with pytest.raises(FeeRuleError):
        schedule_from_catalog(fee_kind="fixed", fees=[{"label_de": "x", "amount": "1.001"}])


def test_documented_example_parses() -> None:
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "modules" / "payments.md"
    example = doc.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    schedule = schedule_from(example)
    assert [rule.kind for rule in schedule.rules] == [
        "table",
        "table",
        "fixed",
        "per_unit",
        "in_notice",
    ]


@pytest.mark.parametrize("copies", ["\u00b2", "9" * 5000])
def test_a_count_that_is_no_plain_number_is_a_calculation_error_not_a_crash(copies: str) -> None:
    """ "²" passes str.isdigit() but not int(); 5000 digits exceed what int() converts."""
    with pytest.raises(FeeCalculationError):
        calculate_fee(schedule_from(PARKING), {"duration_years": 1, "copies": copies})


@pytest.mark.parametrize("copies", ["--5", "-", "5-", "- 5", "-+5", "+5", "5\n5"])
def test_a_malformed_count_is_an_error_on_the_field(copies: str) -> None:
    """Only an optional minus and 1 to 18 ASCII digits are a count; "--5" passed the old check
    (one minus stripped) and then crashed in int() with a bare ValueError."""
    schedule = parse_fee_schedule(
        {
            "items": [
                {
                    "id": "copies",
                    "kind": "per_unit",
                    "label": "Zusätzliche Ausfertigung",
                    "field": "copies",
                    "unit_cents": 500,
                    "max_units": 5,
                }
            ]
        }
    )
    with pytest.raises(FeeCalculationError) as error:
        calculate_fee(schedule, {"copies": copies})
    assert error.value.field == "copies"
    assert calculate_fee(schedule, {"copies": " 2 "}).total_cents == 1000  # still a count
    with pytest.raises(FeeCalculationError, match="ganze Zahl ab 0"):
        calculate_fee(schedule, {"copies": "-1"})  # a number, but below 0


def test_a_malformed_number_matches_no_band_of_a_table() -> None:
    schedule = parse_fee_schedule(
        {
            "items": [
                {
                    "id": "permit",
                    "kind": "table",
                    "label": "Ausweis",
                    "field": "months",
                    "bands": [{"min": -12, "max": 12, "amount_cents": 1000}],
                }
            ]
        }
    )
    assert calculate_fee(schedule, {"months": "-1"}).total_cents == 1000
    with pytest.raises(FeeCalculationError) as error:
        calculate_fee(schedule, {"months": "--1"})
    assert error.value.field == "months"


def _per_unit(**item: object) -> dict:
    return {
        "items": [
            {"id": "copies", "kind": "per_unit", "label": "Ausfertigung", "field": "copies", **item}
        ]
    }


@pytest.mark.parametrize(
    ("fees", "message"),
    [
        (
            {"items": [{"id": "a", "kind": "fixed", "label": "x", "amount_cents": 10**8}]},
            r"fees.items\[0\].amount_cents .* 999.999,99 €",
        ),
        (
            {
                "items": [
                    {
                        "id": "a",
                        "kind": "table",
                        "label": "x",
                        "field": "f",
                        "bands": [{"equals": 1, "amount_cents": 10**30}],
                    }
                ]
            },
            r"fees.items\[0\].bands\[0\].amount_cents",
        ),
        (_per_unit(unit_cents=500), r"fees.items\[0\].max_units is required"),
        (_per_unit(unit_cents=500, max_units=10**18), r"fees.items\[0\].*999.999,99 €"),
        (
            {
                "items": [
                    {"id": "a", "kind": "fixed", "label": "x", "amount_cents": 60_000_000},
                    {"id": "b", "kind": "fixed", "label": "y", "amount_cents": 60_000_000},
                ]
            },
            r"fees can come to 1.200.000,00 €.*\(999.999,99 €\)",
        ),
    ],
)
def test_a_fee_larger_than_can_be_collected_is_refused_at_load_time(
    fees: dict, message: str
) -> None:
    with pytest.raises(FeeRuleError, match=message):
        parse_fee_schedule(fees)


def test_the_largest_fee_fits_every_amount_column() -> None:
    from django.db import connection

    from rathaus.catalog.models import Responsibility
    from rathaus.payments.fees import MAX_AMOUNT_CENTS
    from rathaus.payments.models import PaymentTransaction, Refund

    local_fee = Responsibility._meta.get_field("local_fee")
    assert 10 ** (local_fee.max_digits or 0) - 1 == MAX_AMOUNT_CENTS  # 999.999,99 €
    for model in (PaymentTransaction, Refund):
        internal_type = model._meta.get_field("amount_cents").get_internal_type()
        assert connection.ops.integer_field_range(internal_type)[1] >= MAX_AMOUNT_CENTS


def test_a_count_whose_fee_cannot_be_collected_is_an_error_on_that_field() -> None:
    """A rule built in code without max_units: the quote refuses, never an amount too large."""
    from rathaus.payments.fees import FeeRule, FeeSchedule

    schedule = FeeSchedule(
        rules=(FeeRule(id="c", kind="per_unit", label="x", field="copies", unit_cents=500),)
    )
    assert calculate_fee(schedule, {"copies": 199_999}).total_cents == 99_999_500
    with pytest.raises(FeeCalculationError) as error:
        calculate_fee(schedule, {"copies": 200_000})
    assert error.value.field == "copies"
    with pytest.raises(FeeCalculationError) as error:
        calculate_fee(schedule, {"copies": "9" * 18})
    assert error.value.field == "copies"


def test_catalog_fees_larger_than_can_be_collected_are_refused() -> None:
    with pytest.raises(FeeRuleError, match=r"999\.999,99 €"):
        schedule_from_catalog(fee_kind="fixed", fees=[{"label_de": "x", "amount": "1000000.00"}])
    with pytest.raises(FeeRuleError, match=r"999\.999,99 €"):
        schedule_from_catalog(fee_kind="municipal", local_fee="1E+999999999")
    two = [{"label_de": "x", "amount": "600000.00"}, {"label_de": "y", "amount": "600000.00"}]
    with pytest.raises(FeeRuleError, match=r"999\.999,99 €"):
        schedule_from_catalog(fee_kind="fixed", fees=two)
