"""/wohnungsgeberbestaetigung/: a landlord confirms a move-in and gets a verifiable PDF at once."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from rathaus.catalog.models import Responsibility
from rathaus.core.models import Municipality
from rathaus.ledger.leaves import format_code
from rathaus.ledger.models import Entry
from rathaus.registers.models import LandlordConfirmation
from tests.accounts.factories import ProfileFactory, UserFactory

MOVED_IN = timezone.localdate() - datetime.timedelta(days=2)


@pytest.fixture
def wuppertal(db: None) -> Municipality:
    call_command("load_demo", verbosity=0)
    return Municipality.objects.get(ags="05124000")


@pytest.fixture
def landlord_client(client: Client, db: None) -> Client:
    profile = ProfileFactory(given_names="Hans", family_name="Vermieter")
    client.force_login(profile.user)
    return client


def _form(wuppertal: Municipality, **changes: str) -> dict[str, str]:
    data = {
        "municipality": str(wuppertal.pk),
        "street": "Friedrich-Engels-Allee",
        "house_number": "12",
        "address_supplement": "",
        "postal_code": "42283",
        "place": "Wuppertal",
        "move_in_date": MOVED_IN.strftime("%d.%m.%Y"),
        "person_1_given_names": "Erika",
        "person_1_family_name": "Mustermann",
        "landlord_name": "Hans Vermieter",
        "landlord_address": "Hofaue 5, 42103 Wuppertal",
        "is_owner": "yes",
        "declaration": "on",
    }
    data.update(changes)
    return data


def test_needs_login(client: Client, db: None) -> None:
    response = client.get("/wohnungsgeberbestaetigung/neu/")
    assert response.status_code == 302
    assert "/konto/login/" in response["Location"]


def test_form_is_prefilled_from_the_profile(
    landlord_client: Client, wuppertal: Municipality
) -> None:
    response = landlord_client.get("/wohnungsgeberbestaetigung/neu/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'value="Hans Vermieter"' in content
    assert "Wuppertal" in content


def test_landlord_gets_a_confirmation_with_code_for_the_registration_office(
    landlord_client: Client, wuppertal: Municipality
) -> None:
    response = landlord_client.post("/wohnungsgeberbestaetigung/neu/", _form(wuppertal))
    assert response.status_code == 302, response.content.decode()[:2000]
    confirmation = LandlordConfirmation.objects.get()
    # the registration office that handles the Wohnsitzanmeldung there ("Einer für Alle")
    office = Responsibility.objects.get(service__slug="wohnsitz-anmelden", municipality=wuppertal)
    assert confirmation.authority == office.authority
    assert confirmation.person_names == ["Erika Mustermann"]
    assert Entry.objects.get(code=confirmation.code).document_type == "landlord-confirmation"
    page = landlord_client.get(response["Location"])
    assert format_code(confirmation.code) in page.content.decode()
    pdf = landlord_client.get(
        f"/wohnungsgeberbestaetigung/{confirmation.public_id}/bestaetigung.pdf"
    )
    assert "no-store" in pdf["Cache-Control"] and "private" in pdf["Cache-Control"]
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    # only the landlord sees it
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(f"/wohnungsgeberbestaetigung/{confirmation.public_id}/").status_code == 404
    # withdrawing it
    landlord_client.post(f"/wohnungsgeberbestaetigung/{confirmation.public_id}/widerrufen/")
    confirmation.refresh_from_db()
    assert confirmation.revoked_at is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"postal_code": "4228"}, "fünfstellige Postleitzahl"),
        ({"move_in_date": "31.02.2026"}, "Bitte geben Sie das Datum"),
        ({"person_1_given_names": "", "person_1_family_name": ""}, "mindestens eine Person"),
        ({"person_1_family_name": ""}, "Familiennamen dieser Person"),
        ({"is_owner": "no"}, "Namen des Eigentümers"),
        ({"declaration": ""}, "Bitte bestätigen Sie"),
        ({"municipality": "999999"}, "Bitte wählen Sie die Gemeinde"),
        (
            {"move_in_date": (MOVED_IN + datetime.timedelta(days=200)).strftime("%d.%m.%Y")},
            "höchstens 90 Tage",
        ),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field_and_keeps_the_input(
    landlord_client: Client, wuppertal: Municipality, changes: dict[str, str], message: str
) -> None:
    response = landlord_client.post("/wohnungsgeberbestaetigung/neu/", _form(wuppertal, **changes))
    assert response.status_code == 400
    content = response.content.decode()
    assert message in content
    assert 'value="Friedrich-Engels-Allee"' in content
    assert not LandlordConfirmation.objects.exists()


def test_pages_with_the_tenants_data_are_kept_in_no_cache(
    landlord_client: Client, wuppertal: Municipality
) -> None:
    landlord_client.post("/wohnungsgeberbestaetigung/neu/", _form(wuppertal))
    confirmation = LandlordConfirmation.objects.get()
    for url in (
        "/wohnungsgeberbestaetigung/",
        "/wohnungsgeberbestaetigung/neu/",
        f"/wohnungsgeberbestaetigung/{confirmation.public_id}/",
    ):
        assert "no-store" in landlord_client.get(url).get("Cache-Control", ""), url


def test_a_confirmation_pdf_missing_from_storage_is_a_404_not_a_500(
    landlord_client: Client, wuppertal: Municipality
) -> None:
    landlord_client.post("/wohnungsgeberbestaetigung/neu/", _form(wuppertal))
    confirmation = LandlordConfirmation.objects.get()
    confirmation.pdf.storage.delete(confirmation.pdf.name)
    landlord_client.raise_request_exception = False
    response = landlord_client.get(
        f"/wohnungsgeberbestaetigung/{confirmation.public_id}/bestaetigung.pdf"
    )
    assert response.status_code == 404


def test_a_changed_confirmation_pdf_is_not_handed_out(
    landlord_client: Client, wuppertal: Municipality
) -> None:
    landlord_client.post("/wohnungsgeberbestaetigung/neu/", _form(wuppertal))
    confirmation = LandlordConfirmation.objects.get()
    storage, name = confirmation.pdf.storage, confirmation.pdf.name
    with storage.open(name) as stored:
        original = stored.read()
    storage.delete(name)
    storage.save(name, ContentFile(original + b"\n% changed in the storage\n"))
    landlord_client.raise_request_exception = False
    response = landlord_client.get(
        f"/wohnungsgeberbestaetigung/{confirmation.public_id}/bestaetigung.pdf"
    )
    assert response.status_code == 404


def test_the_unchanged_confirmation_pdf_is_handed_out(
    landlord_client: Client, wuppertal: Municipality
) -> None:
    landlord_client.post("/wohnungsgeberbestaetigung/neu/", _form(wuppertal))
    confirmation = LandlordConfirmation.objects.get()
    response = landlord_client.get(
        f"/wohnungsgeberbestaetigung/{confirmation.public_id}/bestaetigung.pdf"
    )
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == (  # type: ignore[attr-defined]
        confirmation.sha256
    )


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("street", "Friedrich-Engels-Allee\u200b"),  # zero-width space
        ("place", "Wupper\u00adtal"),  # soft hyphen
        ("person_1_family_name", "Muster\u202emann"),  # right-to-left override
        ("person_1_given_names", "Erika\x1b"),  # ESC
        ("landlord_name", "Hans\x7f Vermieter"),  # DEL
        ("landlord_address", "Hofaue 5\uffff, 42103 Wuppertal"),  # not a character
        ("owner_name", "Eva\ue000 Eigentümer"),  # private use
    ],
)
def test_invisible_and_control_characters_are_refused_beside_the_field(
    landlord_client: Client, wuppertal: Municipality, field: str, typed: str
) -> None:
    response = landlord_client.post(
        "/wohnungsgeberbestaetigung/neu/",
        _form(wuppertal, **{"is_owner": "no", "owner_name": "Eva Eigentümer", field: typed}),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert "unsichtbare" in str(form.errors[field])
    content = response.content.decode()
    beside = content.split(f'id="id_{field}_error"', 1)[1].split("</p>", 1)[0]
    assert "unsichtbare Zeichen" in beside  # the message beside the field
    assert form[field].value() == typed  # what was typed is kept
    assert 'value="Friedrich-Engels-Allee' in content and 'value="Erika' in content
    assert not LandlordConfirmation.objects.exists()


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("person_2_given_names", "Anna\u200c"),  # zero width non-joiner at the end
        ("person_2_given_names", "\u200cAnna"),  # at the start
        ("person_2_given_names", "A\u200b"),  # zero-width space, never allowed
        ("person_2_given_names", "Mehr\u200c\u200casa"),  # doubled
        ("person_2_given_names", "Mehr\u200d\u200casa"),  # joiner next to a non-joiner
        ("person_2_given_names", "Anna \u200cMaria"),  # next to a space
        ("person_2_family_name", "Muster\u200c-mann"),  # next to a hyphen
        ("person_2_family_name", "Muster\u200d2"),  # next to a digit
        ("street", "Hauptstr.\u200c"),  # next to a full stop
        ("person_2_given_names", "An\u2067na"),  # other format characters stay refused
        ("person_2_given_names", "An\ufeffna"),  # between letters too (isolate, BOM)
    ],
)
def test_joiners_outside_a_word_are_refused_beside_the_field(
    landlord_client: Client, wuppertal: Municipality, field: str, typed: str
) -> None:
    data = {"person_2_given_names": "Anna", "person_2_family_name": "Mustermann", field: typed}
    response = landlord_client.post("/wohnungsgeberbestaetigung/neu/", _form(wuppertal, **data))
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == [field]
    content = response.content.decode()
    beside = content.split(f'id="id_{field}_error"', 1)[1].split("</p>", 1)[0]
    assert "unsichtbare Zeichen" in beside
    assert form[field].value() == typed
    assert not LandlordConfirmation.objects.exists()


@pytest.mark.parametrize(
    ("given", "family"),
    [
        ("\u0645\u0647\u0631\u200c\u0622\u0633\u0627", "Mustermann"),  # Persian Mehr-asa
        ("Erika", "\u0646\u06cc\u06a9\u200c\u0646\u0627\u0645"),  # Persian Nik-nam
        ("\u0915\u094d\u200d\u0937\u092e\u093e", "Mustermann"),  # Hindi: virama, ZWJ, letter
    ],
)
def test_a_name_with_a_joiner_between_letters_is_accepted_and_matches_the_registration(
    landlord_client: Client, wuppertal: Municipality, given: str, family: str
) -> None:
    from rathaus.registers.selectors import check_landlord_confirmation

    response = landlord_client.post(
        "/wohnungsgeberbestaetigung/neu/",
        _form(wuppertal, person_1_given_names=given, person_1_family_name=family),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    confirmation = LandlordConfirmation.objects.get()
    assert confirmation.person_names == [f"{given} {family}"]  # stored as typed
    # the tenant's registration matches, whether the name there is typed with or without them
    for typed_given, typed_family in (
        (given, family),
        (given.replace("\u200c", "").replace("\u200d", ""), family.replace("\u200c", "")),
    ):
        check = check_landlord_confirmation(
            code=confirmation.code,
            address={
                "street": "Friedrich-Engels-Allee",
                "house_number": "12",
                "postal_code": "42283",
                "place": "Wuppertal",
            },
            move_in_date=MOVED_IN,
            persons=[{"name": {"given_names": typed_given, "family_name": typed_family}}],
        )
        assert check.ok, check.problems


def test_the_form_shows_a_few_rows_for_persons_first(
    landlord_client: Client, wuppertal: Municipality
) -> None:
    content = landlord_client.get("/wohnungsgeberbestaetigung/neu/").content.decode()
    assert 'name="person_3_family_name"' in content
    assert 'name="person_4_family_name"' not in content
    assert 'name="add_person"' in content


def test_adding_a_person_shows_one_more_row_and_keeps_everything_typed(
    landlord_client: Client, wuppertal: Municipality
) -> None:
    data = _form(
        wuppertal,
        person_2_given_names="Max",
        person_2_family_name="Mustermann",
        person_rows="3",
        add_person="1",
    )
    response = landlord_client.post("/wohnungsgeberbestaetigung/neu/", data)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="person_4_given_names"' in content
    assert 'name="person_5_given_names"' not in content
    assert 'name="person_rows" value="4"' in content
    for value in ("Friedrich-Engels-Allee", "Max", "Hofaue 5, 42103 Wuppertal"):
        assert f'value="{value}"' in content
    assert "checked" in content  # the declaration and the owner question
    assert not response.context["form"].errors  # nothing checked yet
    assert not LandlordConfirmation.objects.exists()

    # the fourth row is still there when the form is sent, even empty
    sent = landlord_client.post(
        "/wohnungsgeberbestaetigung/neu/", _form(wuppertal, person_rows="4", postal_code="1")
    )
    assert 'name="person_4_given_names"' in sent.content.decode()


def test_no_more_rows_than_one_registration_takes(
    landlord_client: Client, wuppertal: Municipality
) -> None:
    from rathaus.registers.landlord_confirmations import MAX_PERSONS

    response = landlord_client.post(
        "/wohnungsgeberbestaetigung/neu/",
        _form(wuppertal, person_rows=str(MAX_PERSONS), add_person="1"),
    )
    content = response.content.decode()
    assert f'name="person_{MAX_PERSONS}_given_names"' in content
    assert f'name="person_{MAX_PERSONS + 1}_given_names"' not in content
    assert 'name="add_person"' not in content


def test_a_household_the_registration_accepts_fits_on_one_confirmation(
    landlord_client: Client, wuppertal: Municipality
) -> None:
    from rathaus.catalog.form_schemas import form_schema
    from rathaus.catalog.models import Service

    schema, _ = form_schema(Service.objects.get(slug="wohnsitz-anmelden"))
    household = next(f.max_items for s in schema.steps for f in s.fields if f.id == "persons")
    names = {}
    for i in range(1, household + 1):
        names |= {
            f"person_{i}_given_names": f"Kind{chr(64 + i)}",
            f"person_{i}_family_name": "Mustermann",
        }
    response = landlord_client.post("/wohnungsgeberbestaetigung/neu/", _form(wuppertal, **names))
    assert response.status_code == 302
    assert len(LandlordConfirmation.objects.get().persons) == household
