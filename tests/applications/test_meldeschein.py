"""The Meldeschein's data of every person in the Wohnsitzanmeldung (§ 3 Abs. 1 BMG): names,
birth, nationality, religious society, marital status and identity document, each checked as the
registration office needs it, and a child without an ID of its own registered with its parent."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.casework import notice_templates
from rathaus.casework.notice_templates import PLACEHOLDERS, template_values
from rathaus.catalog.form_schemas import schema_path
from rathaus.core.models import Municipality
from rathaus.forms.display import describe_answers
from rathaus.forms.engine import StepResult, validate_step
from rathaus.forms.schema import FormSchema, load_schema_file
from tests.applications.wohnsitz import ADULT, CHILD, people

TODAY = "2026-11-20 10:00:00"


def anmeldung() -> FormSchema:
    return load_schema_file(schema_path("wohnsitz-anmelden"), source="wohnsitz-anmelden")


def check(*persons: dict[str, str]) -> StepResult:
    return validate_step(anmeldung(), "people", people(*persons), answers={})


def errors(result: StepResult) -> dict[str, str]:
    return {issue.name: issue.message for issue in result.errors}


def day(prefix: str, value: str) -> dict[str, str]:
    year, month, number = value.split("-")
    return {f"{prefix}__day": number, f"{prefix}__month": month, f"{prefix}__year": year}


def test_every_person_is_asked_the_meldescheins_data() -> None:
    persons = anmeldung().field("persons")
    asked = {sub.id: sub for sub in persons.fields}
    assert {
        "name",
        "birth_name",
        "former_names",
        "religious_or_stage_name",
        "doctoral_degree",
        "birth_date",
        "birth_place",
        "birth_country",
        "sex",
        "nationality",
        "nationality_2",
        "nationality_3",
        "religion",
        "religion_other",
        "marital_status",
        "marriage_date",
        "marriage_place",
        "has_document",
        "document_type",
        "document_number",
        "document_number_other",
        "document_authority",
        "document_issued_on",
        "document_valid_until",
    } <= set(asked)
    # optional on the Meldeschein: a different birth name, former names, a religious or stage
    # name, a doctoral degree, the state of a birth in Germany, further nationalities
    assert {key for key, sub in asked.items() if not sub.required} == {
        "birth_name",
        "former_names",
        "religious_or_stage_name",
        "doctoral_degree",
        "birth_country",
        "nationality_2",
        "nationality_3",
    }
    # asked only when an earlier answer of the same person says so
    assert {key for key, sub in asked.items() if sub.show_if is not None} == {
        "nationality_2",
        "nationality_3",
        "religion_other",
        "marriage_date",
        "marriage_place",
        "document_type",
        "document_number",
        "document_number_other",
        "document_authority",
        "document_issued_on",
        "document_valid_until",
    }
    assert {option.value for option in asked["marital_status"].options} >= {
        "single",
        "married",
        "partnership",
        "widowed",
        "divorced",
        "partnership_dissolved",
        "partner_deceased",
        "unknown",
    }
    assert {"rk", "ev", "other", "none"} <= {option.value for option in asked["religion"].options}
    untranslated = [sub.id for sub in persons.fields if sub.label.de == sub.label.en]
    assert untranslated == ["name"]  # "Name" in both languages; every other label translated


@freeze_time(TODAY)
def test_a_complete_adult_is_accepted_as_typed() -> None:
    result = check(ADULT)
    assert result.is_valid, result.errors
    [person] = result.cleaned["persons"]
    assert person["document_number"] == "L01X00T47"
    assert person["document_valid_until"].endswith("-05-01")
    assert person["has_document"] is True and person["religion"] == "none"


# --- the serial number of a German ID card or passport ----------------------------------------


@freeze_time(TODAY)
@pytest.mark.parametrize(
    ("serial", "stored"),
    [
        ("L01X00T47", "L01X00T47"),
        ("l01x00t47", "L01X00T47"),  # stored as printed on the card: in capitals
        ("C4J9KRTZF", "C4J9KRTZF"),
        (" T22000129 ", "T22000129"),
        ("L01X 00T47", "L01X00T47"),  # typed in groups
    ],
)
def test_german_serial_numbers_of_nine_allowed_characters_are_accepted(
    serial: str, stored: str
) -> None:
    result = check({**ADULT, "document_number": serial})
    assert result.is_valid, result.errors
    assert result.cleaned["persons"][0]["document_number"] == stored


@freeze_time(TODAY)
@pytest.mark.parametrize(
    "serial",
    [
        "LO1X00T47",  # the letter O: never part of a serial number
        "L01X00T4",  # eight characters
        "L01X00T477",  # ten
        "ABEDIUSQO",  # vowels, B, D, S, Q are not used
        "L01X-00T4",
        "123",
    ],
)
def test_other_serial_numbers_are_refused_with_the_rule(serial: str) -> None:
    result = check({**ADULT, "document_number": serial})
    message = errors(result)["persons__1__document_number"]
    assert "9 Zeichen" in message and "L01X00T47" in message


@freeze_time(TODAY)
def test_another_document_takes_its_own_number_but_not_garbage() -> None:
    foreign = {**ADULT, "document_type": "other", "document_number": ""}
    accepted = check({**foreign, "document_number_other": "YA 1234567"})
    assert accepted.is_valid, accepted.errors
    assert accepted.cleaned["persons"][0]["document_number_other"] == "YA 1234567"
    assert "document_number" not in accepted.cleaned["persons"][0]
    refused = check({**foreign, "document_number_other": "#!"})
    assert "persons__1__document_number_other" in errors(refused)
    missing = check(foreign)
    assert errors(missing) == {
        "persons__1__document_number_other": "Bitte füllen Sie dieses Feld aus."
    }


# --- the document's dates ---------------------------------------------------------------------


@freeze_time(TODAY)
def test_an_expired_document_is_refused_and_the_way_out_is_named() -> None:
    result = check({**ADULT, **day("document_valid_until", "2026-11-19")})
    message = errors(result)["persons__1__document_valid_until"]
    assert "abgelaufen" in message and "„Nein“" in message
    assert result.errors[0].anchor == "field-persons-1-document_valid_until-day"


@freeze_time(TODAY)
def test_a_document_valid_until_today_is_accepted() -> None:
    result = check({**ADULT, **day("document_valid_until", "2026-11-20")})
    assert result.is_valid, result.errors


@freeze_time(TODAY)
def test_the_document_dates_must_fit_each_other_and_the_birth() -> None:
    fitting = check(
        {
            **ADULT,
            **day("document_issued_on", "2026-05-02"),
            **day("document_valid_until", "2026-12-01"),
            **day("birth_date", "1985-03-27"),
        }
    )
    assert fitting.is_valid, fitting.errors
    before_issue = check(
        {
            **ADULT,
            **day("document_issued_on", "2026-11-20"),
            **day("document_valid_until", "2026-11-20"),
        }
    )
    assert "nach dem Ausstellungsdatum" in errors(before_issue)["persons__1__document_valid_until"]
    before_birth = check({**ADULT, **day("document_issued_on", "1980-01-01")})
    assert "vor der Geburt" in errors(before_birth)["persons__1__document_issued_on"]
    future = check({**ADULT, **day("document_issued_on", "2026-12-01")})
    assert "persons__1__document_issued_on" in errors(future)


# --- marital status ---------------------------------------------------------------------------


@freeze_time(TODAY)
@pytest.mark.parametrize("status", ["married", "partnership"])
def test_married_people_give_date_and_place_of_the_marriage(status: str) -> None:
    married = {**ADULT, "marital_status": status}
    missing = check(married)
    assert set(errors(missing)) == {"persons__1__marriage_date", "persons__1__marriage_place"}
    complete = check({**married, **day("marriage_date", "2012-06-14"), "marriage_place": "Wien"})
    assert complete.is_valid, complete.errors
    assert complete.cleaned["persons"][0]["marriage_date"] == "2012-06-14"


@freeze_time(TODAY)
@pytest.mark.parametrize(
    ("married_on", "expected"),
    [("2026-11-21", "in der Zukunft"), ("1985-03-26", "vor der Geburt")],
)
def test_a_marriage_neither_in_the_future_nor_before_the_birth(
    married_on: str, expected: str
) -> None:
    result = check(
        {
            **ADULT,
            "marital_status": "married",
            "marriage_place": "Wuppertal",
            **day("marriage_date", married_on),
        }
    )
    assert expected in errors(result)["persons__1__marriage_date"]


@freeze_time(TODAY)
def test_a_marriage_on_the_day_of_birth_is_not_refused_by_the_birth_rule() -> None:
    """Only "not before the birth": the clerk judges the rest (no age limit is checked here)."""
    result = check(
        {
            **ADULT,
            "marital_status": "married",
            "marriage_place": "Wuppertal",
            **day("marriage_date", "1985-03-27"),
        }
    )
    assert result.is_valid, result.errors


@freeze_time(TODAY)
def test_a_marriage_date_of_a_single_person_is_not_kept() -> None:
    result = check({**ADULT, **day("marriage_date", "2012-06-14"), "marriage_place": "Wien"})
    assert result.is_valid, result.errors
    assert "marriage_date" not in result.cleaned["persons"][0]
    assert "marriage_place" not in result.cleaned["persons"][0]


# --- state of birth and nationalities ---------------------------------------------------------


@freeze_time(TODAY)
def test_state_of_birth_and_nationalities_are_iso_codes_from_the_list() -> None:
    result = check({**ADULT, "birth_country": "PL", "nationality": "DE", "nationality_2": "PL"})
    assert result.is_valid, result.errors
    person = result.cleaned["persons"][0]
    assert (person["birth_country"], person["nationality"], person["nationality_2"]) == (
        "PL",
        "DE",
        "PL",
    )
    typed = check({**ADULT, "nationality": "deutsch", "birth_country": "Polen"})
    assert errors(typed) == {
        "persons__1__nationality": "Wählen Sie einen der angebotenen Staaten aus.",
        "persons__1__birth_country": "Wählen Sie einen der angebotenen Staaten aus.",
    }


@freeze_time(TODAY)
def test_a_nationality_is_not_given_twice() -> None:
    twice = check({**ADULT, "nationality": "DE", "nationality_2": "DE"})
    assert errors(twice) == {
        "persons__1__nationality_2": "Diese Staatsangehörigkeit ist schon als erste angegeben."
    }
    third = check({**ADULT, "nationality_2": "IT", "nationality_3": "IT"})
    assert errors(third) == {
        "persons__1__nationality_3": "Diese Staatsangehörigkeit ist schon als weitere angegeben."
    }
    three = check({**ADULT, "nationality_2": "IT", "nationality_3": "BR"})
    assert three.is_valid, three.errors
    assert three.cleaned["persons"][0]["nationality_3"] == "BR"


@freeze_time(TODAY)
def test_a_stateless_person_has_no_further_nationality() -> None:
    stateless = check({**ADULT, "nationality": "XXA", "nationality_2": "IT", "nationality_3": "BR"})
    assert stateless.is_valid, stateless.errors
    person = stateless.cleaned["persons"][0]
    assert person["nationality"] == "XXA"
    assert "nationality_2" not in person and "nationality_3" not in person
    # the statuses are no state: only the first field offers them
    assert errors(check({**ADULT, "nationality_2": "XXA"})) == {
        "persons__1__nationality_2": "Wählen Sie einen der angebotenen Staaten aus."
    }
    # a third without a second is not asked
    skipped = check({**ADULT, "nationality_3": "BR"})
    assert skipped.is_valid and "nationality_3" not in skipped.cleaned["persons"][0]


@freeze_time(TODAY)
@pytest.mark.parametrize(
    ("language", "labels", "names"),
    [
        (
            "de",
            ("Staatsangehörigkeit", "Weitere Staatsangehörigkeit", "Geburtsstaat"),
            ("Deutschland", "Österreich", "Polen"),
        ),
        (
            "en",
            ("Nationality", "Further nationality", "Country of birth"),
            ("Germany", "Austria", "Poland"),
        ),
    ],
)
def test_nationalities_are_shown_by_name_in_the_readers_language(
    language: str, labels: tuple[str, ...], names: tuple[str, ...]
) -> None:
    result = check({**ADULT, "nationality": "DE", "nationality_2": "AT", "birth_country": "PL"})
    assert result.is_valid, result.errors
    with translation.override(language):
        sections = describe_answers(anmeldung(), result.cleaned)
    person = next(s for s in sections if s.step_id == "people").rows[0].children[0]
    shown = {row.label: row.text for row in person}
    assert tuple(shown[label] for label in labels) == names


# --- religious society ------------------------------------------------------------------------


@freeze_time(TODAY)
def test_another_religious_society_must_be_named() -> None:
    unnamed = check({**ADULT, "religion": "other"})
    assert errors(unnamed) == {"persons__1__religion_other": "Bitte füllen Sie dieses Feld aus."}
    named = check({**ADULT, "religion": "other", "religion_other": "Neuapostolische Kirche"})
    assert named.is_valid, named.errors
    assert named.cleaned["persons"][0]["religion_other"] == "Neuapostolische Kirche"
    listed = check({**ADULT, "religion": "ev", "religion_other": "Neuapostolische Kirche"})
    assert "religion_other" not in listed.cleaned["persons"][0]


# --- names ------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_only_a_doctoral_degree_is_taken_as_one() -> None:
    doctor = check({**ADULT, "doctoral_degree": "Dr. med.", "birth_name": "Musterfrau"})
    assert doctor.is_valid, doctor.errors
    assert doctor.cleaned["persons"][0]["birth_name"] == "Musterfrau"
    professor = check({**ADULT, "doctoral_degree": "Prof."})
    assert "nur den Doktorgrad" in errors(professor)["persons__1__doctoral_degree"]


# --- children ---------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_a_child_without_an_own_document_is_registered_without_document_data() -> None:
    result = check(ADULT, {**CHILD, "document_number": "garbage", "document_authority": "?"})
    assert result.is_valid, result.errors
    _adult, child = result.cleaned["persons"]
    assert child["has_document"] is False
    assert not {key for key in child if key.startswith("document_")}


@freeze_time(TODAY)
def test_the_document_question_must_be_answered_for_everyone() -> None:
    child = {key: value for key, value in CHILD.items() if key != "has_document"}
    result = check(child)
    assert errors(result) == {"persons__1__has_document": "Bitte wählen Sie eine Antwort aus."}


# --- through the real flow --------------------------------------------------------------------


@pytest.fixture
def logged_in(client: Client, citizen: User) -> Client:
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


def _post(client: Client, url: str, data: dict[str, Any]) -> str:
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return str(response["Location"])


def test_a_parent_with_an_id_card_and_a_child_without_one_are_registered_together(
    logged_in: Client, wuppertal: Municipality
) -> None:
    moved_in = timezone.localdate() - datetime.timedelta(days=2)
    start = logged_in.post("/antraege/neu/wohnsitz-anmelden/", {"gemeinde": "wuppertal"})
    assert start.status_code == 302
    application = Application.objects.get()
    base = f"/antraege/{application.public_id}"
    step = _post(
        logged_in,
        f"{base}/schritt/move/",
        {
            **day("move_in_date", moved_in.isoformat()),
            "new_address__street": "Friedrich-Engels-Allee",
            "new_address__house_number": "12",
            "new_address__postal_code": "42283",
            "new_address__place": "Wuppertal",
            "residence_kind": "main",
        },
    )
    step = _post(logged_in, step, {"previous_kept": "no"})
    assert step.endswith("/schritt/people/")
    # the adult's expired ID is refused at the field, and nothing typed is lost
    expired = {**ADULT, **day("document_valid_until", "2020-01-01")}
    refused = logged_in.post(step, people(expired, CHILD))
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'href="#field-persons-1-document_valid_until-day"' in page
    assert 'value="Krakau"' in page and 'value="L01X00T47"' in page
    step = _post(logged_in, step, people(ADULT, CHILD))
    assert step.endswith("/schritt/landlord/")
    review = _post(logged_in, step, {"landlord_way": "own_property"})
    assert review.endswith("/pruefen/")

    shown = logged_in.get(review).content.decode()
    assert "L01X00T47" in shown and "Paul Mustermann" in shown and "Krakau" in shown
    # the child's row lists no document questions, the adult's does
    assert shown.count("Seriennummer des Personalausweises oder Reisepasses") == 1
    sent = logged_in.post(review, {"submission_key": "meldeschein", "confirm": "yes"})
    assert sent.status_code == 302, sent.content.decode()[:3000]

    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    adult, child = application.submitted_data["persons"]
    assert adult["document_number"] == "L01X00T47"
    assert adult["document_authority"] == "Stadt Wuppertal"
    assert child["has_document"] is False and child["birth_country"] == "PL"
    assert (child["nationality"], child["nationality_2"]) == ("DE", "PL")
    assert not {key for key in child if key.startswith("document_")}
    # as the receipt and the clerk's case page read them
    sections = describe_answers(anmeldung(), application.submitted_data)
    rows = next(section for section in sections if section.step_id == "people").rows[0]
    labels = [[row.label for row in person] for person in rows.children]
    assert "Gültig bis" in labels[0] and "Gültig bis" not in labels[1]


# --- the Meldebestätigung ---------------------------------------------------------------------


@freeze_time(TODAY)
def test_the_confirmation_names_the_doctoral_degree_and_nothing_of_the_document() -> None:
    """§ 24 Abs. 2 BMG: names, doctoral degree, birth date, dates and address, no more."""
    result = check({**ADULT, "doctoral_degree": "Dr.", "religion": "ev"}, CHILD)
    assert result.is_valid, result.errors
    answers = {
        "move_in_date": "2026-11-18",
        "new_address": {
            "street": "Neumarkt",
            "house_number": "10",
            "postal_code": "42103",
            "place": "Wuppertal",
        },
        "residence_kind": "main",
        **result.cleaned,
    }
    values = dict.fromkeys(PLACEHOLDERS, "x") | {"particulars": template_values(answers)}
    body = notice_templates.template("wohnsitz-anmelden", "granted").fill(values)["body"]
    assert "- Dr. Erika Mustermann, geboren am 27.03.1985" in body
    assert "- Paul Mustermann, geboren am 14.02.2019" in body
    assert "L01X00T47" not in body and "evangelisch" not in body
