"""Fixtures for the form engine tests: the documented example form and a small schema builder."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from rathaus.forms.schema import FormSchema, load_schema, load_schema_file

EXAMPLE = Path(__file__).with_name("example_form.toml")
TODAY = datetime.date(2026, 11, 22)


def text(de: str, en: str | None = None) -> dict[str, str]:
    return {"de": de, "en": en or de}


def one_step(*fields: dict[str, Any], checks: list[dict[str, Any]] | None = None) -> FormSchema:
    """A schema with one step ``s`` holding ``fields``."""
    step: dict[str, Any] = {"id": "s", "title": text("Schritt", "Step"), "fields": list(fields)}
    if checks is not None:
        step["checks"] = checks
    return load_schema({"steps": [step]}, source="test-service")


def field(field_id: str, field_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": field_id,
        "type": field_type,
        "label": text(f"{field_id} (de)", field_id),
        **extra,
    }


@pytest.fixture
def example() -> FormSchema:
    return load_schema_file(EXAMPLE, source="umzug-anmelden")


@pytest.fixture(autouse=True)
def german() -> Any:
    with translation.override("de"):
        yield
