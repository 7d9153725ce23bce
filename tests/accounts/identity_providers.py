"""Real identity providers on 127.0.0.1 for the login tests: the pysaml2 test IdP (tools/idp)
and the npm ``oidc-provider`` (tools/oidc), each in its own process, plus drivers that play the
citizen's browser against them.

Import the fixtures in a test module: ``from tests.accounts.identity_providers import …``.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import Client
from tools.idp import server as idp_server

from rathaus.accounts import saml
from rathaus.accounts.models import IdentityProvider
from rathaus.core.models import Municipality

ROOT = Path(__file__).resolve().parents[2]
OIDC_DIR = ROOT / "tools" / "oidc"
OIDC_CLIENT_ID = "rathaus-test"
OIDC_CLIENT_SECRET = "test-secret-for-the-local-provider"
OIDC_SLUG = "oidc-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the provider exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@dataclass
class SamlIdp:
    base_url: str
    key_dir: Path
    sp_metadata: Path

    def server(self) -> Any:
        """A pysaml2 Server with the IdP's own keys: tests build (broken) responses with it."""
        server = idp_server.build_server(
            base_url=self.base_url,
            key_file=self.key_dir / "idp.key",
            cert_file=self.key_dir / "idp.crt",
        )
        server.metadata.load("inline", self.sp_metadata.read_text())
        return server


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdp]:
    directory = tmp_path_factory.mktemp("saml-idp")
    idp_server.make_key_pair(directory)
    sp_metadata = directory / "sp-metadata.xml"
    sp_metadata.write_text("")
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tools" / "idp" / "server.py"),
            "--port",
            str(port),
            "--sp-metadata",
            str(sp_metadata),
            "--key-dir",
            str(directory),
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url + "/metadata", process)
        yield SamlIdp(base_url=base_url, key_dir=directory, sp_metadata=sp_metadata)
    finally:
        stop(process)


@pytest.fixture
def saml_provider(
    saml_idp: SamlIdp, db: None, settings: Any, request: pytest.FixtureRequest
) -> IdentityProvider:
    """BundID-style SAML for Wuppertal, pointed at the test IdP, which learns our metadata."""
    browser = {"page", "live_server"} & set(request.fixturenames)
    settings.SITE_URL = (
        request.getfixturevalue("live_server").url if browser else "http://testserver"
    )
    municipality, _ = Municipality.objects.get_or_create(
        ags="05124000", defaults={"name": "Wuppertal", "slug": "wuppertal", "state": "NW"}
    )
    provider = IdentityProvider.objects.create(
        municipality=municipality,
        slug="bundid-test",
        name="BundID (Test)",
        protocol=IdentityProvider.Protocol.SAML,
        metadata_url=saml_idp.base_url + "/metadata",
        allowed_levels=["low", "substantial", "high"],
    )
    saml_idp.sp_metadata.write_text(saml.sp_metadata(provider))
    return provider


