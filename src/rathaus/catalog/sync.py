"""Loading the service definition files into the database (on every ``migrate``).

The upsert is by slug and idempotent: unchanged files are skipped by their hash, services whose
folder was removed are deactivated (applications may still refer to them), and responsibilities
are only ever added where one is missing — what an administrator changed stays as it is.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from rathaus.catalog import definitions
from rathaus.catalog.models import LifeSituation, Responsibility, Service
from rathaus.catalog.search import index_text
from rathaus.core import audit
from rathaus.core.models import Authority, Municipality

logger = logging.getLogger(__name__)

# Bump when the way search text is built changes, so every service is re-indexed on migrate.
SEARCH_INDEX_VERSION = 1


@dataclass(frozen=True)
class SyncResult:
    created: int
    updated: int
    unchanged: int
    deactivated: int


def _search_fields(
    d: definitions.ServiceDefinition, situation_names: dict[str, str]
) -> tuple[str, str]:
    name = index_text(d.name_de, d.name_en)
    text = index_text(
        d.name_de,
        d.name_en,
        " ".join(d.keywords),
        " ".join(situation_names[s] for s in d.life_situations),
        d.summary_de,
        d.summary_en,
        d.description_de,
        d.description_en,
    )
    return name, text


@transaction.atomic
def sync_catalog(
    *,
    services_dir: Path = definitions.SERVICES_DIR,
    life_situations_file: Path = definitions.LIFE_SITUATIONS_FILE,
) -> SyncResult:
    """Validate every definition file first, then write them all in one transaction."""
    situations = definitions.read_life_situations(life_situations_file)
    defs = definitions.read_services(services_dir, life_situations={s.slug for s in situations})

    for s in situations:
        LifeSituation.objects.update_or_create(
            slug=s.slug,
            defaults={"name_de": s.name_de, "name_en": s.name_en, "position": s.position},
        )
    situation_ids = dict(LifeSituation.objects.values_list("slug", "id"))
    situation_names = {s.slug: f"{s.name_de} {s.name_en}" for s in situations}
    existing = {s.slug: s for s in Service.objects.all()}
    created = updated = unchanged = 0
    for d in defs:
        service = existing.get(d.slug)
        digest = hashlib.sha256(
            f"{SEARCH_INDEX_VERSION}|{d.source_hash}|{situations!r}".encode()
        ).hexdigest()
        if service is not None and service.source_hash == digest and service.is_active:
            unchanged += 1
            continue
        search_name, search_text = _search_fields(d, situation_names)
        values = {
            "leika_key": d.leika_key,
            "name_de": d.name_de,
            "name_en": d.name_en,
            "summary_de": d.summary_de,
            "summary_en": d.summary_en,
            "description_de": d.description_de,
            "description_en": d.description_en,
            "plain_language_de": d.plain_language_de,
            "legal_basis": d.legal_basis,
            "documents": d.documents,
            "fee_kind": d.fee_kind,
            "fees": d.fees,
            "fee_note_de": d.fee_note_de,
            "fee_note_en": d.fee_note_en,
            "trust_level": d.trust_level,
            "processing_time_de": d.processing_time_de,
            "processing_time_en": d.processing_time_en,
            "online": d.online,
            "authority_kind": d.authority_kind,
            "external_provider_de": d.external_provider_de,
            "external_provider_en": d.external_provider_en,
            "external_url": d.external_url,
            "file_plan_key": d.file_plan_key,
            "keywords": "\n".join(d.keywords),
            "search_name": search_name,
            "search_text": search_text,
            "source_file": f"{d.slug}/{definitions.DEFINITION_FILE}",
            "source_hash": digest,
            "is_active": True,
        }
        if service is None:
            service = Service.objects.create(slug=d.slug, **values)
            created += 1
            action = "catalog.service_created"
        else:
            for key, value in values.items():
                setattr(service, key, value)
            service.save()
            updated += 1
            action = "catalog.service_updated"
        service.life_situations.set([situation_ids[s] for s in d.life_situations])
        audit.record(
            actor=None,
            action=action,
            obj=service,
            after={"source_hash": digest},
        )
    known = {d.slug for d in defs}
    deactivated = 0
    for slug, service in existing.items():
        if slug not in known and service.is_active:
            service.is_active = False
            service.save(update_fields=["is_active", "updated_at"])
            audit.record(actor=None, action="catalog.service_deactivated", obj=service)
            deactivated += 1
    assign_local_responsibilities()
    return SyncResult(created, updated, unchanged, deactivated)


def assign_local_responsibilities(*, delegations: dict[str, Municipality] | None = None) -> int:
    """Give every (service, municipality) pair without a responsibility its handling authority.

    ``delegations`` maps service slugs to the municipality that handles them for everyone
    ("Einer für Alle"); every other service goes to the municipality's own authority of the
    service's kind. Existing rows are never changed. Returns how many rows were created.
    """
    delegations = delegations or {}
    authorities = {(a.municipality_id, a.kind): a for a in Authority.objects.all()}
    taken = set(Responsibility.objects.values_list("service_id", "municipality_id"))
    new = []
    for service in Service.objects.filter(is_active=True).exclude(authority_kind=""):
        for municipality in Municipality.objects.all():
            if (service.pk, municipality.pk) in taken:
                continue
            handler = delegations.get(service.slug, municipality)
            authority = authorities.get((handler.pk, service.authority_kind))
            if authority is None:
                continue
            new.append(
                Responsibility(service=service, municipality=municipality, authority=authority)
            )
    Responsibility.objects.bulk_create(new)
    if new:
        logger.info("catalog: %d responsibilities assigned", len(new))
    return len(new)
