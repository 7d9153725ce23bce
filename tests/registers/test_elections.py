"""Elections in the admin: their postal vote deadlines decide which applications are taken."""

from __future__ import annotations

import datetime

from django.test import Client

from rathaus.core.models import AuditEvent, Authority
from rathaus.registers.models import Election


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
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    changed = AuditEvent.objects.get(action="admin.registers.election.changed")
    assert list(changed.after) == ["postal_vote_deadline"]
    assert changed.municipality == town

    admin_client.post(f"/admin/registers/election/{election.pk}/delete/", {"post": "yes"})
    assert not Election.objects.exists()
    assert AuditEvent.objects.filter(action="admin.registers.election.deleted").exists()
