"""Names spelt with a zero width non-joiner or joiner (Persian, Kurdish, Indic) are accepted.

ZERO WIDTH NON-JOINER (U+200C) and ZERO WIDTH JOINER (U+200D) are part of the spelling of
Persian, Kurdish (Sorani) and Indic names. A name field takes them between two letters or a
letter and a combining mark, as the landlord's form does (``core.unicode_text``); at the start
or end, doubled, or next to a space, digit, hyphen or other sign they are refused with a message
at the input, and so are the other invisible characters (zero-width space, soft hyphen, bidi
controls, byte order mark) and controls.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from rathaus.catalog.definitions import SERVICES_DIR
from rathaus.forms.engine import validate_step
from rathaus.forms.rendering import render_step
from rathaus.forms.schema import load_schema_file

from .conftest import TODAY, field, one_step
from .test_rendering import Elements

ZWNJ, ZWJ = "\u200c", "\u200d"
#: Persian "Mehrasa" (Mehr + Asa), the ZWNJ after the re.
MEHRASA = f"\u0645\u0647\u0631{ZWNJ}\u0622\u0633\u0627"
#: Persian "Niknam" (Nik + Nam), the ZWNJ between kaf and nun.
NIKNAM = f"\u0646\u06cc\u06a9{ZWNJ}\u0646\u0627\u0645"
#: Hindi "Lakshmi" with an explicit half form: ka, virama, ZWJ, ssa (a mark, then a letter).
LAKSHMI = f"\u0932\u0915\u094d{ZWJ}\u0937\u094d\u092e\u0940"
#: Kannada "Karthik" with the old arkavattu: ra, ZWJ, virama (a letter, then a mark).
KARTHIK = f"\u0c95\u0cbe\u0cb0{ZWJ}\u0ccd\u0ca4\u0cbf\u0c95\u0ccd"

INVISIBLE_DE = (
    "„Familienname“ enthält ein unsichtbares Zeichen, das dort nicht stehen kann, etwa ein "
    "Leerzeichen ohne Breite oder einen Verbinder, der nicht zwischen zwei Buchstaben steht. "
    "Geben Sie den Text ohne dieses Zeichen noch einmal ein."
)
INVISIBLE_EN = (
    "“Family name” contains an invisible character that cannot stand there, such as a "
    "zero-width space or a joiner that is not between two letters. Type it again without "
    "that character."
)


def parse(given: str, family: str):
    schema = one_step(field("n", "person_name"))
    return validate_step(
        schema, "s", {"n__given_names": given, "n__family_name": family}, today=TODAY
    )


@pytest.mark.parametrize(
    ("given", "family"),
    [
        ("Mehrasa", MEHRASA),  # between two letters (Persian)
        (MEHRASA, NIKNAM),  # in both parts
        ("Lakshmi", LAKSHMI),  # after a virama, before a letter (Devanagari)
        ("Karthik", KARTHIK),  # after a letter, before a virama (Kannada)
        (f"{NIKNAM} Anna-Lena", "Muster"),  # among other names of the same part
    ],
)
def test_a_name_with_a_joiner_between_letters_is_accepted_as_typed(given, family):
    result = parse(given, family)
    assert result.is_valid, [issue.message for issue in result.issues]
    assert result.cleaned == {"n": {"given_names": given, "family_name": family}}


@pytest.mark.parametrize(
    "family",
    [
        f"{ZWNJ}{NIKNAM}",  # at the start
        f"{NIKNAM}{ZWNJ}",  # at the end
        f"\u0646\u06cc\u06a9{ZWNJ}{ZWNJ}\u0646\u0627\u0645",  # doubled
        f"\u0646\u06cc\u06a9{ZWNJ}{ZWJ}\u0646\u0627\u0645",  # one of each
        f"\u0646\u06cc\u06a9{ZWNJ} \u0646\u0627\u0645",  # before a space
        f"\u0646\u06cc\u06a9 {ZWJ}\u0646\u0627\u0645",  # after a space
        f"Muster{ZWNJ}-Frau",  # before a hyphen
        f"O{ZWJ}'Neill",  # before an apostrophe
        f"O'{ZWNJ}Neill",  # after an apostrophe
        f"\u0915\u094d{ZWJ}\u094d",  # between two marks
        "Mus\u200bter",  # zero-width space
        "Mus\u00adter",  # soft hyphen
        "Mus\u200eter",  # left-to-right mark
        "\u202eretsuM",  # right-to-left override
        "\ufeffMuster",  # byte order mark
        "Mus\u2060ter",  # word joiner
    ],
)
def test_an_invisible_character_where_it_joins_no_letters_is_refused_at_the_input(family):
    result = parse("Anna", family)
    assert [(issue.anchor, issue.message) for issue in result.errors] == [
        ("field-n-family_name", INVISIBLE_DE)
    ]
    with translation.override("en"):
        result = parse("Anna", family)
    assert [issue.message for issue in result.errors] == [INVISIBLE_EN]


def test_a_joiner_before_a_digit_is_refused_and_a_visible_sign_keeps_its_message():
    # The joiner is the character the person cannot see, so the message names it first.
    assert [issue.message for issue in parse("Anna", f"R{ZWNJ}2").errors] == [INVISIBLE_DE]
    assert [issue.message for issue in parse("Anna", "R2D2").errors] == [
        "„Familienname“ darf nur Buchstaben, Leerzeichen, Bindestriche und Apostrophe enthalten."
    ]


def test_a_joiner_between_letters_lets_no_control_character_through():
    # A guard (controls were refused before, and still are, by the same text check).
    for family in (f"{NIKNAM}\x1b", f"\u0646\u06cc\u06a9{ZWNJ}\x00\u0646"):
        result = parse("Anna", family)
        assert [issue.message for issue in result.errors] == [
            "Der Text enthält Zeichen, die nicht erlaubt sind."
        ]


# The Wohnsitzanmeldung (wohnsitz-anmelden), step "people": the persons moving in.


def registration_schema():
    return load_schema_file(SERVICES_DIR / "wohnsitz-anmelden" / "form.toml", source="test")


def person(row: int, given: str, family: str) -> dict[str, str]:
    answers = {
        "name__given_names": given,
        "name__family_name": family,
        "birth_date__day": "3",
        "birth_date__month": "4",
        "birth_date__year": "1990",
        "birth_place": "Teheran",
        "sex": "female",
        "nationality": "IR",
        "religion": "none",
        "marital_status": "single",
        "has_document": "no",
    }
    return {f"persons__{row}__{key}": value for key, value in answers.items()}


def test_the_registration_takes_persons_with_a_joiner_in_their_names():
    data: dict[str, Any] = {
        "persons__rows": "2",
        **person(1, MEHRASA, NIKNAM),
        **person(2, "Lakshmi", LAKSHMI),
    }
    result = validate_step(registration_schema(), "people", data, today=TODAY)
    assert result.is_valid, [issue.message for issue in result.issues]
    names = [row["name"] for row in result.cleaned["persons"]]
    assert names == [
        {"given_names": MEHRASA, "family_name": NIKNAM},
        {"given_names": "Lakshmi", "family_name": LAKSHMI},
    ]


def test_the_registration_refuses_a_stray_joiner_beside_the_row_and_keeps_what_was_typed():
    schema = registration_schema()
    typed = f"{NIKNAM}{ZWNJ}"
    data: dict[str, Any] = {"persons__rows": "1", **person(1, MEHRASA, typed)}
    result = validate_step(schema, "people", data, today=TODAY)
    [issue] = result.errors
    assert issue.label == "Person 1: Name"
    assert issue.anchor == "field-persons-1-name-family_name"
    assert issue.message == INVISIBLE_DE
    html = render_step(schema, "people", data=data, result=result)
    page = Elements(html)
    [family_input] = page.all("input", name="persons__1__name__family_name")
    assert family_input["value"] == typed and family_input["aria-invalid"] == "true"
    [group] = page.all("fieldset", id="field-persons-1-name-group")
    assert group["aria-describedby"] == "field-persons-1-name-error"
    assert html.count(INVISIBLE_DE) == 2  # beside the name and in the summary at the top
