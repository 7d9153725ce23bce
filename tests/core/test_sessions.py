"""A session cookie that is no key Django could have made counts as no session, never a 500."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/leistungen/", "/konto/", "/api/v1/", "/admin/"])
def test_a_nul_in_the_session_cookie_is_no_500(path: str) -> None:
    """Python's cookie parser turns the octal escape into a NUL, which PostgreSQL refuses."""
    client = Client(raise_request_exception=False)
    answer = client.get(path, HTTP_COOKIE='sessionid="abcdefghij\\000"')
    assert answer.status_code < 500, answer.status_code
    assert not Session.objects.exists()
    # the cookie is dropped, as for any session that does not exist
    cookie = answer.cookies.get(settings.SESSION_COOKIE_NAME)
    assert cookie is None or cookie.value == ""


@pytest.mark.parametrize(
    "key",
    [
        "abcdefghij\x00",
        "ABCDEFGHIJKL",  # Django's keys are lowercase letters and digits only
        "abcdefgh'; --",
        "äöüäöüäöüäöü",
        "a" * 41,  # longer than the column
        "abc",
    ],
)
def test_a_key_outside_djangos_alphabet_is_no_session(key: str) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    assert store.session_key is None
    assert store.load() == {}


def test_a_key_django_made_still_holds_its_session() -> None:
    engine = import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore()
    store["language"] = "de"
    store.create()
    assert engine.SessionStore(store.session_key)["language"] == "de"
