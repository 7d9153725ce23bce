"""A logged-in session ends SESSION_COOKIE_AGE after the login at the latest, however busy
(privacy notice, Art. 13 GDPR: "deleted after … hours at the latest"; rathaus.core.sessions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.test import Client
from freezegun import freeze_time

from rathaus.accounts.roles import CLERK
from rathaus.core.sessions import LOGIN_AT_KEY
from tests.accounts.conftest import log_in
from tests.accounts.factories import PASSWORD, UserFactory
from tests.backoffice.conftest import staff_login

pytestmark = pytest.mark.django_db

LOGIN = "2026-03-02 08:00:00"
AGE = timedelta(seconds=settings.SESSION_COOKIE_AGE)


def _stored_session(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_a_session_ends_at_the_latest_session_cookie_age_after_the_login() -> None:
    user = UserFactory()
    client = Client()
    with freeze_time(LOGIN) as clock:
        assert client.login(email=user.email, password=PASSWORD)
        assert client.get("/konto/").status_code == 200
        clock.tick(AGE - timedelta(minutes=10))
        # in use all the while: the staff answer in the session is renewed, the session saved
        assert client.get("/konto/").status_code == 200
        clock.tick(timedelta(minutes=20))  # 8 h 10 min after the login
        answer = client.get("/konto/")
    assert answer.status_code == 302, answer.status_code
    assert answer["Location"].startswith("/konto/login/")


def test_a_session_kept_busy_every_few_minutes_still_ends_after_the_login_age(
    citizen: object,
) -> None:
    client = Client()
    with freeze_time(LOGIN) as clock:
        log_in(client, citizen)  # type: ignore[arg-type]
        for _request in range(int(AGE / timedelta(minutes=30)) - 1):
            clock.tick(timedelta(minutes=30))
            assert client.get("/konto/").status_code == 200
        clock.tick(timedelta(minutes=31))
        answer = client.get("/konto/")
    assert answer.status_code == 302
    assert not Session.objects.filter(expire_date__gt=datetime(2026, 3, 2, 16, tzinfo=UTC))


def test_a_staff_session_in_the_back_office_ends_after_the_login_age_too() -> None:
    clerk = UserFactory(email="clerk@stadt.example.org")
    clerk.groups.add(Group.objects.get_or_create(name=CLERK)[0])
    clerk.secret = generate_totp_secret()  # type: ignore[attr-defined]
    TOTP.activate(clerk, clerk.secret)  # type: ignore[attr-defined]
    with freeze_time(LOGIN) as clock:
        client = staff_login(Client(), clerk)
        assert client.get("/backoffice/").status_code == 200
        clock.tick(AGE - timedelta(minutes=5))
        assert client.get("/backoffice/").status_code == 200
        assert client.get("/konto/").status_code == 200
        clock.tick(timedelta(minutes=10))
        answer = client.get("/backoffice/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/konto/login/")


def test_an_idle_session_still_ends_session_cookie_age_after_its_last_use(
    citizen: object,
) -> None:
    client = Client()
    with freeze_time(LOGIN) as clock:
        log_in(client, citizen)  # type: ignore[arg-type]
        clock.tick(timedelta(hours=2))
        assert client.get("/konto/").status_code == 200
        clock.tick(AGE + timedelta(minutes=1))
        assert client.get("/konto/").status_code == 302


def test_the_remembered_cookie_lasts_no_longer_than_the_login(citizen: object) -> None:
    client = Client()
    with freeze_time(LOGIN) as clock:
        answer = client.post(
            "/konto/login/",
            {"login": citizen.email, "password": PASSWORD, "remember": "on"},  # type: ignore[attr-defined]
        )
        assert answer.status_code == 302
        assert answer.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == int(AGE.total_seconds())
        clock.tick(timedelta(hours=6))
        answer = client.get("/konto/")  # the staff answer is renewed: the session is saved
        assert answer.status_code == 200
    cookie = answer.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == int((AGE - timedelta(hours=6)).total_seconds())
    assert _stored_session(client).expire_date == datetime(2026, 3, 2, 8, tzinfo=UTC) + AGE


def test_a_session_for_while_the_browser_is_open_keeps_its_cookie_without_max_age(
    citizen: object,
) -> None:
    client = Client()
    with freeze_time(LOGIN) as clock:
        log_in(client, citizen)  # type: ignore[arg-type]
        clock.tick(timedelta(hours=6))
        answer = client.get("/konto/")
    assert answer.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""
    assert _stored_session(client).expire_date == datetime(2026, 3, 2, 8, tzinfo=UTC) + AGE


def test_a_session_from_before_login_times_were_kept_counts_from_its_first_use(
    citizen: object,
) -> None:
    client = Client()
    with freeze_time(LOGIN) as clock:
        log_in(client, citizen)  # type: ignore[arg-type]
        store = import_module(settings.SESSION_ENGINE).SessionStore(
            client.cookies[settings.SESSION_COOKIE_NAME].value
        )
        del store[LOGIN_AT_KEY]
        store.save()
        clock.tick(timedelta(hours=7))
        assert client.get("/konto/").status_code == 200  # the lifetime counts from now
        clock.tick(AGE - timedelta(minutes=1))
        assert client.get("/konto/").status_code == 200
        clock.tick(timedelta(minutes=2))
        assert client.get("/konto/").status_code == 302


def test_ended_sessions_are_deleted_by_the_periodic_job(citizen: object) -> None:
    from rathaus.core.sessions import delete_ended_sessions

    busy, idle = Client(), Client()
    with freeze_time(LOGIN) as clock:
        log_in(busy, citizen)  # type: ignore[arg-type]
        clock.tick(timedelta(hours=1))
        log_in(idle, citizen)  # type: ignore[arg-type]
        clock.tick(AGE - timedelta(hours=1, minutes=10))
        assert busy.get("/konto/").status_code == 200  # saved
        clock.tick(timedelta(minutes=15))  # 8 h 5 min after the first login
        assert delete_ended_sessions.call() == 1
        assert _stored_session(idle)
        clock.tick(timedelta(hours=1))
        assert delete_ended_sessions.call() == 1
    assert not Session.objects.exists()