@contextmanager
def running_oidc_op(*, client_secret: str = OIDC_CLIENT_SECRET) -> Iterator[str]:
    """npm oidc-provider on Node with our test client (``client_secret``) on a free loopback
    port, stopped afterwards; yields its issuer URL."""
    node = shutil.which("node")
    if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        pytest.fail("The OIDC tests need Node 20 and `npm ci` in tools/oidc (make venv does it).")
    port = free_port()
    process = subprocess.Popen(
        [
            node,
            str(OIDC_DIR / "server.mjs"),
            "--port",
            str(port),
            "--client-id",
            OIDC_CLIENT_ID,
            "--client-secret",
            client_secret,
            "--redirect-uri",
            f"http://testserver/konto/extern/{OIDC_SLUG}/oidc/callback/",
        ],
        cwd=OIDC_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(issuer + "/.well-known/openid-configuration", process)
        yield issuer
    finally:
        stop(process)


@pytest.fixture(scope="session")
def oidc_op() -> Iterator[str]:
    """npm oidc-provider on Node, with our test client; its issuer URL."""
    with running_oidc_op() as issuer:
        yield issuer


@pytest.fixture
def oidc_provider(oidc_op: str, db: None, settings: Any) -> IdentityProvider:
    settings.SITE_URL = "http://testserver"
    municipality, _ = Municipality.objects.get_or_create(
        ags="05122000", defaults={"name": "Solingen", "slug": "solingen", "state": "NW"}
    )
    return IdentityProvider.objects.create(
        municipality=municipality,
        slug=OIDC_SLUG,
        name="Servicekonto (OIDC-Test)",
        protocol=IdentityProvider.Protocol.OIDC,
        issuer=oidc_op,
        client_id=OIDC_CLIENT_ID,
        client_secret=OIDC_CLIENT_SECRET,
        allowed_levels=["low", "substantial", "high"],
    )


# --- the citizen's browser, played with the Django test client and httpx ------------------


def start_url(provider: IdentityProvider, level: str = "low", next_url: str = "") -> str:
    query = urllib.parse.urlencode({"niveau": level, **({"next": next_url} if next_url else {})})
    return f"/konto/extern/{provider.slug}/anmelden/?{query}"


def start_saml(
    client: Client, provider: IdentityProvider, level: str = "low", next_url: str = ""
) -> str:
    """Start the login; the signed AuthnRequest URL at the IdP."""
    response = client.get(start_url(provider, level, next_url))
    assert response.status_code == 302, response.content.decode()[:500]
    return str(response["Location"])


def form_fields(text: str) -> dict[str, str]:
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', text)
    }


def idp_login(idp: SamlIdp, request_url: str, citizen: str) -> tuple[str, dict[str, str]]:
    """Log in at the IdP as ``citizen``: (ACS URL, the POST fields SAMLResponse and RelayState)."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(request_url)
        assert page.status_code == 200, page.text
        assert f'value="{citizen}"' in page.text, f"{citizen} not offered"
        key = form_fields(page.text)["key"]
        answer = browser.post(idp.base_url + "/login", data={"key": key, "citizen": citizen})
        assert answer.status_code == 200, answer.text
    action = html.unescape(re.search(r'action="([^"]+)"', answer.text)[1])  # type: ignore[index]
    return action, form_fields(answer.text)


def post_to_acs(client: Client, action: str, fields: dict[str, str]) -> Any:
    return client.post(urllib.parse.urlsplit(action).path, fields)


def request_query(request_url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request_url).query))


def decoded(saml_response: str) -> str:
    return base64.b64decode(saml_response).decode()


def encoded(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


def oidc_authorize(authorize_url: str, citizen: str) -> str:
    """Log in at the OIDC provider as ``citizen``; the redirect back to us (path and query)."""
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        response = browser.get(authorize_url)
        for _ in range(10):
            if (
                response.status_code in (302, 303)
                and "/interaction/" in response.headers["location"]
            ):
                response = browser.get(
                    urllib.parse.urljoin(authorize_url, response.headers["location"])
                )
                continue
            if response.status_code == 200 and "/interaction/" in str(response.url):
                assert f'value="{citizen}"' in response.text, f"{citizen} not offered"
                action = re.search(r'action="([^"]+)"', response.text)[1]  # type: ignore[index]
                response = browser.post(
                    urllib.parse.urljoin(str(response.url), html.unescape(action)),
                    data={"citizen": citizen},
                )
                continue
            if response.status_code in (302, 303):
                location = response.headers["location"]
                if location.startswith("http://testserver"):
                    parts = urllib.parse.urlsplit(location)
                    return f"{parts.path}?{parts.query}"
                response = browser.get(urllib.parse.urljoin(str(response.url), location))
                continue
            raise AssertionError(f"unexpected answer {response.status_code}: {response.text[:500]}")
    raise AssertionError("too many redirects at the OIDC provider")
