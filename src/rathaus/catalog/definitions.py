"""Reading and validating the service definition files.

Each service lives in its own folder, ``catalog/services/<slug>/service.toml`` (the applications
module adds a ``form.toml`` beside it). Every file is validated completely when it is read; an
error names the file and the field, so a broken definition stops ``migrate`` (and shows up in
``manage.py check``) instead of failing on a citizen's request.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rathaus.core.models import Authority
from rathaus.payments.fees import MAX_AMOUNT_CENTS, FeeRuleError, schedule_from_catalog

SERVICES_DIR = Path(__file__).resolve().parent / "services"
LIFE_SITUATIONS_FILE = Path(__file__).resolve().parent / "life_situations.toml"
DEFINITION_FILE = "service.toml"

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# ASCII digits only: ``\d`` also matches "٣" or "९", which no LeiKa key or file plan has.
_LEIKA = re.compile(r"[0-9]{14}")
_FILE_PLAN_KEY = re.compile(r"[0-9]+(?:\.[0-9]+)*")
TRUST_LEVELS = ("low", "substantial", "high")
FEE_KINDS = ("free", "fixed", "criteria", "municipal", "notice")
MAX_AMOUNT = Decimal(MAX_AMOUNT_CENTS).scaleb(-2)  # 999999.99: what the payments can collect

_TOP_LEVEL = {
    "leika_key",
    "trust_level",
    "online",
    "authority_kind",
    "life_situations",
    "keywords",
    "name",
    "summary",
    "description",
    "plain_language",
    "processing_time",
    "legal_basis",
    "documents",
    "fee",
    "external",
    "file_plan_key",
}


class DefinitionError(ValueError):
    """A service or life-situation definition file is invalid."""

    def __init__(self, path: Path, field_name: str, message: str) -> None:
        self.path = path
        self.field_name = field_name
        self.message = message
        super().__init__(f"{path}: field '{field_name}': {message}")


@dataclass(frozen=True)
class LifeSituationDefinition:
    slug: str
    name_de: str
    name_en: str
    position: int


@dataclass(frozen=True)
class ServiceDefinition:
    slug: str
    path: Path
    leika_key: str
    trust_level: str
    online: bool
    authority_kind: str
    life_situations: tuple[str, ...]
    keywords: tuple[str, ...]
    name_de: str
    name_en: str
    summary_de: str
    summary_en: str
    description_de: str
    description_en: str
    plain_language_de: str
    processing_time_de: str
    processing_time_en: str
    legal_basis: list[dict[str, str]]
    documents: list[dict[str, str]]
    fee_kind: str
    fees: list[dict[str, Any]]
    fee_note_de: str
    fee_note_en: str
    external_provider_de: str = ""
    external_provider_en: str = ""
    external_url: str = ""
    file_plan_key: str = ""
    source_hash: str = field(default="", compare=False)


class _Reader:
    """Typed access to one parsed TOML table, raising :class:`DefinitionError` with the path."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.path = path
        self.data = data
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail(self, key: str, message: str) -> DefinitionError:
        return DefinitionError(self.path, self.name(key), message)

    def text(self, key: str, *, required: bool = True, max_length: int | None = None) -> str:
        value = self.data.get(key, "")
        if not isinstance(value, str):
            raise self.fail(key, f"must be text, not {type(value).__name__}")
        value = value.strip()
        if required and not value:
            raise self.fail(key, "is required and must not be empty")
        if max_length is not None and len(value) > max_length:
            raise self.fail(key, f"is longer than {max_length} characters")
        return value

    def boolean(self, key: str) -> bool:
        if key not in self.data:
            raise self.fail(key, "is required (true or false)")
        value = self.data[key]
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def table(self, key: str, *, required: bool = True) -> _Reader:
        value = self.data.get(key)
        if value is None and not required:
            return _Reader(self.path, {}, f"{self.name(key)}.")
        if not isinstance(value, dict):
            raise self.fail(key, "is required and must be a table")
        return _Reader(self.path, value, f"{self.name(key)}.")

    def tables(self, key: str, *, required: bool = True) -> list[_Reader]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "must be a list of tables ([[…]])")
        if required and not value:
            raise self.fail(key, "needs at least one entry")
        return [_Reader(self.path, v, f"{self.name(key)}[{i}].") for i, v in enumerate(value)]

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, "must be a list of non-empty texts")
        return tuple(v.strip() for v in value)

    def translated(self, key: str, *, max_length: int | None = None) -> tuple[str, str]:
        table = self.table(key)
        table.only({"de", "en"})
        return (
            table.text("de", max_length=max_length),
            table.text("en", max_length=max_length),
        )

    def only(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.fail(
                    key, f"is not a known field (allowed: {', '.join(sorted(allowed))})"
                )


def _parse(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(path, "(syntax)", f"is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise DefinitionError(path, "(file)", f"cannot be read: {exc}") from exc


def read_life_situations(path: Path = LIFE_SITUATIONS_FILE) -> list[LifeSituationDefinition]:
    data = _Reader(path, _parse(path))
    data.only({"life_situation"})
    result = []
    seen: set[str] = set()
    for position, entry in enumerate(data.tables("life_situation")):
        entry.only({"slug", "de", "en"})
        slug = entry.text("slug")
        if not _SLUG.match(slug):
            raise entry.fail("slug", "must be lower-case letters, digits and hyphens")
        if slug in seen:
            raise entry.fail("slug", f"'{slug}' appears twice")
        seen.add(slug)
        result.append(
            LifeSituationDefinition(
                slug=slug,
                name_de=entry.text("de", max_length=80),
                name_en=entry.text("en", max_length=80),
                position=position,
            )
        )
    return result


def _amount(entry: _Reader, key: str) -> str:
    raw = entry.data.get(key)
    if not isinstance(raw, str):
        raise entry.fail(key, 'must be an amount in euros as text, e.g. "46.00"')
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise entry.fail(key, f"'{raw}' is not an amount in euros") from exc
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise entry.fail(key, f"'{raw}' must be a non-negative amount with at most two decimals")
    if value > MAX_AMOUNT:
        raise entry.fail(
            key, f"'{raw}' is more than the largest fee that can be collected ({MAX_AMOUNT} EUR)"
        )
    return f"{value:.2f}"


def _age(entry: _Reader, key: str) -> int | None:
    value = entry.data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 150:
        raise entry.fail(key, "must be an age in whole years (0 to 150)")
    return value


def _fee_items(fee: _Reader, fee_kind: str) -> list[dict[str, Any]]:
    """The ``[[fee.items]]``: each amount, and the largest total, must be collectable."""
    fees = []
    for entry in fee.tables("items", required=fee_kind in {"fixed", "criteria"}):
        entry.only({"label_de", "label_en", "amount", "min_age", "max_age"})
        item: dict[str, Any] = {
            "label_de": entry.text("label_de"),
            "label_en": entry.text("label_en"),
            "amount": _amount(entry, "amount"),
        }
        for key in ("min_age", "max_age"):
            age = _age(entry, key)
            if age is not None:
                item[key] = age
        fees.append(item)
    if fee_kind == "free" and fees:
        raise fee.fail("items", "a free service has no fee items")
    if fee_kind in {"fixed", "criteria"}:
        # As the applications flow will quote them: the items must also fit together.
        try:
            schedule_from_catalog(fee_kind=fee_kind, fees=fees)
        except FeeRuleError as exc:
            raise fee.fail("items", str(exc)) from exc
    return fees


def fee_items_problem(fee_kind: str, fees: Any) -> str | None:
    """What is wrong with fee items edited outside a definition file (the admin), by the rules
    of the loader, or None."""
    try:
        _fee_items(_Reader(Path("fees"), {"items": fees}), fee_kind)
    except DefinitionError as exc:
        return f"{exc.field_name}: {exc.message}"
    return None


def _legal_basis(data: _Reader, *, required: bool) -> list[dict[str, str]]:
    """The ``[[legal_basis]]``: a title each, and an https:// address or none."""
    legal_basis = []
    for entry in data.tables("legal_basis", required=required):
        entry.only({"title", "url"})
        url = entry.text("url", required=False)
        if url and not url.startswith("https://"):
            raise entry.fail("url", "must be an https:// address")
        legal_basis.append({"title": entry.text("title"), "url": url})
    return legal_basis


def _documents(data: _Reader) -> list[dict[str, str]]:
    """The ``[[documents]]``: each named in German and English."""
    documents = []
    for entry in data.tables("documents", required=False):
        entry.only({"de", "en"})
        documents.append({"de": entry.text("de"), "en": entry.text("en")})
    return documents


def legal_basis_items(value: Any) -> list[dict[str, str]]:
    """A legal basis edited outside a definition file (the admin), checked by the rules of the
    loader and trimmed as it trims; :class:`DefinitionError` says what is wrong. May be empty."""
    return _legal_basis(_Reader(Path("legal_basis"), {"legal_basis": value}), required=False)


def document_items(value: Any) -> list[dict[str, str]]:
    """Documents edited outside a definition file (the admin), checked by the rules of the
    loader and trimmed as it trims; :class:`DefinitionError` says what is wrong."""
    return _documents(_Reader(Path("documents"), {"documents": value}))


def read_service(path: Path, *, life_situations: set[str]) -> ServiceDefinition:
    """Read and validate one ``service.toml``; the folder name is the slug."""
    slug = path.parent.name
    raw = _parse(path)
    data = _Reader(path, raw)
    if not _SLUG.match(slug) or len(slug) > 80:
        raise DefinitionError(path, "(folder)", f"'{slug}' is not a valid slug")
    data.only(_TOP_LEVEL)

    leika_key = data.text("leika_key", required=False)
    if leika_key and not _LEIKA.fullmatch(leika_key):
        raise data.fail("leika_key", "must be 14 digits or empty")
    trust_level = data.text("trust_level")
    if trust_level not in TRUST_LEVELS:
        raise data.fail("trust_level", f"must be one of {', '.join(TRUST_LEVELS)}")

    authority_kind = data.text("authority_kind", required=False)
    if authority_kind and authority_kind not in Authority.Kind.values:
        raise data.fail(
            "authority_kind",
            f"'{authority_kind}' is not an authority kind ({', '.join(Authority.Kind.values)})",
        )
    external = data.table("external", required=False)
    external.only({"provider_de", "provider_en", "url"})
    # The limits are those of the database columns (Service.external_*): longer text would
    # stop the load with a database error instead of naming the field.
    external_url = external.text("url", required=not authority_kind, max_length=200)
    if external_url and not external_url.startswith("https://"):
        raise external.fail("url", "must be an https:// address")
    external_provider_de = external.text("provider_de", required=not authority_kind, max_length=200)
    external_provider_en = external.text("provider_en", required=not authority_kind, max_length=200)

    file_plan_key = data.text("file_plan_key", required=False, max_length=40)
    if file_plan_key and not _FILE_PLAN_KEY.fullmatch(file_plan_key):
        raise data.fail("file_plan_key", "must be a decimal file plan key such as 11.30.01")

    situations = data.strings("life_situations")
    if not situations:
        raise data.fail("life_situations", "needs at least one life situation")
    for s in situations:
        if s not in life_situations:
            raise data.fail("life_situations", f"'{s}' is not a life situation")

    name_de, name_en = data.translated("name", max_length=200)
    summary_de, summary_en = data.translated("summary")
    description_de, description_en = data.translated("description")
    processing_de, processing_en = data.translated("processing_time", max_length=200)

    legal_basis = _legal_basis(data, required=True)
    documents = _documents(data)

    fee = data.table("fee")
    fee.only({"kind", "note_de", "note_en", "items"})
    fee_kind = fee.text("kind")
    if fee_kind not in FEE_KINDS:
        raise fee.fail("kind", f"must be one of {', '.join(FEE_KINDS)}")
    fees = _fee_items(fee, fee_kind)
    fee_note_required = fee_kind in {"municipal", "notice"}
    fee_note_de = fee.text("note_de", required=fee_note_required)
    fee_note_en = fee.text("note_en", required=fee_note_required)

    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    return ServiceDefinition(
        slug=slug,
        path=path,
        leika_key=leika_key,
        trust_level=trust_level,
        online=data.boolean("online"),
        authority_kind=authority_kind,
        life_situations=situations,
        keywords=data.strings("keywords"),
        name_de=name_de,
        name_en=name_en,
        summary_de=summary_de,
        summary_en=summary_en,
        description_de=description_de,
        description_en=description_en,
        plain_language_de=data.text("plain_language"),
        processing_time_de=processing_de,
        processing_time_en=processing_en,
        legal_basis=legal_basis,
        documents=documents,
        fee_kind=fee_kind,
        fees=fees,
        fee_note_de=fee_note_de,
        fee_note_en=fee_note_en,
        external_provider_de=external_provider_de,
        external_provider_en=external_provider_en,
        external_url=external_url,
        file_plan_key=file_plan_key,
        source_hash=digest,
    )


def read_services(
    directory: Path = SERVICES_DIR, *, life_situations: set[str]
) -> list[ServiceDefinition]:
    """All service definitions of a directory, sorted by slug."""
    if not directory.is_dir():
        raise DefinitionError(directory, "(folder)", "the services folder does not exist")
    result = []
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        if folder.name.startswith(("_", ".")):
            continue
        path = folder / DEFINITION_FILE
        if not path.is_file():
            raise DefinitionError(path, "(file)", "is missing")
        result.append(read_service(path, life_situations=life_situations))
    return result
