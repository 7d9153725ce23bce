"""Every field type: what it accepts, how it stores it, and the message for what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict
from django.utils import translation

from rathaus.forms.engine import initial_data, validate_step

from .conftest import TODAY, field, one_step


def check(schema, data: dict[str, Any]):
    return validate_step(schema, "s", data, today=TODAY)


def messages(result) -> list[str]:
    return [issue.message for issue in result.issues]


class TestText:
    def test_text_is_stripped_and_kept(self):
        result = check(one_step(field("a", "text")), {"a": "  Hallo Welt "})
        assert result.is_valid and result.cleaned == {"a": "Hallo Welt"}

    def test_required_text_missing_is_an_error_at_the_input(self):
        result = check(one_step(field("a", "text")), {"a": "   "})
        assert messages(result) == ["Bitte füllen Sie dieses Feld aus."]
        assert result.errors[0].anchor == "field-a"

    def test_optional_text_may_stay_empty(self):
        result = check(one_step(field("a", "text", required=False)), {})
        assert result.is_valid and result.cleaned == {}

    def test_lengths(self):
        schema = one_step(field("a", "text", min_length=3, max_length=5))
        assert messages(check(schema, {"a": "ab"})) == ["Geben Sie mindestens 3 Zeichen ein."]
        assert messages(check(schema, {"a": "abcdef"})) == ["Geben Sie höchstens 5 Zeichen ein."]
        assert check(schema, {"a": "abcd"}).is_valid

    def test_single_line_text_has_a_default_maximum(self):
        result = check(one_step(field("a", "text")), {"a": "x" * 201})
        assert not result.is_valid

    def test_pattern_with_own_message(self):
        schema = one_step(
            field(
                "a",
                "text",
                pattern="[0-9]{4}",
                pattern_message={"de": "Vier Ziffern", "en": "Four digits"},
            )
        )
        assert messages(check(schema, {"a": "12a4"})) == ["Vier Ziffern"]
        assert check(schema, {"a": "1234"}).cleaned == {"a": "1234"}

    def test_control_characters_and_nul_are_refused(self):
        schema = one_step(field("a", "text"))
        for bad in ["a\x00b", "a\x1bb", "a\ud800b"]:
            result = check(schema, {"a": bad})
            assert not result.is_valid
            assert "nicht erlaubt" in messages(result)[0]

    def test_multiline_keeps_line_breaks(self):
        schema = one_step(field("a", "text", multiline=True))
        assert check(schema, {"a": "Zeile 1\r\nZeile 2"}).cleaned == {"a": "Zeile 1\nZeile 2"}

    def test_vehicle_plate_is_normalised(self):
        schema = one_step(field("plate", "text", format="vehicle_plate"))
        assert check(schema, {"plate": "w ab 123"}).cleaned == {"plate": "W-AB 123"}
        assert check(schema, {"plate": "MÜ-X 1e"}).cleaned == {"plate": "MÜ-X 1E"}
        assert not check(schema, {"plate": "W-AB 0123"}).is_valid
        assert not check(schema, {"plate": "ABCD-X 1"}).is_valid
        assert not check(schema, {"plate": "BGL-AB 12345"}).is_valid


class TestEmailPhoneIban:
    def test_email(self):
        schema = one_step(field("e", "email"))
        assert check(schema, {"e": "Anna@Example.DE"}).cleaned == {"e": "Anna@example.de"}
        assert messages(check(schema, {"e": "anna@"})) == [
            "Geben Sie eine E-Mail-Adresse ein, zum Beispiel name@example.de."
        ]

    @pytest.mark.parametrize("number", ["0202 123456", "+49 (0)202 563-0", "0171/1234567"])
    def test_phone_accepts_usual_notations(self, number):
        assert check(one_step(field("p", "phone")), {"p": number}).is_valid

    @pytest.mark.parametrize("number", ["123", "call me", "+49 202 ++1", "0" * 20])
    def test_phone_refuses_non_numbers(self, number):
        assert not check(one_step(field("p", "phone")), {"p": number}).is_valid

    def test_iban_is_checked_and_normalised(self):
        schema = one_step(field("i", "iban"))
        assert check(schema, {"i": "de89 3704 0044 0532 0130 00"}).cleaned == {
            "i": "DE89370400440532013000"
        }

    @pytest.mark.parametrize(
        ("iban", "fragment"),
        [
            ("DE89 3704 0044 0532 0130 01", "nicht korrekt"),
            ("DE89 3704 0044 0532 0130", "22 Zeichen"),
            ("XY89 3704 0044 0532 0130 00", "Ländercode"),
            ("hello", "zum Beispiel"),
            # check digits that fit, but a German account number has no letters
            ("DE05 3704 0044 0532 0130 0A", "zum Beispiel"),
            # mod 97 holds for 98 and 01 alike; ISO 13616 allows only 02 to 98
            ("DE01 3704 0044 1000 0000 08", "nicht korrekt"),
            ("DE00 3704 0044 1000 0000 08", "nicht korrekt"),
            ("DE99 3704 0044 1000 0000 08", "nicht korrekt"),
        ],
    )
    def test_wrong_iban_says_why(self, iban, fragment):
        result = check(one_step(field("i", "iban")), {"i": iban})
        assert fragment in messages(result)[0]

    def test_iban_with_check_digits_98_is_valid(self):
        assert check(one_step(field("i", "iban")), {"i": "DE98370400441000000008"}).is_valid

    def test_iban_country_restriction(self):
        schema = one_step(field("i", "iban", countries=["DE"]))
        assert not check(schema, {"i": "AT61 1904 3002 3457 3201"}).is_valid
        assert check(schema, {"i": "DE89370400440532013000"}).is_valid


class TestNumber:
    def test_whole_numbers(self):
        schema = one_step(field("n", "number", min=1, max=30))
        assert check(schema, {"n": "12"}).cleaned == {"n": 12}
        assert messages(check(schema, {"n": "0"})) == ["Geben Sie eine Zahl von mindestens 1 ein."]
        assert messages(check(schema, {"n": "31"})) == ["Geben Sie eine Zahl von höchstens 30 ein."]
        assert messages(check(schema, {"n": "1,5"})) == ["Geben Sie eine ganze Zahl ein."]
        assert not check(schema, {"n": "zwölf"}).is_valid
        assert not check(schema, {"n": "1e5"}).is_valid
        assert not check(schema, {"n": "NaN"}).is_valid

    def test_decimals_in_german_notation(self):
        schema = one_step(field("n", "number", decimals=2))
        assert check(schema, {"n": "1.234,5"}).cleaned == {"n": "1234.50"}
        assert check(schema, {"n": "12.25"}).cleaned == {"n": "12.25"}
        assert not check(schema, {"n": "1,234"}).is_valid

    @pytest.mark.parametrize(("decimals", "expected"), [(0, 1500), (2, "1500.00")])
    def test_a_dot_before_three_digits_is_a_thousands_separator(self, decimals, expected):
        """German "1.500" is fifteen hundred; read as 1.5 it would not even fit the field."""
        schema = one_step(field("n", "number", decimals=decimals, max=2_000_000))
        assert check(schema, {"n": "1.500"}).cleaned == {"n": expected}
        assert check(schema, {"n": "-1.234.567"}).cleaned == {
            "n": -1234567 if decimals == 0 else "-1234567.00"
        }

    def test_a_dot_before_three_digits_is_refused_where_three_decimals_are_allowed(self):
        """1500 or 1.5? Neither reading is taken silently."""
        schema = one_step(field("n", "number", decimals=3))
        assert messages(check(schema, {"n": "1.500"})) == [
            "Schreiben Sie die Zahl ohne Tausenderpunkt und mit Dezimalkomma, wie 1500 oder 1,5."
        ]
        assert check(schema, {"n": "1,500"}).cleaned == {"n": "1.500"}
        assert check(schema, {"n": "1.5"}).cleaned == {"n": "1.500"}


class TestDate:
    def test_three_fields_make_an_iso_date(self):
        schema = one_step(field("d", "date"))
        assert check(schema, {"d__day": "7", "d__month": "03", "d__year": "2026"}).cleaned == {
            "d": "2026-03-07"
        }

    def test_missing_part_is_named_and_linked(self):
        result = check(one_step(field("d", "date")), {"d__day": "7", "d__year": "2026"})
        assert messages(result) == ["Das Datum muss einen Monat enthalten."]
        assert result.errors[0].anchor == "field-d-month"

    @pytest.mark.parametrize(
        ("day", "month", "year"),
        [("31", "2", "2026"), ("1", "13", "2026"), ("a", "1", "2026"), ("1", "1", "26")],
    )
    def test_impossible_dates_are_refused(self, day, month, year):
        result = check(
            one_step(field("d", "date")), {"d__day": day, "d__month": month, "d__year": year}
        )
        assert messages(result) == [
            "Geben Sie ein gültiges Datum ein, zum Beispiel 27 3 2007 (Jahr vierstellig)."
        ]
        assert result.errors[0].anchor == "field-d-day"

    def test_empty_required_date(self):
        result = check(one_step(field("d", "date")), {})
        assert messages(result) == ["Geben Sie ein Datum ein."]


class TestChoices:
    options = [
        {"value": "a", "label": {"de": "A", "en": "A"}},
        {"value": "b", "label": {"de": "B", "en": "B"}},
    ]

    @pytest.mark.parametrize("kind", ["select", "radio"])
    def test_single_choice(self, kind):
        schema = one_step(field("c", kind, options=self.options))
        assert check(schema, {"c": "b"}).cleaned == {"c": "b"}
        assert messages(check(schema, {"c": "zzz"})) == [
            "Wählen Sie eine der angebotenen Möglichkeiten aus."
        ]
        assert messages(check(schema, {})) == ["Bitte wählen Sie eine Antwort aus."]

    def test_checkboxes_keep_option_order_and_limits(self):
        schema = one_step(field("c", "checkbox", options=self.options, max_selected=1))
        data = QueryDict(mutable=True)
        data.setlist("c", ["b"])
        assert check(schema, data).cleaned == {"c": ["b"]}
        data.setlist("c", ["b", "a"])
        assert messages(check(schema, data)) == ["Wählen Sie höchstens 1 Möglichkeit aus."]

    def test_yes_no_is_a_boolean(self):
        schema = one_step(field("y", "yes_no"))
        assert check(schema, {"y": "no"}).cleaned == {"y": False}
        assert check(schema, {"y": "yes"}).cleaned == {"y": True}
        assert not check(schema, {"y": "maybe"}).is_valid


class TestPersonNameAndAddress:
    def test_person_name(self):
        schema = one_step(field("n", "person_name"))
        result = check(schema, {"n__given_names": "Anna-Lena", "n__family_name": "O\u2019Neill"})
        assert result.cleaned == {"n": {"given_names": "Anna-Lena", "family_name": "O\u2019Neill"}}
        result = check(schema, {"n__given_names": "R2D2", "n__family_name": "X"})
        assert result.errors[0].anchor == "field-n-given_names"

    def test_missing_family_name_is_marked_at_its_input(self):
        result = check(one_step(field("n", "person_name")), {"n__given_names": "Anna"})
        assert result.errors[0].anchor == "field-n-family_name"
        assert "Familienname" in result.errors[0].message

    def test_address_after_fim_anschrift_inland(self):
        schema = one_step(field("a", "address"))
        data = {
            "a__street": "Neumarkt",
            "a__house_number": "10a",
            "a__postal_code": "42103",
            "a__place": "Wuppertal",
        }
        assert check(schema, data).cleaned["a"] == {
            "street": "Neumarkt",
            "house_number": "10a",
            "address_supplement": "",
            "postal_code": "42103",
            "place": "Wuppertal",
        }
        for wrong in ("4210", "00000", "00123"):  # German postal codes run from 01001
            assert (
                check(schema, {**data, "a__postal_code": wrong}).errors[0].anchor
                == "field-a-postal_code"
            ), wrong
        assert check(schema, {**data, "a__postal_code": "01067"}).is_valid  # Dresden
        assert check(schema, {**data, "a__street": "S" * 56}).errors[0].anchor == "field-a-street"
        assert not check(schema, {**data, "a__house_number": "zehn"}).is_valid


class TestAddressAbroad:
    """FIM "Anschrift Ausland": free address lines, any postal code, the place and the state."""

    LISBON = {
        "a__address_line1": "  Rua Augusta 10 ",
        "a__address_line2": "3.º Esq.",
        "a__postal_code": " 1100-053 ",
        "a__place": "Lisboa",
        "a__country": "PT",
    }

    def schema(self, **extra: Any):
        return one_step(field("a", "address_abroad", **extra))

    def issues(self, data: dict[str, Any], **extra: Any) -> list[tuple[str, str]]:
        return [(issue.anchor, issue.message) for issue in check(self.schema(**extra), data).errors]

    def test_an_address_abroad_is_stored_with_its_iso_country_code(self):
        assert check(self.schema(), self.LISBON).cleaned == {
            "a": {
                "address_line1": "Rua Augusta 10",
                "address_line2": "3.º Esq.",
                "address_line3": "",
                "postal_code": "1100-053",
                "place": "Lisboa",
                "country": "PT",
            }
        }

    @pytest.mark.parametrize(
        ("posted", "stored"),
        [("sw1a  1aa", "SW1A 1AA"), ("", ""), ("1000", "1000"), ("02-495", "02-495")],
    )
    def test_foreign_postal_codes_of_any_format_are_kept_in_capitals(self, posted, stored):
        result = check(self.schema(), {**self.LISBON, "a__postal_code": posted})
        assert result.cleaned["a"]["postal_code"] == stored

    @pytest.mark.parametrize("posted", ["1100_053", "ß-1", "--", "12 -", "١٢٣٤", "ﬁ1", "1100/053"])
    def test_postal_codes_with_other_characters_are_refused(self, posted):
        assert self.issues({**self.LISBON, "a__postal_code": posted}) == [
            (
                "field-a-postal_code",
                "Geben Sie die Postleitzahl nur mit Buchstaben, Ziffern, Leerzeichen und "
                "Bindestrichen ein.",
            )
        ]

    def test_unknown_country_codes_are_refused_at_the_country(self):
        offered = ("field-a-country", "Wählen Sie einen der angebotenen Staaten aus.")
        for code in ("XX", "pt", "PRT", "<b>"):
            assert self.issues({**self.LISBON, "a__country": code}) == [offered], code

    def test_germany_is_not_an_address_abroad(self):
        assert self.issues({**self.LISBON, "a__country": "DE"}) == [
            (
                "field-a-country",
                "Deutschland ist hier nicht wählbar: Hier geben Sie eine Anschrift im Ausland an.",
            )
        ]

    def test_a_schema_may_offer_only_some_states(self):
        assert check(self.schema(countries=["AT", "PT"]), self.LISBON).is_valid
        assert self.issues({**self.LISBON, "a__country": "FR"}, countries=["AT", "PT"]) == [
            ("field-a-country", "Wählen Sie einen der angebotenen Staaten aus.")
        ]
        assert check(self.schema(), {**self.LISBON, "a__country": "FR"}).is_valid

    def test_too_long_parts_are_named_at_their_inputs(self):
        data = {
            **self.LISBON,
            "a__address_line1": "R" * 56,
            "a__address_line3": "x" * 56,
            "a__postal_code": "1" * 11,
            "a__place": "L" * 51,
        }
        assert self.issues(data) == [
            (
                "field-a-address_line1",
                "„Straße und Hausnummer oder Postfach“ darf höchstens 55 Zeichen haben.",
            ),
            ("field-a-address_line3", "„Adresszeile 3“ darf höchstens 55 Zeichen haben."),
            ("field-a-postal_code", "„Postleitzahl“ darf höchstens 10 Zeichen haben."),
            ("field-a-place", "„Ort“ darf höchstens 50 Zeichen haben."),
        ]
        limits = {**data, "a__address_line1": "R" * 55, "a__address_line3": "x" * 55}
        limits.update({"a__postal_code": "1" * 10, "a__place": "L" * 50})
        assert check(self.schema(), limits).is_valid

    def test_missing_parts_are_named_in_the_order_of_the_inputs(self):
        assert self.issues({"a__address_line2": "Hotel Miramar"}) == [
            ("field-a-address_line1", "Füllen Sie „Straße und Hausnummer oder Postfach“ aus."),
            ("field-a-place", "Füllen Sie „Ort“ aus."),
            ("field-a-country", "Wählen Sie den Staat aus."),
        ]

    def test_a_country_alone_asks_for_the_rest_of_the_address(self):
        assert [anchor for anchor, _message in self.issues({"a__country": "AT"})] == [
            "field-a-address_line1",
            "field-a-place",
        ]

    def test_whitespace_only_counts_as_not_filled_in(self):
        assert self.issues({**self.LISBON, "a__place": " \u3000 "}) == [
            ("field-a-place", "Füllen Sie „Ort“ aus.")
        ]
        blank = dict.fromkeys(self.LISBON, "  ")
        assert self.issues(blank) == [("field-a-address_line1", "Geben Sie die Anschrift ein.")]
        assert check(self.schema(required=False), blank).cleaned == {}

    def test_nul_and_control_characters_are_refused_where_they_were_typed(self):
        for key in ("a__address_line1", "a__place", "a__postal_code"):
            data = {**self.LISBON, key: "Lis\x00boa"}
            assert self.issues(data) == [
                (
                    f"field-{key.replace('__', '-')}",
                    "Der Text enthält Zeichen, die nicht erlaubt sind.",
                )
            ], key
        assert self.issues({**self.LISBON, "a__country": "P\x00T"}) == [
            ("field-a-country", "Wählen Sie einen der angebotenen Staaten aus.")
        ]

    def test_an_empty_required_address_links_to_its_first_line(self):
        assert self.issues({}) == [("field-a-address_line1", "Geben Sie die Anschrift ein.")]
        assert check(self.schema(required=False), {}).cleaned == {}

    def test_a_saved_address_abroad_comes_back_as_its_inputs(self):
        schema = self.schema()
        saved = check(schema, self.LISBON).cleaned
        again = check(schema, initial_data(schema, "s", saved))
        assert again.is_valid and again.cleaned == saved

    def test_in_a_person_list_the_row_is_named(self):
        schema = one_step(
            field(
                "stays",
                "person_list",
                item_label={"de": "Aufenthalt", "en": "Stay"},
                fields=[field("where", "address_abroad")],
            )
        )
        data = {
            "stays__rows": "1",
            "stays__1__where__place": "Wien",
            "stays__1__where__country": "AT",
        }
        [issue] = check(schema, data).errors
        assert issue.label == "Aufenthalt 1: where (de)"
        assert issue.anchor == "field-stays-1-where-address_line1"
        data["stays__1__where__address_line1"] = "Stephansplatz 1"
        assert check(schema, data).cleaned["stays"][0]["where"]["country"] == "AT"

    def test_messages_are_english_in_english(self):
        with translation.override("en"):
            assert self.issues({**self.LISBON, "a__country": ""}) == [
                ("field-a-country", "Select the country.")
            ]


class TestPersonList:
    def schema(self):
        return one_step(
            field(
                "persons",
                "person_list",
                min_items=1,
                max_items=3,
                item_label={"de": "Person", "en": "Person"},
                fields=[
                    field("name", "person_name"),
                    field("birth", "date", checks=[{"rule": "not_in_future"}]),
                ],
            )
        )

    def test_rows_become_a_list_and_empty_rows_are_skipped(self):
        data = {
            "persons__rows": "3",
            "persons__1__name__given_names": "Anna",
            "persons__1__name__family_name": "Muster",
            "persons__1__birth__day": "1",
            "persons__1__birth__month": "2",
            "persons__1__birth__year": "1990",
            "persons__3__name__given_names": "Ben",
            "persons__3__name__family_name": "Muster",
            "persons__3__birth__day": "5",
            "persons__3__birth__month": "6",
            "persons__3__birth__year": "2020",
        }
        result = check(self.schema(), data)
        assert result.is_valid
        assert [row["name"]["given_names"] for row in result.cleaned["persons"]] == ["Anna", "Ben"]

    def test_errors_in_a_row_name_the_row(self):
        data = {
            "persons__rows": "1",
            "persons__1__name__given_names": "Anna",
            "persons__1__birth__day": "1",
            "persons__1__birth__month": "2",
            "persons__1__birth__year": "2030",
        }
        result = check(self.schema(), data)
        labels = {issue.label for issue in result.errors}
        assert labels == {"Person 1: name (de)", "Person 1: birth (de)"}
        assert {issue.anchor for issue in result.errors} == {
            "field-persons-1-name-family_name",
            "field-persons-1-birth-day",
        }

    def test_empty_list_is_required(self):
        result = check(self.schema(), {"persons__rows": "1"})
        assert messages(result) == ["Geben Sie mindestens einen Eintrag ein."]
        assert result.errors[0].anchor == "field-persons-1-name-given_names"

    def test_a_row_beyond_max_items_is_refused_not_ignored(self):
        result = check(
            self.schema(), {"persons__rows": "99999", "persons__7__name__given_names": "X"}
        )
        assert [issue.message for issue in result.errors if issue.name == "persons"] == [
            "Hier können höchstens 3 Einträge angegeben werden. Entfernen Sie die übrigen."
        ]  # row 7 is checked too; more in tests/forms/test_person_list_limits.py


def test_saved_answers_come_back_as_the_inputs_they_came_from(example):
    answers = {
        "move_in_date": "2026-11-20",
        "new_address": {
            "street": "Neumarkt",
            "house_number": "10",
            "address_supplement": "",
            "postal_code": "42103",
            "place": "Wuppertal",
        },
        "main_residence": True,
    }
    raw = initial_data(example, "move", answers)
    result = validate_step(example, "move", raw, today=TODAY)
    assert result.is_valid
    assert result.cleaned == answers


def test_messages_are_english_in_english():
    with translation.override("en"):
        result = check(one_step(field("a", "text")), {})
    assert messages(result) == ["Fill in this field."]
