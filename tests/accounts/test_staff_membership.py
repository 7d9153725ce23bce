"""Staff membership is remembered in the session: no group query on a citizen's every request,
yet the admin site and the back office always ask afresh."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.accounts.roles import STAFF_RECHECK_SECONDS, STAFF_SESSION_KEY
from tests.accounts.conftest import log_in

pytestmark = pytest.mark.django_db


def _group_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return sum('"auth_group"' in q["sql"] for q in queries.captured_queries)


def test_login_remembers_that_a_citizen_is_not_staff(client: Client, citizen: User) -> None:
    log_in(client, citizen)
    assert client.session[STAFF_SESSION_KEY][:2] == [citizen.pk, False]
    assert _group_queries(client, "/antraege/") == 0
    assert client.get("/konto/").status_code == 200


def test_a_clerk_is_sent_to_set_up_a_second_factor_on_every_page(client: Client) -> None:
    from tests.accounts.factories import UserFactory

    clerk = UserFactory()
    clerk.groups.add(Group.objects.get(name="clerk"))
    log_in(client, clerk)
    assert client.session[STAFF_SESSION_KEY][:2] == [clerk.pk, True]
    for path in ("/konto/", "/leistungen/", "/backoffice/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/konto/2fa/", path


def test_a_citizen_made_clerk_is_caught_at_once_in_the_back_office_and_soon_everywhere(
    client: Client, citizen: User
) -> None:
    start = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=datetime.UTC)
    with freeze_time(start):
        log_in(client, citizen)
        citizen.groups.add(Group.objects.get(name="clerk"))
        assert client.get("/backoffice/")["Location"] == "/konto/2fa/"
        assert client.get("/konto/").status_code == 200  # remembered answer, not yet stale
    with freeze_time(start + datetime.timedelta(seconds=STAFF_RECHECK_SECONDS + 1)):
        assert client.get("/konto/")["Location"] == "/konto/2fa/"
        assert client.session[STAFF_SESSION_KEY][:2] == [citizen.pk, True]


def test_a_session_without_the_remembered_answer_asks_the_groups(
    client: Client, citizen: User
) -> None:
    log_in(client, citizen)
    session = client.session
    del session[STAFF_SESSION_KEY]
    session.save()
    assert _group_queries(client, "/antraege/") == 1
    assert client.session[STAFF_SESSION_KEY][:2] == [citizen.pk, False]
    assert _group_queries(client, "/antraege/") == 0
