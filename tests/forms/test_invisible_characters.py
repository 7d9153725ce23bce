"""Invisible characters in addresses and other text inputs are refused beside the input.

A zero-width space, a soft hyphen, a byte order mark or a bidi control (U+202E shows the text
reversed to the clerk who reads it) in a street, a house number, a postal code, a place, a line
of an address abroad, a text or a free text is refused with a message at that input, as in a
name (``core.unicode_text``); what was typed is shown again. A zero width (non-)joiner between
letters stays allowed (a Persian street), line breaks and tabs in free text too, and so does a
joiner inside an emoji sequence in free text. A draft saved before with such a character gets
the message when it is checked again, never an error page.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from rathaus.forms.engine import validate_all, validate_step
from rathaus.forms.rendering import render_step

from .conftest import TODAY, field, one_step
from .test_rendering import Elements

ZWSP, SHY, BOM, RLO, LRM, PDI, ZWNJ, ZWJ = (
    "\u200b",
    "\u00ad",
    "\ufeff",
    "\u202e",
    "\u200e",
    "\u2069",
    "\u200c",
    "\u200d",
)
INVISIBLE = [
    pytest.param(ZWSP, id="zero-width-space"),
    pytest.param(SHY, id="soft-hyphen"),
    pytest.param(BOM, id="byte-order-mark"),
    pytest.param(RLO, id="right-to-left-override"),
    pytest.param(LRM, id="left-to-right-mark"),
    pytest.param(PDI, id="pop-directional-isolate"),
    pytest.param("\u2060", id="word-joiner"),
]

ADDRESS = {
    "a__street": "Neumarkt",
    "a__house_number": "10a",
    "a__address_supplement": "",
    "a__postal_code": "42103",
    "a__place": "Wuppertal",
}
ABROAD = {
    "a__address_line1": "Rua Augusta 10",
    "a__address_line2": "",
    "a__address_line3": "",
    "a__postal_code": "1100-053",
    "a__place": "Lisboa",
    "a__country": "PT",
}


def part_message(part_de: str) -> str:
    return (
        f"„{part_de}“ enthält ein unsichtbares Zeichen, das dort nicht stehen kann, etwa ein "
        "Leerzeichen ohne Breite oder einen Verbinder, der nicht zwischen zwei Buchstaben "
        "steht. Geben Sie den Text ohne dieses Zeichen noch einmal ein."
    )


TEXT_DE = (
    "Der Text enthält ein unsichtbares Zeichen, das dort nicht stehen kann, etwa ein "
    "Leerzeichen ohne Breite, einen weichen Trennstrich oder ein Steuerzeichen für die "
    "Schreibrichtung. Geben Sie den Text ohne dieses Zeichen noch einmal ein."
)
TEXT_EN = (
    "The text contains an invisible character that cannot stand there, such as a zero-width "
    "space, a soft hyphen or a text direction control. Type it again without that character."
)


def errors(schema, data):
    result = validate_step(schema, "s", data, today=TODAY)
    return [(issue.anchor, issue.message) for issue in result.errors]


@pytest.mark.parametrize("char", INVISIBLE)
@pytest.mark.parametrize(
    ("part", "typed", "part_de"),
    [
        ("street", "Neu{}markt", "Straße"),
        ("house_number", "10{}a", "Hausnummer"),
        ("address_supplement", "{}Hinterhaus", "Adresszusatz"),
        ("postal_code", "42103{}", "Postleitzahl"),
        ("place", "Wupper{}tal", "Ort"),
    ],
)
def test_an_invisible_character_in_a_part_of_an_address_is_refused_at_that_part(
    char, part, typed, part_de
):
    schema = one_step(field("a", "address"))
    data = {**ADDRESS, f"a__{part}": typed.format(char)}
    assert errors(schema, data) == [(f"field-a-{part}", part_message(part_de))]


def test_the_message_is_in_english_too():
    schema = one_step(field("a", "address"), field("t", "text"))
    data = {**ADDRESS, "a__street": f"{RLO}tkramueN", "t": f"ab{ZWSP}c"}
    with translation.override("en"):
        messages = [message for _anchor, message in errors(schema, data)]
    assert messages == [
        "“Street” contains an invisible character that cannot stand there, such as a "
        "zero-width space or a joiner that is not between two letters. Type it again "
        "without that character.",
        TEXT_EN,
    ]


def test_every_part_with_an_invisible_character_gets_its_own_message():
    schema = one_step(field("a", "address"))
    data = {**ADDRESS, "a__street": f"Neu{ZWSP}markt", "a__place": f"{BOM}Wuppertal"}
    assert errors(schema, data) == [
        ("field-a-street", part_message("Straße")),
        ("field-a-place", part_message("Ort")),
    ]


@pytest.mark.parametrize("char", INVISIBLE)
@pytest.mark.parametrize(
    ("part", "part_de"),
    [
        ("address_line1", "Straße und Hausnummer oder Postfach"),
        ("address_line3", "Adresszeile 3"),
        ("postal_code", "Postleitzahl"),
        ("place", "Ort"),
    ],
)
def test_an_invisible_character_in_an_address_abroad_is_refused_at_that_part(char, part, part_de):
    schema = one_step(field("a", "address_abroad"))
    data = {**ABROAD, f"a__{part}": f"Lis{char}boa"}
    assert errors(schema, data) == [(f"field-a-{part}", part_message(part_de))]


def test_an_address_abroad_with_a_joiner_between_letters_is_stored_as_typed():
    # Tehran, "Khiaban-e Niknam": the ZWNJ is part of the Persian spelling of the street.
    street = f"\u062e\u06cc\u0627\u0628\u0627\u0646 \u0646\u06cc\u06a9{ZWNJ}\u0646\u0627\u0645 12"
    schema = one_step(field("a", "address_abroad"))
    data = {**ABROAD, "a__address_line1": street, "a__place": "Tehran", "a__country": "IR"}
    result = validate_step(schema, "s", data, today=TODAY)
    assert result.is_valid, result.errors
    assert result.cleaned["a"]["address_line1"] == street
    stray = {**data, "a__address_line1": f"{street}{ZWNJ}"}
    assert errors(schema, stray) == [
        ("field-a-address_line1", part_message("Straße und Hausnummer oder Postfach"))
    ]


@pytest.mark.parametrize("char", INVISIBLE)
@pytest.mark.parametrize("multiline", [False, True])
def test_an_invisible_character_in_a_text_is_refused(char, multiline):
    schema = one_step(field("t", "text", multiline=multiline))
    assert errors(schema, {"t": f"Fußgängerzone{char} Elberfeld"}) == [("field-t", TEXT_DE)]


def test_a_free_text_keeps_its_line_breaks_and_tabs_but_not_a_bidi_override():
    schema = one_step(field("t", "text", multiline=True))
    typed = "Fußgängerzone Elberfeld\r\n\tVon-der-Heydt-Platz"
    result = validate_step(schema, "s", {"t": typed}, today=TODAY)
    assert result.cleaned == {"t": "Fußgängerzone Elberfeld\n\tVon-der-Heydt-Platz"}
    assert errors(schema, {"t": f"Elberfeld\n{RLO}ztalP\u202c"}) == [("field-t", TEXT_DE)]


def test_a_free_text_takes_an_emoji_sequence_and_a_name_with_a_joiner():
    # 👩‍💻, 👩🏽‍💻 (skin tone) and 🏳️‍🌈 (presentation selector): a phone's keyboard types the
    # joiner; a Persian word keeps its non-joiner. A joiner after a space is still refused.
    typed = (
        f"\U0001f469{ZWJ}\U0001f4bb \U0001f469\U0001f3fd{ZWJ}\U0001f4bb "
        f"\U0001f3f3\ufe0f{ZWJ}\U0001f308 \u0646\u06cc\u06a9{ZWNJ}\u0646\u0627\u0645"
    )
    for multiline in (False, True):
        schema = one_step(field("t", "text", multiline=multiline))
        result = validate_step(schema, "s", {"t": typed}, today=TODAY)
        assert result.cleaned == {"t": typed}, result.errors
        assert errors(schema, {"t": f"Hallo {ZWJ}\U0001f4bb"}) == [("field-t", TEXT_DE)]


def test_an_address_takes_no_emoji_joiner():
    schema = one_step(field("a", "address"))
    data = {**ADDRESS, "a__address_supplement": f"\U0001f469{ZWJ}\U0001f4bb"}
    assert errors(schema, data) == [("field-a-address_supplement", part_message("Adresszusatz"))]


@pytest.mark.parametrize("field_type", ["email", "phone", "iban", "number"])
def test_other_text_inputs_name_the_invisible_character(field_type):
    schema = one_step(field("t", field_type))
    assert errors(schema, {"t": f"1{ZWSP}2"}) == [("field-t", TEXT_DE)]


def test_the_refused_street_is_shown_again_as_typed_beside_the_address():
    schema = one_step(field("a", "address"))
    typed = f"{RLO}tkramueN"
    data = {**ADDRESS, "a__street": typed}
    result = validate_step(schema, "s", data, today=TODAY)
    html = render_step(schema, "s", data=data, result=result)
    page = Elements(html)
    [street] = page.all("input", name="a__street")
    assert street["value"] == typed and street["aria-invalid"] == "true"
    [group] = page.all("fieldset", id="field-a-group")
    assert group["aria-describedby"] == "field-a-error"
    assert html.count(part_message("Straße")) == 2  # beside the address and in the summary
    assert page.all("input", name="a__place")[0]["value"] == "Wuppertal"


def test_a_draft_saved_with_an_invisible_character_gets_the_message_when_checked_again():
    # Saved before invisible characters were refused: the final check names the input.
    schema = one_step(field("a", "address"), field("t", "text", multiline=True))
    answers = {
        "a": {
            "street": f"Neu{ZWSP}markt",
            "house_number": "10",
            "address_supplement": "",
            "postal_code": "42103",
            "place": "Wuppertal",
        },
        "t": f"Elberfeld{SHY}",
    }
    checked = validate_all(schema, answers, today=TODAY)
    assert not checked.is_valid
    assert checked.first_invalid_step is not None and checked.first_invalid_step.id == "s"
    assert [(issue.anchor, issue.message) for issue in checked.errors] == [
        ("field-a-street", part_message("Straße")),
        ("field-t", TEXT_DE),
    ]
