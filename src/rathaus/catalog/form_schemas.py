"""The online form of a service: ``services/<slug>/form.toml``, loaded by the form engine.

Schemas are checked when loaded (a broken one raises ``SchemaError`` naming service and field);
the system check in ``checks.py`` and the tests load every schema, so a broken one never reaches
a citizen. Loaded schemas are kept per process, keyed by the file's modification time.

The SHA-256 of the file is the form's version. The version an application was submitted with is
stored (``FormVersion``), so a submitted declaration is always shown with the form the citizen
confirmed (§ 9a OZG), not with the one deployed today, and still once the service's folder has
been removed (the sync then switches the service off; its sent applications stay).
"""

from __future__ import annotations

import hashlib
import logging
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.db import transaction

from rathaus.catalog.definitions import SERVICES_DIR
from rathaus.catalog.models import FormVersion, Service
from rathaus.forms.schema import FormSchema, SchemaError, load_schema

logger = logging.getLogger(__name__)

FORM_FILE = "form.toml"


class FormUnavailable(LookupError):
    """The service has no form file (any more): its folder was removed, or it never had one."""


@dataclass(frozen=True)
class LoadedForm:
    """A form file as read once: its schema, its version (SHA-256) and its text."""

    schema: FormSchema
    digest: str
    text: str


def schema_path(slug: str) -> Path:
    return SERVICES_DIR / slug / FORM_FILE


def has_form(service: Service) -> bool:
    return has_form_file(service.slug)


def has_form_file(slug: str) -> bool:
    """Whether the service ``slug`` has a form deployed (for lists read as values)."""
    return schema_path(slug).is_file()


def _parse(text: str, *, source: str) -> FormSchema:
    """The TOML text of a form file, checked and loaded like ``load_schema_file`` does."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SchemaError(f"the file is not valid TOML: {error}", source=source) from error
    return load_schema(data, source=source)


@lru_cache(maxsize=128)
def _load(slug: str, mtime_ns: int) -> LoadedForm:
    path = schema_path(slug)
    source = f"service {slug} ({path.name})"
    raw = path.read_bytes()  # read once: the schema, digest and text are of the same bytes
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SchemaError(f"the file is not valid TOML: {error}", source=source) from error
    return LoadedForm(
        schema=_parse(text, source=source), digest=hashlib.sha256(raw).hexdigest(), text=text
    )


def current_form(service: Service) -> LoadedForm:
    """The service's form as deployed now; raises :class:`FormUnavailable` if it has none."""
    path = schema_path(service.slug)
    try:
        return _load(service.slug, path.stat().st_mtime_ns)
    except FileNotFoundError as error:  # removed, also between the stat and the read
        raise FormUnavailable(f"service {service.slug} has no {FORM_FILE}") from error


def form_schema(service: Service) -> tuple[FormSchema, str]:
    """The service's form schema and the SHA-256 of its file (the form's version); raises
    :class:`FormUnavailable` if it has none."""
    loaded = current_form(service)
    return loaded.schema, loaded.digest


# Digests whose FormVersion row is known to be committed, in this process.
_stored_digests: set[str] = set()


def store_form_version(*, service: Service, form: LoadedForm) -> None:
    """Keep ``form`` as a version submitted applications refer to (in the caller's transaction).

    Submissions are a hot path: one INSERT … ON CONFLICT DO NOTHING the first time a process
    meets a version, nothing after that. The digest counts as stored only once the row commits;
    a rolled-back transaction leaves it to be written again.
    """
    if form.digest in _stored_digests:
        return
    FormVersion.objects.bulk_create(
        [FormVersion(digest=form.digest, slug=service.slug, text=form.text)],
        ignore_conflicts=True,
    )
    digest = form.digest
    transaction.on_commit(lambda: _stored_digests.add(digest))


@lru_cache(maxsize=64)
def _stored_schema(digest: str) -> FormSchema:
    """The schema of a stored version (raises ``FormVersion.DoesNotExist``; misses are not
    cached: ``lru_cache`` keeps only results)."""
    version = FormVersion.objects.get(digest=digest)
    return _parse(version.text, source=f"service {version.slug} (form version {digest[:12]})")


def form_schema_for_version(service: Service, digest: str) -> FormSchema:
    """The schema of the form version ``digest`` of ``service``, to show submitted answers with.

    The current schema when it is that version (no query); otherwise the stored version, which
    is all there is once the service's folder has been removed. The current one for applications
    submitted before versions were stored; :class:`FormUnavailable` if there is none either.
    """
    try:
        current: LoadedForm | None = current_form(service)
    except FormUnavailable:
        current = None
    if current is not None and digest == current.digest:
        return current.schema
    if digest:
        try:
            return _stored_schema(digest)
        except FormVersion.DoesNotExist:
            pass
    if current is None:
        raise FormUnavailable(f"service {service.slug}: form version {digest[:12]} not stored")
    logger.info(
        "form version not stored; showing the current form",
        extra={"service": service.slug, "digest": digest, "current": current.digest},
    )
    return current.schema
