"""Fixtures: the sandbox provider as a real HTTP server on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rathaus.core.models import Municipality
from rathaus.payments.models import ProviderConfig

ROOT = Path(__file__).resolve().parents[2]


class Sandbox:
    """A running sandbox process and a handle on its test-control endpoint."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=5, follow_redirects=False)

    def control(self, **body: Any) -> None:
        response = self.http.post(f"{self.url}/_sandbox/control", json=body)
        response.raise_for_status()

    def transactions(self) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.url}/_sandbox/transactions")
        response.raise_for_status()
        return list(response.json()["transactions"])

    def choose(self, page_url: str, choice: str) -> httpx.Response:
        """Press a button on the payment page, as the citizen does (form POST, no JS)."""
        page = self.http.get(page_url)
        assert page.status_code == 200
        assert f"value='{choice}'" in page.text
        return self.http.post(page_url, data={"choice": choice})


@pytest.fixture(scope="session")
def sandbox_process() -> Iterator[Sandbox]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "rathaus.payments.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(
            f"sandbox did not start: {line} {process.stderr.read() if process.stderr else ''}"
        )
    try:
        yield Sandbox(line.rsplit(" ", 1)[-1].strip())
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sandbox(sandbox_process: Sandbox) -> Sandbox:
    sandbox_process.control(action="reset")
    return sandbox_process


@pytest.fixture
def municipality(db: None) -> Municipality:
    return Municipality.objects.create(
        name="Wuppertal", slug="wuppertal", ags="05124000", state="NW"
    )


@pytest.fixture
def provider_config(sandbox: Sandbox, municipality: Municipality) -> ProviderConfig:
    return ProviderConfig.objects.create(
        municipality=municipality,
        base_url=sandbox.url,
        originator_id="rathaus-wuppertal",
        auth_scheme=ProviderConfig.AuthScheme.NONE,
        timeout_seconds=2,
    )
