"""Moving an election's day in the admin: a default Wahlschein deadline (§ 27 Abs. 4 BWahlO)
moves with it, a deadline set by hand must be entered again."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client

from rathaus.core.models import AuditEvent, Authority
from rathaus.registers.models import BERLIN, Election

pytestmark = pytest.mark.django_db


def _post(
    client: Client, election: Election, *, day: str, deadline: tuple[str, str], lang: str = "de"
) -> object:
    return client.post(
        f"/admin/registers/election/{election.pk}/change/",
        {
            "municipality": election.municipality.pk,
            "name": election.name,
            "election_day": day,
            "postal_vote_from_0": "",
            "postal_vote_from_1": "",
            "postal_vote_deadline_0": deadline[0],
            "postal_vote_deadline_1": deadline[1],
            "vote_key": "",
            "minimum_age": "18",
        },
        HTTP_ACCEPT_LANGUAGE=lang,
    )


def _election(office: Authority, **more: object) -> Election:
    fields: dict[str, object] = {
        "name": "Kommunalwahl 2030",
        "election_day": datetime.date(2030, 9, 15),
        **more,
    }
    return Election.objects.create(municipality=office.municipality, **fields)


def test_moving_the_election_day_moves_the_default_deadline_and_the_audit_shows_it(
    admin_client: Client, registration_office: Authority
) -> None:
    election = _election(registration_office)
    assert election.postal_vote_deadline == datetime.datetime(2030, 9, 13, 18, tzinfo=BERLIN)

    # the form shows the stored deadline, which the admin leaves as it is
    answer = _post(admin_client, election, day="2030-09-22", deadline=("2030-09-13", "18:00:00"))

    assert answer.status_code == 302  # type: ignore[attr-defined]
    election.refresh_from_db()
    assert election.election_day == datetime.date(2030, 9, 22)
    assert election.postal_vote_deadline == datetime.datetime(2030, 9, 20, 18, tzinfo=BERLIN)
    told = [str(m) for m in get_messages(answer.wsgi_request)]  # type: ignore[attr-defined]
    assert "Die Antragsfrist wurde mit dem Wahltag auf den 20.09.2030 18:00 verschoben." in told
    changed = AuditEvent.objects.get(action="admin.registers.election.changed")
    assert sorted(changed.after) == ["election_day", "postal_vote_deadline"]
    moment = datetime.datetime.fromisoformat
    assert moment(changed.before["postal_vote_deadline"]) == datetime.datetime(
        2030, 9, 13, 18, tzinfo=BERLIN
    )
    assert moment(changed.after["postal_vote_deadline"]) == datetime.datetime(
        2030, 9, 20, 18, tzinfo=BERLIN
    )


def test_a_deadline_set_by_hand_is_not_kept_silently_when_the_day_moves(
    admin_client: Client, registration_office: Authority
) -> None:
    custom = datetime.datetime(2030, 9, 10, 12, tzinfo=BERLIN)
    election = _election(registration_office, postal_vote_deadline=custom)

    answer = _post(admin_client, election, day="2030-09-22", deadline=("2030-09-10", "12:00:00"))

    assert answer.status_code == 200  # type: ignore[attr-defined]
    errors = answer.context["adminform"].form.errors  # type: ignore[attr-defined]
    assert list(errors) == ["postal_vote_deadline"]
    message = errors["postal_vote_deadline"][0]
    assert "Der Wahltag wurde verschoben" in message
    assert "20.09.2030 18:00" in message  # the usual deadline for the new day
    assert 'value="2030-09-22"' in answer.content.decode()  # what was typed is kept
    election.refresh_from_db()
    assert election.election_day == datetime.date(2030, 9, 15)
    assert election.postal_vote_deadline == custom
    assert not AuditEvent.objects.filter(action="admin.registers.election.changed").exists()


def test_the_message_has_an_english_translation(
    admin_client: Client, registration_office: Authority
) -> None:
    custom = datetime.datetime(2030, 9, 10, 12, tzinfo=BERLIN)
    election = _election(registration_office, postal_vote_deadline=custom)
    answer = _post(
        admin_client, election, day="2030-09-22", deadline=("2030-09-10", "12:00:00"), lang="en"
    )
    errors = answer.context["adminform"].form.errors  # type: ignore[attr-defined]
    assert "The election day was moved" in errors["postal_vote_deadline"][0]


def test_a_deadline_changed_together_with_the_day_is_taken_as_typed(
    admin_client: Client, registration_office: Authority
) -> None:
    election = _election(
        registration_office, postal_vote_deadline=datetime.datetime(2030, 9, 10, 12, tzinfo=BERLIN)
    )

    answer = _post(admin_client, election, day="2030-09-22", deadline=("2030-09-19", "12:00:00"))

    assert answer.status_code == 302  # type: ignore[attr-defined]
    election.refresh_from_db()
    assert election.election_day == datetime.date(2030, 9, 22)
    assert election.postal_vote_deadline == datetime.datetime(2030, 9, 19, 12, tzinfo=BERLIN)
    changed = AuditEvent.objects.get(action="admin.registers.election.changed")
    assert sorted(changed.after) == ["election_day", "postal_vote_deadline"]


def test_a_default_deadline_changed_together_with_the_day_is_taken_as_typed(
    admin_client: Client, registration_office: Authority
) -> None:
    election = _election(registration_office)

    # the sudden-illness deadline of § 27 Abs. 4 Satz 2 BWahlO for the new day
    answer = _post(admin_client, election, day="2030-09-22", deadline=("2030-09-22", "15:00:00"))

    assert answer.status_code == 302  # type: ignore[attr-defined]
    election.refresh_from_db()
    assert election.postal_vote_deadline == datetime.datetime(2030, 9, 22, 15, tzinfo=BERLIN)


def test_a_custom_deadline_stays_when_the_day_is_not_moved(
    admin_client: Client, registration_office: Authority
) -> None:
    custom = datetime.datetime(2030, 9, 10, 12, tzinfo=BERLIN)
    election = _election(registration_office, postal_vote_deadline=custom)
    election.name = "Kommunalwahl 2030 (Stadtrat)"

    answer = _post(admin_client, election, day="2030-09-15", deadline=("2030-09-10", "12:00:00"))

    assert answer.status_code == 302  # type: ignore[attr-defined]
    election.refresh_from_db()
    assert election.name == "Kommunalwahl 2030 (Stadtrat)"
    assert election.postal_vote_deadline == custom


# --- outside the admin: a shell, a loader, a command, a queryset update ---------------------------


def test_saving_a_moved_day_moves_the_default_deadline(registration_office: Authority) -> None:
    election = _election(registration_office)
    election.election_day = datetime.date(2030, 9, 22)
    election.save()
    election.refresh_from_db()
    assert election.postal_vote_deadline == datetime.datetime(2030, 9, 20, 18, tzinfo=BERLIN)


def test_a_queryset_update_of_the_day_moves_the_default_deadline(
    registration_office: Authority,
) -> None:
    election = _election(registration_office)
    other = _election(registration_office, name="Bürgermeisterwahl 2030")
    changed = Election.objects.filter(pk=election.pk).update(election_day=datetime.date(2030, 9, 8))
    assert changed == 1
    election.refresh_from_db()
    assert election.election_day == datetime.date(2030, 9, 8)
    assert election.postal_vote_deadline == datetime.datetime(2030, 9, 6, 18, tzinfo=BERLIN)
    other.refresh_from_db()  # not in the update: untouched
    assert other.postal_vote_deadline == datetime.datetime(2030, 9, 13, 18, tzinfo=BERLIN)


def test_an_update_by_expression_moves_each_default_deadline(
    registration_office: Authority,
) -> None:
    from django.db.models import F

    _election(registration_office)
    _election(registration_office, name="Stichwahl", election_day=datetime.date(2030, 9, 29))
    Election.objects.update(election_day=F("election_day") + datetime.timedelta(days=7))
    assert sorted(Election.objects.values_list("election_day", "postal_vote_deadline")) == [
        (datetime.date(2030, 9, 22), datetime.datetime(2030, 9, 20, 18, tzinfo=BERLIN)),
        (datetime.date(2030, 10, 6), datetime.datetime(2030, 10, 4, 18, tzinfo=BERLIN)),
    ]


def test_a_deadline_set_by_hand_is_not_kept_silently_outside_the_admin(
    registration_office: Authority,
) -> None:
    custom = datetime.datetime(2030, 9, 10, 12, tzinfo=BERLIN)
    election = _election(registration_office, postal_vote_deadline=custom)
    election.election_day = datetime.date(2030, 9, 22)
    with pytest.raises(ValidationError) as refused:
        election.save()
    assert "postal_vote_deadline" in refused.value.message_dict
    with pytest.raises(ValidationError):
        Election.objects.filter(pk=election.pk).update(election_day=datetime.date(2030, 9, 22))
    election.refresh_from_db()
    assert (election.election_day, election.postal_vote_deadline) == (
        datetime.date(2030, 9, 15),
        custom,
    )


def test_a_day_moved_before_the_deadline_is_refused_outside_the_admin(
    registration_office: Authority,
) -> None:
    # moved together with a deadline that now lies after the new election day
    election = _election(registration_office)
    election.election_day = datetime.date(2030, 9, 1)
    election.postal_vote_deadline = datetime.datetime(2030, 9, 10, 12, tzinfo=BERLIN)
    with pytest.raises(ValidationError) as refused:
        election.save()
    assert "postal_vote_deadline" in refused.value.message_dict
    with pytest.raises(ValidationError):
        Election.objects.filter(pk=election.pk).update(
            election_day=datetime.date(2030, 9, 1),
            postal_vote_deadline=datetime.datetime(2030, 9, 13, 18, tzinfo=BERLIN),
        )
    election.refresh_from_db()
    assert election.election_day == datetime.date(2030, 9, 15)


def test_day_and_deadline_changed_together_outside_the_admin_are_taken_as_given(
    registration_office: Authority,
) -> None:
    election = _election(registration_office)
    election.election_day = datetime.date(2030, 9, 22)
    election.postal_vote_deadline = datetime.datetime(2030, 9, 19, 12, tzinfo=BERLIN)
    election.save()
    election.refresh_from_db()
    assert election.postal_vote_deadline == datetime.datetime(2030, 9, 19, 12, tzinfo=BERLIN)


def test_bulk_update_of_the_day_moves_the_default_deadline(
    registration_office: Authority,
) -> None:
    election = _election(registration_office)
    election.election_day = datetime.date(2030, 9, 22)
    Election.objects.bulk_update([election], ["election_day"])
    election.refresh_from_db()
    assert election.postal_vote_deadline == datetime.datetime(2030, 9, 20, 18, tzinfo=BERLIN)
