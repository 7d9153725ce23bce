"""The § 17 BMG warning counts the municipality's Land's public holidays: two weeks after a
move-in on 13.05.2027 end on Corpus Christi (27.05.2027), a public holiday in North
Rhine-Westphalia but not nationwide, so in Wuppertal the period runs until Friday 28.05."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.core.models import Municipality

pytestmark = pytest.mark.django_db

LATE = "Anmeldefrist (§ 17 BMG) ist überschritten"


def _move_step(client: Client, citizen: User, moved_in: datetime.date) -> str:
    client.force_login(citizen)  # on the frozen day: a session of today would have expired
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    start = client.post("/antraege/neu/wohnsitz-anmelden/", {"gemeinde": "wuppertal"})
    assert start.status_code == 302
    application = Application.objects.latest("pk")
    response = client.post(
        f"/antraege/{application.public_id}/schritt/move/",
        {
            "move_in_date__day": str(moved_in.day),
            "move_in_date__month": str(moved_in.month),
            "move_in_date__year": str(moved_in.year),
            "new_address__street": "Friedrich-Engels-Allee",
            "new_address__house_number": "12",
            "new_address__postal_code": "42283",
            "new_address__place": "Wuppertal",
            "residence_kind": "main",
        },
    )
    return response.content.decode() if response.status_code == 200 else ""


def test_a_period_ending_on_a_holiday_of_the_land_runs_to_the_next_working_day(
    client: Client, citizen: User, wuppertal: Municipality
) -> None:
    assert wuppertal.state == Municipality.State.NW
    moved_in = datetime.date(2027, 5, 13)
    with freeze_time("2027-05-28 10:00:00"):
        assert LATE not in _move_step(client, citizen, moved_in)
    with freeze_time("2027-05-31 10:00:00"):  # the Monday after: late
        assert LATE in _move_step(client, citizen, moved_in)
