"""``accounts.asserted_values``: how a value a citizen account asserts is cleaned for the
profile, and which values are not taken over (the logins themselves are in
``test_citizen_account_values.py``)."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from rathaus.accounts.asserted_values import (
    clean_attribute,
    clean_birth_date,
    clean_email,
    clean_text,
    storable_identifier,
)
from rathaus.core.unicode_text import has_refused_invisible
from tests.accounts.test_profile_invisible_characters import NIKNAM

#: Devanagari "kṣa" as a half form: KA, VIRAMA, ZWJ, SSA (the joiner after a combining mark).
HALF_FORM = "\u0915\u094d\u200d\u0937"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("Erika", "Erika"),
        ("  Erika\tMaria\n", "Erika Maria"),
        ("Erika\u2028Maria\u3000von\u00a0Berg", "Erika Maria von Berg"),
        ("Eri\u200bka", "Erika"),
        ("Muster\u00admann", "Mustermann"),
        ("\ufeffMustermann", "Mustermann"),
        ("\u202aErika\u202c \u2066Maria\u2069", "Erika Maria"),
        ("Erika\u200e\u200f\u061c", "Erika"),
        ("Wupper\u2060tal", "Wuppertal"),  # word joiner
        ("Mu\u0308ller", "M\u00fcller"),  # NFC
        ("e\u200b\u0301", "\u00e9"),  # composed once the zero-width space is gone
        (NIKNAM, NIKNAM),  # a ZWNJ between letters stays
        (HALF_FORM, HALF_FORM),  # a ZWJ after a virama stays
        (f"{NIKNAM}\u200c", NIKNAM),  # … but not at the end
        ("\u200dErika", "Erika"),
        ("Eri\u200c\u200cka", "Erika"),  # doubled
        ("Erika \u200c Maria", "Erika Maria"),  # beside a space
        ("A\u200d1", "A1"),  # beside a digit
    ],
)
def test_a_value_is_cleaned_and_what_remains_is_what_the_forms_accept(sent: str, kept: str) -> None:
    cleaned = clean_text(sent, max_length=120)
    assert cleaned == kept
    assert not has_refused_invisible(cleaned)


@pytest.mark.parametrize(
    "sent",
    [
        "Erika\x00",
        "Eri\x1bka",
        "Erika\x7f",
        "Eri\x9bka",
        "\ud800Erika",
        "Erika\ue000",  # private use
        "Erika\U000e0fff",  # unassigned
        "",
        "   ",
        "\u200b\u00ad\ufeff \u202e",
        "E" * 121,
        "E" * 100_000,
    ],
    ids=[
        "nul",
        "escape",
        "delete",
        "c1-control",
        "lone-surrogate",
        "private-use",
        "unassigned",
        "empty",
        "spaces",
        "invisible-only",
        "longer-than-the-field",
        "100-kilobytes",
    ],
)
def test_a_value_that_cannot_be_used_is_not_taken_over(sent: str) -> None:
    assert clean_text(sent, max_length=120) is None


def test_the_length_counts_after_cleaning() -> None:
    assert clean_text("E" * 120 + "\u200b" * 5, max_length=120) == "E" * 120


@freeze_time("2026-03-01")
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("1964-08-12", "1964-08-12"),
        (" 1964-08-12\n", "1964-08-12"),
        ("1964-00-00", None),
        ("1964-02-30", None),
        ("12.08.1964", None),
        ("19640812", None),  # Python's fromisoformat would take it
        ("1964-W33-3", None),
        ("2026-03-02", None),
        ("1899-12-31", None),
        ("1964-08-12T00:00:00", None),
    ],
)
def test_a_date_of_birth_is_an_iso_date_the_profile_form_would_accept(
    sent: str, kept: str | None
) -> None:
    assert clean_birth_date(sent) == kept
    assert clean_attribute("birth_date", sent) == kept


@freeze_time("2026-03-01 12:00")
def test_a_date_of_birth_today_is_accepted() -> None:
    assert clean_birth_date("2026-03-01") == "2026-03-01"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("erika@example.org", "erika@example.org"),
        (" erika@example.org ", "erika@example.org"),
        ("erika@example.org\x00", None),
        ("eri ka@example.org", None),
        ("eri\u200bka@example.org", None),
        ("\u202egro.elpmaxe@akire", None),
        ("erika.\ud800@example.org", None),
        ("e" * 250 + "@x.de", None),
    ],
)
def test_an_email_address_is_taken_as_sent_or_not_at_all(sent: str, kept: str | None) -> None:
    assert clean_email(sent) == kept
    assert clean_attribute("email", sent) == kept


def test_an_attribute_that_is_no_text_is_not_taken_over() -> None:
    assert clean_attribute("given_names", 42) is None
    assert clean_attribute("given_names", ["Erika"]) is None


def test_each_field_is_held_to_its_own_length() -> None:
    assert clean_attribute("place", "W" * 50) == "W" * 50
    assert clean_attribute("place", "W" * 51) is None
    assert clean_attribute("street", "S" * 56) is None


@pytest.mark.parametrize(
    ("value", "storable"),
    [
        ("bpk2-test-eid-0003", True),
        ("AbC+/=", True),
        ("sub\x00", False),
        ("sub\n1", False),
        ("sub\x85", False),
        ("sub\ud800", False),
    ],
)
def test_an_identifier_is_refused_for_a_control_character_never_cleaned(
    value: str, storable: bool
) -> None:
    assert storable_identifier(value) is storable
