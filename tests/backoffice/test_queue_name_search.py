"""The queue's name search and format characters: a Persian, Kurdish or Indic name spelt with a
zero width (non-)joiner between two letters is found whether the clerk types it or not.

Run on SQLite by default and on PostgreSQL with ``scripts/with-postgres`` (stored ``name_vector``,
casework migration 0018).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client

from rathaus.accounts.models import User
from rathaus.backoffice.queue import search_cases
from rathaus.casework.models import Case
from rathaus.core.models import OrgUnit

pytestmark = pytest.mark.django_db

OpenCase = Callable[..., Case]
StaffClient = Callable[[User], Client]

ZWNJ = "\u200c"  # ZERO WIDTH NON-JOINER
ZWJ = "\u200d"  # ZERO WIDTH JOINER
# Persian "Niknam": NOON YEH KEHEH, ZWNJ, NOON ALEF MEEM.
NIKNAM = f"\u0646\u06cc\u06a9{ZWNJ}\u0646\u0627\u0645"
# Devanagari "Raktim" with a half form: RA, KA, VIRAMA, ZWJ, TA, VOWEL SIGN I, MA.
RAKTIM = f"\u0930\u0915\u094d{ZWJ}\u0924\u093f\u092e"


def _found(text: str) -> set[str]:
    return set(search_cases(Case.objects.all(), text).values_list("applicant_name", flat=True))


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        (NIKNAM, NIKNAM.replace(ZWNJ, "")),  # typed without the joiner
        (NIKNAM.replace(ZWNJ, ""), NIKNAM),  # typed with it, stored without
        (NIKNAM, NIKNAM),
        (RAKTIM, RAKTIM.replace(ZWJ, "")),
        (RAKTIM.replace(ZWJ, ""), RAKTIM),
        # a soft hyphen or a zero width space copied along with the name
        ("Mustermann", "Muster\u00admann"),
        ("Muster\u200bmann", "Mustermann"),
    ],
)
def test_a_name_is_found_with_or_without_format_characters(
    open_case: OpenCase, unit: OrgUnit, stored: str, typed: str
) -> None:
    wanted = open_case(unit.authority, unit=unit, family_name=stored)
    open_case(unit.authority, unit=unit, family_name="Weissbart")
    assert _found(typed) == {wanted.applicant_name}
    assert _found(f"Erika {typed}") == {wanted.applicant_name}


def test_a_word_joined_by_a_format_character_is_one_word(
    open_case: OpenCase, unit: OrgUnit
) -> None:
    """The second half of a joined name is not a word of its own: "نام" (the second half of
    "نیک" ZWNJ "نام") finds the person called just that, as a prefix, not the joined name."""
    joined = open_case(unit.authority, unit=unit, family_name=NIKNAM)
    alone = open_case(unit.authority, unit=unit, family_name="\u0646\u0627\u0645")
    if connection.vendor == "postgresql":  # words, by prefix; SQLite: a substring of the name
        assert _found("\u0646\u0627\u0645") == {alone.applicant_name}
    assert _found(NIKNAM[:3]) == {joined.applicant_name}


def test_the_queue_page_finds_a_name_typed_without_its_joiner(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    wanted = open_case(unit.authority, unit=unit, family_name=NIKNAM)
    page = staff_client(clerk).get("/backoffice/", {"q": NIKNAM.replace(ZWNJ, "")}).content
    assert wanted.number in page.decode()


def test_a_case_number_copied_with_direction_marks_is_found(
    open_case: OpenCase, unit: OrgUnit
) -> None:
    wanted = open_case(unit.authority, unit=unit, family_name="Schwarzkopf")
    assert _found(f"\u200e{wanted.number}\u200f") == {wanted.applicant_name}


def test_only_format_characters_are_no_search(open_case: OpenCase, unit: OrgUnit) -> None:
    open_case(unit.authority, unit=unit, family_name="Schwarzkopf")
    assert search_cases(Case.objects.all(), f" {ZWNJ}\u200e ").count() == 1


def test_the_stored_name_vector_holds_a_joined_name_as_one_word(
    open_case: OpenCase, unit: OrgUnit
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the stored tsvector exists on PostgreSQL only")
    case = open_case(unit.authority, unit=unit, family_name=NIKNAM)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name_vector::text FROM casework_case WHERE id = %s", [case.pk])
        assert cursor.fetchone()[0] == f"'erika':1 '{NIKNAM.replace(ZWNJ, '')}':2"
