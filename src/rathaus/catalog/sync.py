"""Loading the service definition files into the database (on every ``migrate``).

The upsert is by slug and idempotent: unchanged files are skipped by their hash, so what an
administrator edited stays until the service's file changes; then the file's values replace
the edited ones — except ``is_active``: a service switched off in the admin stays off. Services
whose folder was removed are deactivated (applications may still refer to them) and come back
when it does. Responsibilities are created only for services new in this load and for
municipalities that have none yet — a row an administrator deleted stays deleted — and never
changed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import QuerySet

from rathaus.catalog import definitions
from rathaus.catalog.models import LifeSituation, Responsibility, Service
from rathaus.catalog.search import index_text
from rathaus.core import audit
from rathaus.core.models import Authority, Municipality

logger = logging.getLogger(__name__)

# Bump when the way search text is built changes, so every service is re-indexed on migrate.
SEARCH_INDEX_VERSION = 3


@dataclass(frozen=True)
class SyncResult:
    created: int
    updated: int
    unchanged: int
    deactivated: int
    responsibilities: int = 0


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
    assign_responsibilities: bool = True,
) -> SyncResult:
    """Validate every definition file first, then write them all in one transaction.

    ``assign_responsibilities=False`` leaves the responsibilities to the caller (the demo,
    which knows the delegations between municipalities).
    """
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
    new_services: list[int] = []
    for d in defs:
        service = existing.get(d.slug)
        digest = hashlib.sha256(
            f"{SEARCH_INDEX_VERSION}|{d.source_hash}|{situations!r}".encode()
        ).hexdigest()
        if (
            service is not None
            and service.source_hash == digest
            and not service.deactivated_by_sync
        ):
            unchanged += 1  # active, or switched off in the admin: stays as it is
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
            # back with its folder; switched off in the admin: stays off
            "is_active": service is None or service.deactivated_by_sync or service.is_active,
            "deactivated_by_sync": False,
        }
        if service is None:
            service = Service.objects.create(slug=d.slug, **values)
            new_services.append(service.pk)
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
            service.deactivated_by_sync = True
            service.save(update_fields=["is_active", "deactivated_by_sync", "updated_at"])
            audit.record(actor=None, action="catalog.service_deactivated", obj=service)
            deactivated += 1
    assigned = 0
    if assign_responsibilities:
        # read first: the new services' rows would otherwise make a new municipality non-empty
        empty = list(
            Municipality.objects.filter(responsibilities__isnull=True).values_list("pk", flat=True)
        )
        assigned = assign_local_responsibilities(
            services=Service.objects.filter(pk__in=new_services)
        ) + assign_local_responsibilities(municipalities=Municipality.objects.filter(pk__in=empty))
    return SyncResult(created, updated, unchanged, deactivated, assigned)


@dataclass(frozen=True)
class LocalFee:
    """A municipal fee to set on a responsibility as it is created."""

    amount: Decimal
    note_de: str = ""
    note_en: str = ""


def assign_local_responsibilities(
    *,
    delegations: dict[str, Municipality] | None = None,
    fees: dict[tuple[str, str], LocalFee] | None = None,
    services: QuerySet[Service] | None = None,
    municipalities: QuerySet[Municipality] | None = None,
) -> int:
    """Give every (service, municipality) pair without a responsibility its handling authority.

    ``delegations`` maps service slugs to the municipality that handles them for everyone
    ("Einer für Alle"); every other service goes to the municipality's own authority of the
    service's kind. ``fees`` by (service slug, handling municipality slug). ``services`` and
    ``municipalities`` limit the pairs (default: every active service, every municipality).
    Existing rows are never changed; each row created is audited (and, saved one by one,
    invalidates the cached catalog pages). Returns how many rows were created.
    """
    delegations = delegations or {}
    fees = fees or {}
    authorities = {
        (a.municipality_id, a.kind): a for a in Authority.objects.select_related("municipality")
    }
    taken = set(Responsibility.objects.values_list("service_id", "municipality_id"))
    services = (services if services is not None else Service.objects.all()).filter(is_active=True)
    municipalities = municipalities if municipalities is not None else Municipality.objects.all()
    places = list(municipalities.order_by("pk"))
    created = 0
    for service in services.exclude(authority_kind="").order_by("pk"):
        for municipality in places:
            if (service.pk, municipality.pk) in taken:
                continue
            handler = delegations.get(service.slug, municipality)
            authority = authorities.get((handler.pk, service.authority_kind))
            if authority is None:
                continue
            fee = fees.get((service.slug, authority.municipality.slug))
            row = Responsibility.objects.create(
                service=service,
                municipality=municipality,
                authority=authority,
                local_fee=fee.amount if fee else None,
                local_fee_note_de=fee.note_de if fee else "",
                local_fee_note_en=fee.note_en if fee else "",
            )
            audit.record(
                actor=None,
                action="catalog.responsibility_created",
                obj=row,
                after={
                    "service": service.slug,
                    "municipality": municipality.slug,
                    "authority": authority.pk,
                    "local_fee": str(row.local_fee) if row.local_fee is not None else None,
                },
                municipality=municipality,
            )
            created += 1
    if created:
        logger.info("catalog: %d responsibilities assigned", created)
    return created
