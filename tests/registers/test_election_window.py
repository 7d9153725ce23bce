"""When postal-vote applications are accepted, and on which days an election can be held.

Without ``postal_vote_from`` applications open in the year before the election at most
(``POSTAL_VOTE_WINDOW``), not years ahead; and the election day is a Sunday or a public holiday
(§ 16 Satz 2 BWahlG, and the Länder's election laws for theirs)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from freezegun import freeze_time

from rathaus.applications.errors import ApplicationError
from rathaus.applications.services import start_application
from rathaus.catalog.models import Service
from rathaus.core.models import Authority, Municipality
from rathaus.registers.models import BERLIN, Election, open_elections
from tests.accounts.factories import ProfileFactory

pytestmark = pytest.mark.django_db

BUNDESTAGSWAHL_2033 = datetime.date(2033, 9, 25)  # a Sunday
#: midnight in Berlin, POSTAL_VOTE_WINDOW (366 days) before 25.09.2033
WINDOW_OPENS = datetime.datetime(2032, 9, 24, 0, 0, tzinfo=BERLIN)
SATURDAY = datetime.date(2030, 9, 14)
FRONLEICHNAM = datetime.date(2030, 6, 20)  # a Thursday: a public holiday in NRW, not in Berlin
TAG_DER_DEUTSCHEN_EINHEIT = datetime.date(2030, 10, 3)  # a Thursday, everywhere


def _bundestagswahl(town: Municipality, **more: object) -> Election:
    return Election.objects.create(
        municipality=town,
        name="Bundestagswahl",
        election_day=BUNDESTAGSWAHL_2033,
        vote_key="btw-2033",
        **more,
    )


# --- the window ----------------------------------------------------------------------------------


def test_an_election_years_ahead_is_not_open_without_an_opening_date(
    registration_office: Authority,
) -> None:
    town = registration_office.municipality
    election = _bundestagswahl(town)
    with freeze_time(datetime.datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN)):
        assert not election.accepts_postal_vote_applications()
        assert open_elections(town) == []


def test_without_an_opening_date_applications_open_at_midnight_a_year_before(
    registration_office: Authority,
) -> None:
    town = registration_office.municipality
    election = _bundestagswahl(town)
    assert election.postal_vote_opens() == WINDOW_OPENS
    just_before = WINDOW_OPENS - datetime.timedelta(seconds=1)
    assert not election.accepts_postal_vote_applications(just_before)
    assert open_elections(town, just_before) == []
    assert election.accepts_postal_vote_applications(WINDOW_OPENS)
    assert open_elections(town, WINDOW_OPENS) == [election]


def test_an_opening_date_set_decides_when_applications_open(
    registration_office: Authority,
) -> None:
    town = registration_office.municipality
    opens = datetime.datetime(2033, 8, 1, 8, 0, tzinfo=BERLIN)
    election = _bundestagswahl(town, postal_vote_from=opens)
    assert election.postal_vote_opens() == opens
    assert open_elections(town, WINDOW_OPENS) == []
    assert open_elections(town, opens - datetime.timedelta(seconds=1)) == []
    assert open_elections(town, opens) == [election]
    after_deadline = election.postal_vote_deadline + datetime.timedelta(seconds=1)
    assert open_elections(town, after_deadline) == []


def test_the_briefwahl_service_does_not_offer_an_election_years_ahead(db: None) -> None:
    call_command("load_demo", verbosity=0)
    wuppertal = Municipality.objects.get(ags="05124000")
    _bundestagswahl(wuppertal)
    citizen = ProfileFactory().user
    briefwahl = Service.objects.get(slug="briefwahl")
    with (
        freeze_time(datetime.datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN)),
        pytest.raises(ApplicationError, match="keine Wahl für Briefwahlanträge"),
    ):
        start_application(
            applicant=citizen, service=briefwahl, municipality=wuppertal, trust_level="low"
        )


# --- the election day ----------------------------------------------------------------------------


def _form(town: Municipality, election_day: str) -> dict[str, str]:
    return {
        "municipality": str(town.pk),
        "name": "Kommunalwahl",
        "election_day": election_day,
        "postal_vote_from_0": "",
        "postal_vote_from_1": "",
        "postal_vote_deadline_0": "",
        "postal_vote_deadline_1": "",
        "vote_key": "",
        "minimum_age": "16",
    }


def test_a_saturday_is_refused_beside_the_election_day_and_what_was_typed_is_kept(
    admin_client: Client, registration_office: Authority
) -> None:
    answer = admin_client.post(
        "/admin/registers/election/add/",
        _form(registration_office.municipality, "2030-09-14"),
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert answer.status_code == 200
    errors = answer.context["adminform"].form.errors
    assert list(errors) == ["election_day"]
    assert errors["election_day"][0] == (
        "Der Wahltag muss ein Sonntag oder gesetzlicher Feiertag sein (§ 16 Satz 2 BWahlG und "
        "die Wahlgesetze der Länder); der 14.09.2030 ist ein Samstag."
    )
    assert 'value="2030-09-14"' in answer.content.decode()
    assert not Election.objects.exists()


def test_the_message_has_an_english_translation(registration_office: Authority) -> None:
    election = Election(
        municipality=registration_office.municipality, name="Wahl", election_day=SATURDAY
    )
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        election.full_clean()
    assert list(refused.value.message_dict) == ["election_day"]
    message = refused.value.message_dict["election_day"][0]
    assert message.startswith("The election day must be a Sunday or a public holiday")
    assert "is a Saturday" in message


@pytest.mark.parametrize(
    ("state", "election_day", "valid"),
    [
        (Municipality.State.NW, datetime.date(2030, 9, 15), True),  # a Sunday
        (Municipality.State.NW, SATURDAY, False),
        (Municipality.State.NW, datetime.date(2030, 9, 16), False),  # a Monday
        (Municipality.State.NW, TAG_DER_DEUTSCHEN_EINHEIT, True),
        (Municipality.State.BE, TAG_DER_DEUTSCHEN_EINHEIT, True),
        (Municipality.State.NW, FRONLEICHNAM, True),
        (Municipality.State.BE, FRONLEICHNAM, False),
    ],
)
def test_an_election_is_held_on_a_sunday_or_a_public_holiday_of_the_land(
    state: str, election_day: datetime.date, valid: bool
) -> None:
    town = Municipality.objects.create(name="Ort", slug="ort", ags="01234567", state=state)
    election = Election(municipality=town, name="Wahl", election_day=election_day)
    if valid:
        election.full_clean()
        return
    with pytest.raises(ValidationError) as refused:
        election.full_clean()
    assert list(refused.value.message_dict) == ["election_day"]


def test_a_sunday_is_accepted_in_the_admin(
    admin_client: Client, registration_office: Authority
) -> None:
    answer = admin_client.post(
        "/admin/registers/election/add/", _form(registration_office.municipality, "2030-09-15")
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert Election.objects.get().election_day == datetime.date(2030, 9, 15)
