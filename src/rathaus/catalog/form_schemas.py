"""The online form of a service: ``services/<slug>/form.toml``, loaded by the form engine.

Schemas are checked when loaded (a broken one raises ``SchemaError`` naming service and field);
the system check in ``checks.py`` and the tests load every schema, so a broken one never reaches
a citizen. Loaded schemas are kept per process, keyed by the file's modification time.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from rathaus.catalog.definitions import SERVICES_DIR
from rathaus.catalog.models import Service
from rathaus.forms.schema import FormSchema, load_schema_file

FORM_FILE = "form.toml"


def schema_path(slug: str) -> Path:
    return SERVICES_DIR / slug / FORM_FILE


def has_form(service: Service) -> bool:
    return schema_path(service.slug).is_file()


@lru_cache(maxsize=128)
def _load(slug: str, mtime_ns: int) -> tuple[FormSchema, str]:
    path = schema_path(slug)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return load_schema_file(path, source=f"service {slug} ({path.name})"), digest


def form_schema(service: Service) -> tuple[FormSchema, str]:
    """The service's form schema and the SHA-256 of its file (the form's version)."""
    path = schema_path(service.slug)
    return _load(service.slug, path.stat().st_mtime_ns)
