"""Commands on a production installation: no demo data; a first GovChain key."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from rathaus.core.models import Municipality
from rathaus.ledger.keys import parse_signing_key
from tests.core.test_settings import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_load_demo_is_refused_in_production(settings: Settings) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="never loaded in production"):
        call_command("load_demo", stdout=io.StringIO())
    assert not Municipality.objects.exists()


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DEBUG"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, **PRODUCTION_ENV, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_ledger_key_generates_a_key_in_production_before_there_is_one() -> None:
    """The settings need some LEDGER_SIGNING_KEY to load; --generate does not read it."""
    result = _manage("ledger_key", "--generate", LEDGER_SIGNING_KEY="placeholder")
    assert result.returncode == 0, result.stderr
    line = result.stdout.splitlines()[0]
    assert line.startswith("LEDGER_SIGNING_KEY=PRIVATE+KEY+portal.example.de/govchain+")
    key = line.removeprefix("LEDGER_SIGNING_KEY=")
    assert parse_signing_key(key, origin="portal.example.de/govchain").name == (
        "portal.example.de/govchain"
    )


def test_ledger_key_names_an_unusable_key_without_a_traceback() -> None:
    result = _manage("ledger_key", LEDGER_SIGNING_KEY="placeholder")
    assert result.returncode == 1
    assert "LEDGER_SIGNING_KEY is not a usable Ed25519 key" in result.stderr
    assert "Traceback" not in result.stderr
