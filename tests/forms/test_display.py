"""Answers as readable text for the review page (§ 9a OZG), receipts and the case view."""

from __future__ import annotations

from rathaus.forms.display import describe_answers

ANSWERS = {
    "move_in_date": "2026-11-20",
    "new_address": {
        "street": "Neumarkt",
        "house_number": "10a",
        "address_supplement": "",
        "postal_code": "42103",
        "place": "Wuppertal",
    },
    "main_residence": False,
    "other_residence": {
        "street": "Hauptstraße",
        "house_number": "",
        "address_supplement": "c/o Muster",
        "postal_code": "50667",
        "place": "Köln",
    },
    "previous_address_abroad": {
        "address_line1": "Rua Augusta 10",
        "address_line2": "3.º Esq.",
        "address_line3": "",
        "postal_code": "1100-053",
        "place": "Lisboa",
        "country": "PT",
    },
    "persons": [
        {
            "name": {"given_names": "Anna", "family_name": "Muster"},
            "birth_date": "1990-01-02",
            "sex": "female",
            "nationality": "XXA",
        },
    ],
    "confirmation": [{"id": "1", "name": "bestaetigung.pdf", "size": 10}],
    "contact_way": "mailbox",
    "iban": "DE89370400440532013000",
    "rooms": 3,
    "floor_area": "54.50",
    "usage": ["work", "other"],
    "usage_other": "Atelier",
}


def test_answers_read_as_german_text(example):
    sections = {section.step_id: section for section in describe_answers(example, ANSWERS)}
    assert list(sections) == ["move", "people", "landlord", "contact", "fees"]
    move = {row.field_id: row.text for row in sections["move"].rows}
    assert move == {
        "move_in_date": "20.11.2026",
        "new_address": "Neumarkt 10a, 42103 Wuppertal",
        "main_residence": "Nein",
        "other_residence": "Hauptstraße, c/o Muster, 50667 Köln",
        "previous_address_abroad": "Rua Augusta 10, 3.º Esq., 1100-053 Lisboa, Portugal",
    }
    person = sections["people"].rows[0].children[0]
    assert [(row.label, row.text) for row in person] == [
        ("Name", "Anna Muster"),
        ("Geburtsdatum", "02.01.1990"),
        ("Geschlecht", "weiblich"),
        ("Staatsangehörigkeit", "staatenlos"),
    ]
    fees = {row.field_id: row.text for row in sections["fees"].rows}
    assert fees["iban"] == "DE89 3704 0044 0532 0130 00"
    assert fees["floor_area"] == "54,5"
    assert fees["usage"] == "Arbeit, Sonstiges"
    assert fees["parking_plate"] == "(keine Angabe)"
    assert sections["landlord"].rows[0].text == "bestaetigung.pdf"


def test_hidden_steps_and_fields_are_left_out(example):
    answers = {**ANSWERS, "main_residence": True}
    sections = {section.step_id: section for section in describe_answers(example, answers)}
    assert "fees" not in sections
    assert "other_residence" not in [row.field_id for row in sections["move"].rows]


def test_an_address_abroad_names_its_state_in_the_active_language(example):
    from django.utils import translation

    answers = {
        **ANSWERS,
        "previous_address_abroad": {
            "address_line1": "Ul. Marszałkowska 1",
            "address_line2": "",
            "address_line3": "",
            "postal_code": "00-624",
            "place": "Warszawa",
            "country": "PL",
        },
    }
    with translation.override("en"):
        [move, *_rest] = describe_answers(example, answers)
    row = next(row for row in move.rows if row.field_id == "previous_address_abroad")
    assert row.text == "Ul. Marszałkowska 1, 00-624 Warszawa, Poland"
    [move, *_rest] = describe_answers(example, answers)
    row = next(row for row in move.rows if row.field_id == "previous_address_abroad")
    assert row.text == "Ul. Marszałkowska 1, 00-624 Warszawa, Polen"


def test_an_address_abroad_saved_under_an_older_list_of_states_shows_its_code(example):
    """A code no longer in the list (or anything stored under an older schema) is shown as it
    is, never an error: the review page and the case view must always open."""
    stale = {"address_line1": "Main Street 1", "place": "Springfield", "country": "YU"}
    [move, *_rest] = describe_answers(example, {**ANSWERS, "previous_address_abroad": stale})
    row = next(row for row in move.rows if row.field_id == "previous_address_abroad")
    assert row.text == "Main Street 1, Springfield, YU"
