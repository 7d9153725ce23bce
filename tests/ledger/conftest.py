"""Fixtures of the ledger tests: an authority, and a published log in a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rathaus.core.models import Authority, Municipality


@pytest.fixture
def authority(db: None) -> Authority:
    town = Municipality.objects.create(
        name="Wuppertal", slug="wuppertal", ags="05124000", state=Municipality.State.NW
    )
    return Authority.objects.create(
        municipality=town, kind=Authority.Kind.CITIZENS_OFFICE, name="Bürgeramt Wuppertal"
    )


@pytest.fixture
def other_authority(authority: Authority) -> Authority:
    return Authority.objects.create(
        municipality=authority.municipality,
        kind=Authority.Kind.ROAD_TRAFFIC,
        name="Straßenverkehrsamt Wuppertal",
    )


@pytest.fixture
def published(settings: Any, tmp_path: Path) -> Path:
    """Publish the log into a directory, as a web server or CDN would serve it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "ledger": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.LEDGER_STORAGE = "ledger"
    return tmp_path / "media" / settings.LEDGER_PUBLISH_PREFIX
