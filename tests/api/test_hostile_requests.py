"""The API answers hostile requests with a 4xx problem document, never a 5xx.

Every endpoint of the API, each query parameter and each body field it reads, given values a
client should never send: wrong JSON types, a NUL character, numbers beyond every range, text far
over any limit, a list where one value belongs. The answer is a success or an RFC 9457 problem
document with a 4xx status.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client

from tests.accounts.factories import ProfileFactory

pytestmark = pytest.mark.django_db

VALUES: list[Any] = [
    None,
    5,
    -1,
    10**23,
    1.5e308,
    True,
    "",
    "\x00",
    "a" * 20_000,
    "2026-02-30",
    ["a"],
    {"a": 1},
]
QUERY_VALUES = ["\x00", "-1", "99999999999999999999999", "NaN", "a" * 5000, "2026-02-30", "%ff"]


@pytest.fixture
def client(client: Client) -> Client:
    """Signed in (anonymous clients are throttled sooner), with fresh rate limits."""
    client.force_login(ProfileFactory().user)
    _forget_rates()
    return client


def _forget_rates() -> None:
    """The verification limits guessing per address; here each request must reach the check."""
    for cache in caches.all():
        cache.clear()


def _acceptable(response: Any, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code}"
    assert response.status_code != 429, f"{where}: throttled, not checked"
    _forget_rates()
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json", where
        assert response.json()["status"] == response.status_code, where


@pytest.mark.usefixtures("demo")
def test_query_parameters_of_the_catalog(client: Client) -> None:
    for path in ("/api/v1/services/", "/api/v1/services/wohnsitz-anmelden/"):
        for name in ("limit", "offset", "q", "search", "municipality", "life_situation", "lang"):
            for value in QUERY_VALUES:
                _acceptable(client.get(path, {name: value}), f"GET {path}?{name}={value!r:.20}")
        _acceptable(client.get(path, {"limit": ["1", "2"]}), f"GET {path}?limit=1&limit=2")


def test_bodies_sent_to_the_verification(client: Client) -> None:
    bodies: list[Any] = [[], None, 5, "x", {}]
    bodies += [{"sha256": value} for value in VALUES]
    bodies += [{"code": value} for value in VALUES]
    bodies += [{"sha256": "a" * 64, "code": value} for value in VALUES]
    for body in bodies:
        response = client.post("/api/v1/verify/", json.dumps(body), content_type="application/json")
        _acceptable(response, f"POST /api/v1/verify/ {body!r:.40}")
    for value in VALUES:
        if isinstance(value, str | int) and not isinstance(value, bool):
            response = client.post("/api/v1/verify/", {"sha256": str(value), "code": str(value)})
            _acceptable(response, f"POST form {value!r:.20}")


def test_codes_in_the_verification_address(client: Client) -> None:
    for code in ["x", "0" * 500, "ÄÖÜ", "%00", "..", "ABCD-EFGH-IJKL", "K7QF3MXA92PD", "a b"]:
        _acceptable(client.get(f"/api/v1/verify/{code}/"), f"GET /api/v1/verify/{code!r:.20}/")


@pytest.mark.parametrize("charset", ["rot13", "base64", "undefined"])
def test_an_api_query_declaring_a_non_text_charset_is_answered(
    call_wsgi: Any, charset: str
) -> None:
    """Django decodes the query string before any middleware: the WSGI guard drops the charset."""
    status, body = call_wsgi(
        "/api/v1/services/",
        "q=pass&municipality=%C3%A4",
        CONTENT_TYPE=f"text/plain; charset={charset}",
    )
    assert status[:1] in "24", status
    assert json.loads(body)
