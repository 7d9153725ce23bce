"""Elections in the admin: their postal vote deadlines decide which applications are taken."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from rathaus.core.models import AuditEvent, Authority
from rathaus.registers.models import BERLIN, Election


def test_changing_and_deleting_an_election_in_the_admin_is_audited(
    admin_client: Client, registration_office: Authority
) -> None:
    town = registration_office.municipality
    election = Election.objects.create(
        municipality=town, name="Kommunalwahl 2030", election_day=datetime.date(2030, 9, 15)
    )

    answer = admin_client.post(
        f"/admin/registers/election/{election.pk}/change/",
        {
            "municipality": town.pk,
            "name": "Kommunalwahl 2030",
            "election_day": "2030-09-15",
            "postal_vote_from_0": "",
            "postal_vote_from_1": "",
            "postal_vote_deadline_0": "2030-09-12",
            "postal_vote_deadline_1": "18:00:00",
            "vote_key": "",
            "minimum_age": "18",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    changed = AuditEvent.objects.get(action="admin.registers.election.changed")
    assert list(changed.after) == ["postal_vote_deadline"]
    assert changed.municipality == town

    admin_client.post(f"/admin/registers/election/{election.pk}/delete/", {"post": "yes"})
    assert not Election.objects.exists()
    assert AuditEvent.objects.filter(action="admin.registers.election.deleted").exists()


def _form(town_pk: int, election_day: str, **more: str) -> dict[str, str]:
    return {
        "municipality": str(town_pk),
        "name": "Bundestagswahl",
        "election_day": election_day,
        "postal_vote_from_0": "",
        "postal_vote_from_1": "",
        "postal_vote_deadline_0": "",
        "postal_vote_deadline_1": "",
        **more,
    }


@pytest.mark.parametrize("election_day", ["0001-01-01", "0001-01-03", "1900-05-01", "9999-12-31"])
def test_an_absurd_election_day_is_refused_in_the_admin_with_a_message(
    admin_client: Client, registration_office: Authority, election_day: str
) -> None:
    answer = admin_client.post(
        "/admin/registers/election/add/",
        _form(registration_office.municipality.pk, election_day),
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert answer.status_code == 200
    assert "Bitte geben Sie einen Wahltag zwischen" in answer.content.decode()
    assert not Election.objects.exists()


@pytest.mark.parametrize(
    ("deadline", "opens", "field"),
    [
        (("2030-09-16", "00:00:00"), ("", ""), "postal_vote_deadline"),
        (("2030-09-15", "15:01:00"), ("", ""), "postal_vote_deadline"),
        (("0001-01-01", "00:00:00"), ("", ""), "postal_vote_deadline"),
        (("9999-12-31", "23:59:59"), ("", ""), "postal_vote_deadline"),
        (("", ""), ("2030-09-14", "00:00:00"), "postal_vote_from"),
        (("", ""), ("0001-01-01", "00:00:00"), "postal_vote_from"),
        (("2030-09-13", "18:00:00"), ("2030-09-13", "18:00:00"), "postal_vote_from"),
    ],
)
def test_postal_vote_dates_outside_the_weeks_before_the_election_are_refused(
    registration_office: Authority,
    deadline: tuple[str, str],
    opens: tuple[str, str],
    field: str,
) -> None:
    def moment(parts: tuple[str, str]) -> datetime.datetime | None:
        if not parts[0]:
            return None
        local = datetime.datetime.fromisoformat(f"{parts[0]}T{parts[1]}")
        return local.replace(tzinfo=BERLIN)

    election = Election(
        municipality=registration_office.municipality,
        name="Kommunalwahl 2030",
        election_day=datetime.date(2030, 9, 15),
        postal_vote_deadline=moment(deadline),
        postal_vote_from=moment(opens),
    )
    with pytest.raises(ValidationError) as error:
        election.full_clean()
    assert list(error.value.message_dict) == [field]


def test_an_election_with_the_legal_deadlines_is_valid(registration_office: Authority) -> None:
    election = Election(
        municipality=registration_office.municipality,
        name="Kommunalwahl 2030",
        election_day=datetime.date(2030, 9, 15),
        postal_vote_from=datetime.datetime(2030, 8, 1, 8, 0, tzinfo=BERLIN),
    )
    election.full_clean()
    election.save()
    assert election.postal_vote_deadline == datetime.datetime(2030, 9, 13, 18, 0, tzinfo=BERLIN)
    # § 27 Abs. 4 Satz 2 BWahlO: in case of sudden illness until 15:00 on the election day.
    election.postal_vote_deadline = datetime.datetime(2030, 9, 15, 15, 0, tzinfo=BERLIN)
    election.full_clean()


def test_an_absurd_election_day_is_a_validation_error_not_an_overflow(
    registration_office: Authority,
) -> None:
    election = Election(
        municipality=registration_office.municipality,
        name="Wahl",
        election_day=datetime.date.min,
        postal_vote_deadline=datetime.datetime(1, 1, 1, 0, 0, tzinfo=BERLIN),
        postal_vote_from=datetime.datetime(1, 1, 1, 0, 0, tzinfo=BERLIN),
    )
    with translation.override("en"), pytest.raises(ValidationError) as error:
        election.full_clean()
    assert list(error.value.message_dict) == ["election_day"]
    assert "Please enter an election day between" in error.value.message_dict["election_day"][0]


@pytest.mark.parametrize(
    "query",
    [
        "election/?election_day__year=9999",
        "election/?election_day__year=9999&election_day__month=12",
        "election/?election_day__year=9999&election_day__month=12&election_day__day=31",
        "election/?election_day__year=0",
        "landlordconfirmation/?created_at__year=9999",
    ],
)
def test_the_register_lists_refuse_absurd_date_filters_without_an_error(
    admin_client: Client, registration_office: Authority, query: str
) -> None:
    answer = admin_client.get(f"/admin/registers/{query}")
    assert answer.status_code == 302
    assert answer["Location"].endswith("?e=1")
