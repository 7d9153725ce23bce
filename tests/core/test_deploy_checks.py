"""``check --deploy``: a sender on localhost, a cache each process keeps for itself; the
HSTS preload flag and a Redis cache from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from pytest_django.fixtures import Settings

from rathaus.core.checks import cache_is_shared, sender_is_not_localhost
from tests.core.test_settings import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]


def _ids(messages: list) -> list[str]:  # type: ignore[type-arg]
    return [message.id for message in messages]


@pytest.mark.parametrize(
    "sender",
    ["Rathaus <noreply@localhost>", "noreply@localhost", "noreply@portal.LOCALHOST", "Rathaus"],
)
def test_a_sender_on_localhost_is_reported_in_production(settings: Settings, sender: str) -> None:
    settings.PRODUCTION = True
    settings.DEFAULT_FROM_EMAIL = sender
    assert _ids(sender_is_not_localhost()) == ["core.W001"]


def test_a_sender_of_the_operators_domain_passes(settings: Settings) -> None:
    settings.PRODUCTION = True
    settings.DEFAULT_FROM_EMAIL = "Bürgerportal <noreply@portal.example.de>"
    assert sender_is_not_localhost() == []
    settings.PRODUCTION = False
    settings.DEFAULT_FROM_EMAIL = "Rathaus <noreply@localhost>"
    assert sender_is_not_localhost() == []


@pytest.mark.parametrize(
    "backend, ids",
    [
        ("django.core.cache.backends.locmem.LocMemCache", ["core.W002"]),
        ("django.core.cache.backends.dummy.DummyCache", ["core.W003"]),
        ("django.core.cache.backends.redis.RedisCache", []),
        ("django.core.cache.backends.db.DatabaseCache", []),
    ],
)
def test_a_cache_the_workers_do_not_share_is_reported_in_production(
    backend: str, ids: list[str]
) -> None:
    # not the settings fixture: the cache is emptied after each test (tests/core/conftest.py),
    # which must find the test cache again
    with override_settings(PRODUCTION=True, CACHES={"default": {"BACKEND": backend}}):
        assert _ids(cache_is_shared()) == ids


def test_the_demo_may_keep_its_cache_in_the_process() -> None:
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(PRODUCTION=False, CACHES=locmem):
        assert cache_is_shared() == []


def _production(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DEBUG"}
    for name in ("SECURE_HSTS_PRELOAD", "CACHE_URL", "DEFAULT_FROM_EMAIL"):
        clean.pop(name, None)
    return subprocess.run(
        [sys.executable, *args],
        env={**clean, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "rathaus.settings", **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_check_deploy_reports_the_defaults_and_is_quiet_once_they_are_set() -> None:
    defaults = _production("manage.py", "check", "--deploy")
    for check in ("core.W001", "core.W002", "security.W021"):
        assert f"({check})" in defaults.stderr, defaults.stderr
    configured = _production(
        "manage.py",
        "check",
        "--deploy",
        DEFAULT_FROM_EMAIL="Bürgerportal <noreply@portal.example.de>",
        CACHE_URL="redis://127.0.0.1:6379/0",
        SECURE_HSTS_PRELOAD="true",
    )
    for check in ("core.W001", "core.W002", "security.W021"):
        assert f"({check})" not in configured.stderr, configured.stderr


# The cache a production configuration builds from CACHE_URL, and the client library Django's
# Redis backend imports when it is first used (nothing is connected yet).
PROBE = """
import json
import django
from django.conf import settings
django.setup()
from django.core.cache import caches
backend = caches["default"]
print(json.dumps({
    "backend": settings.CACHES["default"]["BACKEND"],
    "location": settings.CACHES["default"].get("LOCATION"),
    "client": getattr(backend._cache, "_lib", None).__name__,
}))
"""


@pytest.mark.parametrize(
    "cache_url, location",
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("rediss://:secret@cache.example.de:6380/1", "rediss://:secret@cache.example.de:6380/1"),
    ],
)
def test_a_redis_cache_url_gives_djangos_redis_backend_with_its_client(
    cache_url: str, location: str
) -> None:
    result = _production("-c", PROBE, PYTHONPATH=str(ROOT / "src"), CACHE_URL=cache_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "backend": "django.core.cache.backends.redis.RedisCache",
        "location": location,
        "client": "redis",
    }
