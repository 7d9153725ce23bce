"""Strict CSP: allauth's pages carry no inline executable script."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db

SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)


def _inline_executable_scripts(html: str) -> list[str]:
    found = []
    for match in SCRIPT.finditer(html):
        attrs = match.group("attrs")
        if "src=" in attrs:
            continue
        if 'type="application/json"' in attrs:
            continue
        found.append(match.group(0))
    return found


@pytest.mark.parametrize(
    "path",
    [
        "/konto/login/",
        "/konto/signup/",
        "/konto/password/reset/",
        "/konto/",
        "/konto/profil/",
        "/konto/2fa/",
        "/konto/2fa/webauthn/add/",
        "/konto/2fa/totp/activate/",
        "/konto/daten-export/",
        "/konto/loeschen/",
    ],
)
def test_account_pages_have_no_inline_scripts(citizen_client: Client, path: str) -> None:
    if path in ("/konto/login/", "/konto/signup/", "/konto/password/reset/"):
        citizen_client.post("/konto/logout/")
    if path.startswith("/konto/2fa/webauthn/"):
        # allauth asks for the password again before a passkey is added.
        citizen_client.post("/konto/reauthenticate/", {"password": PASSWORD})
    response = citizen_client.get(path)
    assert response.status_code == 200, path
    assert _inline_executable_scripts(response.content.decode()) == []
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_login_page_offers_the_smartphone_buerger_id(client: Client) -> None:
    html = client.get("/konto/login/").content.decode()
    assert "Smartphone-Bürger-ID" in html
    assert 'id="passkey_login"' in html
    assert 'form="mfa_login"' in html
    assert "mfa/js/webauthn.js" in html
