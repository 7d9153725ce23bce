"""Behind the reverse proxy: the client's address from trusted proxies only; /healthz."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings

from rathaus.core.trusted_proxies import (
    TrustedProxyMiddleware,
    client_address,
    trusted_networks,
)
from tests.core.test_settings import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]
PROXY = "127.0.0.1"
TOO_MANY = "Zu viele fehlgeschlagene Anmeldeversuche"


def _failed_login(client: Client, *, email: str, **headers: str) -> str:
    response = client.post("/konto/login/", {"login": email, "password": "falsch"}, **headers)
    assert response.status_code == 200
    return response.content.decode()


# -- the client's address ----------------------------------------------------------------------


@pytest.mark.django_db
def test_failed_logins_behind_a_trusted_proxy_count_per_client(
    client: Client, settings: Settings
) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    for number in range(14):
        page = _failed_login(
            client,
            email=f"person{number}@example.org",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{number + 1}",
        )
        assert TOO_MANY not in page, f"attempt {number + 1} refused"


@pytest.mark.django_db
def test_one_client_behind_the_trusted_proxy_is_still_limited(
    client: Client, settings: Settings
) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    for number in range(5):
        page = _failed_login(
            client,
            email=f"person{number}@example.org",
            REMOTE_ADDR=PROXY,
            # what the client wrote itself stands left of what the proxy appended
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number + 1}, 198.51.100.7",
        )
        assert TOO_MANY not in page
    sixth = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "192.0.2.99, 198.51.100.7"}
    assert TOO_MANY in _failed_login(client, email="person5@example.org", **sixth)
    other = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.8"}
    assert TOO_MANY not in _failed_login(client, email="person6@example.org", **other)


@pytest.mark.django_db
def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    client: Client, settings: Settings
) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    pages = [
        _failed_login(
            client,
            email=f"person{number}@example.org",
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{number + 1}",
        )
        for number in range(6)
    ]
    assert [TOO_MANY in page for page in pages] == [False] * 5 + [True]


@pytest.mark.django_db
def test_without_trusted_proxies_forwarded_for_is_ignored(client: Client) -> None:
    pages = [
        _failed_login(
            client,
            email=f"person{number}@example.org",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{number + 1}",
        )
        for number in range(6)
    ]
    assert TOO_MANY in pages[-1]


@pytest.mark.parametrize(
    "forwarded_for, client",
    [
        ("198.51.100.7", "198.51.100.7"),
        # the right-most address that is no trusted proxy, never the left-most
        ("6.6.6.6, 198.51.100.7", "198.51.100.7"),
        ("6.6.6.6, 198.51.100.7, 10.1.2.3", "198.51.100.7"),
        ("6.6.6.6,198.51.100.7,,10.1.2.3", "198.51.100.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]:51234", "2001:db8::1"),
        ("198.51.100.7:51234", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        # all of them trusted proxies: the first one, which each of them vouches for
        ("10.0.0.1, 10.1.2.3", "10.0.0.1"),
        # no address: nothing left of it can be trusted, the proxy stays the client
        ("198.51.100.7, unknown", PROXY),
        ("", PROXY),
    ],
)
def test_the_client_is_the_right_most_address_that_is_no_trusted_proxy(
    forwarded_for: str, client: str
) -> None:
    networks = trusted_networks([PROXY, "10.0.0.0/8"])
    assert client_address(peer=PROXY, forwarded_for=forwarded_for, networks=networks) == client


def _seen_by_the_view(**meta: str) -> dict[str, str]:
    seen: dict[str, str] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen.update(
            {key: request.META[key] for key in ("REMOTE_ADDR", *tuple(meta)) if key in request.META}
        )
        return HttpResponse()

    TrustedProxyMiddleware(view)(RequestFactory().get("/", **meta))
    return seen


def test_forwarded_headers_of_an_untrusted_peer_are_dropped(settings: Settings) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    meta = {"HTTP_X_FORWARDED_FOR": "198.51.100.7", "HTTP_X_FORWARDED_PROTO": "https"}
    assert _seen_by_the_view(REMOTE_ADDR="203.0.113.9", **meta) == {"REMOTE_ADDR": "203.0.113.9"}
    assert _seen_by_the_view(REMOTE_ADDR="::ffff:127.0.0.1", **meta) == {
        "REMOTE_ADDR": "198.51.100.7",
        **meta,
    }


@pytest.mark.django_db
def test_only_a_trusted_proxy_says_the_request_came_over_https(
    client: Client, settings: Settings
) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forged = client.get("/impressum/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https")
    assert forged.status_code == 301
    assert forged["Location"] == "https://testserver/impressum/"
    proxied = client.get(
        "/impressum/",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert proxied.status_code == 200


@pytest.mark.parametrize("entry", ["proxy.example.de", "10.0.0.0/33", "127.0.0.1 10.0.0.1"])
def test_trusted_proxies_are_addresses_or_networks(entry: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        trusted_networks([entry])


# -- /healthz ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_ok_at_the_internal_address_without_cookie_or_cache(
    client: Client, settings: Settings
) -> None:
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie, no language cookie
    assert client.get("/healthz", HTTP_HOST="portal.example.de").status_code == 200
    # other pages keep the Host check and the redirect to https
    assert client.get("/impressum/", HTTP_HOST="10.0.0.5:8000").status_code == 400
    assert client.get("/impressum/").status_code == 301


# Requests to the WSGI application of a production configuration whose database cannot be
# reached (nothing listens on port 1), at the internal address over plain HTTP, one per language.
_DOWN = """
import io, json, sys
from rathaus.wsgi import application
for language in sys.argv[1:]:
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/healthz", "QUERY_STRING": "",
        "SERVER_NAME": "10.0.0.5", "SERVER_PORT": "8000", "HTTP_HOST": "10.0.0.5:8000",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.9",
        "HTTP_ACCEPT_LANGUAGE": language,
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
    }
    answer = {}
    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))
    body = b"".join(application(environ, start_response))
    print(json.dumps({**answer, "body": body.decode()}))
"""


def test_healthz_answers_503_with_a_problem_document_while_the_database_is_down() -> None:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DEBUG"}
    env = {
        **clean,
        **PRODUCTION_ENV,
        "DATABASE_URL": "postgres://rathaus@127.0.0.1:1/rathaus",
        "PYTHONPATH": str(ROOT / "src"),
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", _DOWN, "de", "en"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.strip().splitlines()]
    details = []
    for answer in answers:
        assert answer["status"].startswith("503"), answer
        assert answer["headers"]["Content-Type"] == "application/problem+json"
        assert "no-store" in answer["headers"]["Cache-Control"]
        assert "Set-Cookie" not in answer["headers"]
        problem = json.loads(answer["body"])
        assert (problem["status"], problem["instance"]) == (503, "/healthz")
        details.append(problem["detail"])
    assert details == ["Die Datenbank ist nicht erreichbar.", "The database is not reachable."]
