"""The citizen profile refuses invisible characters beside the field, as the form engine does.

Names and address of the profile prefill the application forms, which refuse a zero-width
space, a soft hyphen, a byte order mark, direction marks and overrides (U+202E shows the text
reversed to a clerk) and control characters (``core.unicode_text``). The profile page refuses
them beside the field and shows what was typed again; a zero width non-joiner between letters
(a Persian name) is saved as typed.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from rathaus.accounts.models import Profile, User
from tests.accounts.factories import ProfileFactory

pytestmark = pytest.mark.django_db

VALID = {
    "given_names": "Erika Maria",
    "family_name": "Mustermann",
    "birth_date": "1980-12-24",
    "street": "Neumarkt",
    "house_number": "10a",
    "postal_code": "42103",
    "place": "Wuppertal",
    "phone": "+49 202 123456",
    "preferred_language": "de",
}
INVISIBLE_DE = (
    "Die Angabe enthält ein unsichtbares Zeichen, das dort nicht stehen kann, etwa ein "
    "Leerzeichen ohne Breite, einen weichen Trennstrich oder ein Steuerzeichen für die "
    "Schreibrichtung. Geben Sie sie ohne dieses Zeichen noch einmal ein."
)
INVISIBLE_EN = (
    "This entry contains an invisible character that cannot stand there, such as a zero-width "
    "space, a soft hyphen or a text direction control. Type it again without that character."
)
#: Persian "Niknam" (Nik + Nam), the ZWNJ between kaf and nun.
NIKNAM = "\u0646\u06cc\u06a9\u200c\u0646\u0627\u0645"


def field_errors(html: str, field: str) -> list[str]:
    """The messages shown beside ``field`` (its ``id_<field>_error`` element)."""
    found = re.search(rf'<p class="kern-error" id="id_{field}_error">(.*?)</p>', html, re.S)
    if found is None:
        return []
    return [
        " ".join(m.split()) for m in re.findall(r'<span class="kern-body">(.*?)</span>', found[1])
    ]


@pytest.mark.parametrize(
    "char",
    [
        pytest.param("\u200b", id="zero-width-space"),
        pytest.param("\u00ad", id="soft-hyphen"),
        pytest.param("\ufeff", id="byte-order-mark"),
        pytest.param("\u202e", id="right-to-left-override"),
        pytest.param("\u200e", id="left-to-right-mark"),
        pytest.param("\x1b", id="escape"),
    ],
)
@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("given_names", "Eri{}ka"),
        ("family_name", "{}Mustermann"),
        ("street", "Neu{}markt"),
        ("house_number", "10{}a"),
        ("postal_code", "4210{}3"),
        ("place", "Wupper{}tal"),
        ("phone", "+49 202{} 123456"),
    ],
)
def test_an_invisible_character_is_refused_beside_the_field_and_what_was_typed_is_kept(
    citizen_client: Client, citizen: User, field: str, typed: str, char: str
) -> None:
    value = typed.format(char)
    response = citizen_client.post("/konto/profil/", {**VALID, field: value})
    assert response.status_code == 200
    html = response.content.decode()
    assert field_errors(html, field) == [INVISIBLE_DE]  # this message alone
    assert f'value="{value}"' in html
    assert 'value="Erika Maria"' in html or field == "given_names"
    assert not Profile.objects.filter(user=citizen).exists()


def test_the_message_is_in_english_for_an_english_page(citizen_client: Client) -> None:
    citizen_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = citizen_client.post("/konto/profil/", {**VALID, "street": "\u202etkramueN"})
    assert field_errors(response.content.decode(), "street") == [INVISIBLE_EN]


def test_a_name_with_a_non_joiner_between_letters_is_saved_as_typed(
    citizen_client: Client, citizen: User
) -> None:
    response = citizen_client.post("/konto/profil/", {**VALID, "family_name": NIKNAM})
    assert response.status_code == 302
    assert Profile.objects.get(user=citizen).family_name == NIKNAM
    stray = citizen_client.post("/konto/profil/", {**VALID, "family_name": f"{NIKNAM}\u200c"})
    assert field_errors(stray.content.decode(), "family_name") == [INVISIBLE_DE]


def test_a_profile_saved_before_with_a_zero_width_space_gets_the_message_when_saved_again(
    citizen_client: Client, citizen: User
) -> None:
    ProfileFactory(user=citizen, street="Neu\u200bmarkt")  # stored before the rule
    page = citizen_client.get("/konto/profil/")
    assert page.status_code == 200 and 'value="Neu\u200bmarkt"' in page.content.decode()
    saved = {**VALID, "street": "Neu\u200bmarkt", "house_number": "10"}
    response = citizen_client.post("/konto/profil/", saved)
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "street") == [INVISIBLE_DE]
    assert Profile.objects.get(user=citizen).given_names == "Erika"  # unchanged
