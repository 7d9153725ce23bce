"""Production settings: safe defaults and a clear error when a required setting is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "RATHAUS_ENV": "production",
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "portal.example.de",
    "SITE_URL": "https://portal.example.de",
    "DATABASE_URL": "postgres://rathaus@db.example.de:5432/rathaus",
    "EMAIL_URL": "smtp+tls://mail.example.de:587",
    "LEDGER_ORIGIN": "portal.example.de/govchain",
    "LEDGER_SIGNING_KEY": "11" * 32,
}
PROBE = (
    "import json, rathaus.settings as s; print(json.dumps({"
    "'debug': s.DEBUG, 'session_secure': s.SESSION_COOKIE_SECURE, "
    "'csrf_secure': s.CSRF_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS, "
    "'ssl_redirect': s.SECURE_SSL_REDIRECT, 'engine': s.DATABASES['default']['ENGINE'], "
    "'language_cookie': [s.LANGUAGE_COOKIE_SECURE, s.LANGUAGE_COOKIE_HTTPONLY, "
    "s.LANGUAGE_COOKIE_SAMESITE], 'sessions': s.SESSION_ENGINE}))"
)


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DEBUG"}
    clean["PYTHONPATH"] = str(ROOT / "src")
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_defaults_are_safe() -> None:
    result = _load_settings(PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "debug": False,
        "session_secure": True,
        "csrf_secure": True,
        "hsts": 63072000,
        "ssl_redirect": True,
        "engine": "django.db.backends.postgresql",
        # the language cookie as safe as the session and CSRF cookies
        "language_cookie": [True, True, "Lax"],
        # sessions end SESSION_COOKIE_AGE after the login at the latest
        "sessions": "rathaus.core.sessions",
    }


def test_the_demo_over_plain_http_sends_its_cookies_without_secure() -> None:
    result = _load_settings({**PRODUCTION_ENV, "RATHAUS_HTTPS": "false"})
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["session_secure"] is False
    assert values["language_cookie"] == [False, True, "Lax"]


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "SITE_URL",
        "DATABASE_URL",
        "EMAIL_URL",
        "LEDGER_ORIGIN",
        "LEDGER_SIGNING_KEY",
    ],
)
def test_missing_production_setting_is_a_clear_error(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _load_settings(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr.splitlines()[-1]


def test_unknown_environment_name_is_refused() -> None:
    result = _load_settings({**PRODUCTION_ENV, "RATHAUS_ENV": "staging"})
    assert result.returncode != 0
    assert "RATHAUS_ENV must be production, demo or test" in result.stderr


def test_the_virus_scanner_address_comes_from_the_environment() -> None:
    probe = "import rathaus.settings as s; print(s.CLAMD_ADDRESS)"
    env = {**PRODUCTION_ENV, "CLAMD_ADDRESS": "tcp://clamav.intern:3310"}
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DEBUG"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**clean, "PYTHONPATH": str(ROOT / "src"), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "tcp://clamav.intern:3310"


@pytest.mark.parametrize(
    ("name", "value", "check"),
    [
        ("DOCUMENTS_ALGORITHM_SUNSETS", "sha224", "documents.E004"),  # no =date
        ("RECORDS_MIN_RSA_KEY_BITS", "3k", "records.E002"),
        ("RECORDS_MIN_EC_KEY_BITS", "256 bits", "records.E002"),
    ],
)
def test_a_malformed_algorithm_setting_is_a_check_error_not_a_failed_start(
    name: str, value: str, check: str, tmp_path: Path
) -> None:
    # the settings load; check --deploy names the setting (documents/algorithms.py,
    # records/preservation.py read and validate it where it is used)
    probe = (
        "import django; django.setup(); from django.core.checks import run_checks; "
        "print('\\n'.join(f'{e.id} {e.msg}' for e in run_checks(include_deployment_checks=True)"
        f" if e.id == {check!r}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DEBUG"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={
            **clean,
            "PYTHONPATH": str(ROOT / "src"),
            "DJANGO_SETTINGS_MODULE": "rathaus.settings",
            "RATHAUS_ENV": "test",
            "RATHAUS_VAR_DIR": str(tmp_path),
            name: value,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-1000:]
    assert result.stdout.startswith(f"{check} {name}"), result.stdout
