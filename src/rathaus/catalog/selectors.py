"""Reading the catalog: search, life situations, responsibilities per municipality."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from rathaus.catalog import cache as catalog_cache
from rathaus.catalog.models import LifeSituation, Responsibility, Service
from rathaus.catalog.search import query_terms
from rathaus.core.models import Municipality


def service_labels() -> list[tuple[int, str, str, str]]:
    """(id, slug, German name, English name) of every service, by German name.

    Kept in the cache with the catalog pages (``catalog.cache``: a change to a service
    invalidates it) because the back office's queue filter asks on every request.
    """
    key = catalog_cache.key("service-labels")
    labels: list[tuple[int, str, str, str]] | None = cache.get(key)
    if labels is None:
        labels = list(
            Service.objects.order_by("name_de", "id").values_list(
                "id", "slug", "name_de", "name_en"
            )
        )
        cache.set(key, labels, catalog_cache.TIMEOUT)
    return labels


def municipalities() -> list[Municipality]:
    return list(Municipality.objects.order_by("name"))


def life_situations() -> list[LifeSituation]:
    return list(LifeSituation.objects.order_by("position", "slug"))


def _with_responsibility(
    queryset: QuerySet[Service], municipality: Municipality | None
) -> QuerySet[Service]:
    if municipality is None:
        return queryset
    return queryset.prefetch_related(
        Prefetch(
            "responsibilities",
            queryset=Responsibility.objects.filter(municipality=municipality).select_related(
                "authority__municipality", "municipality"
            ),
            to_attr="local_responsibilities",
        )
    )


def search_services(
    *,
    query: str = "",
    life_situation: LifeSituation | None = None,
    municipality: Municipality | None = None,
) -> list[Service]:
    """Active services matching every word of ``query`` (German-normalised, partial words).

    An empty query lists every service; a query without a single letter or digit lists none.

    Services whose name matches come first. With a municipality, only services someone is
    responsible for there (or that an external provider handles) are listed, and each carries
    ``local_responsibilities`` (zero or one row).
    """
    terms = query_terms(query)
    if query.strip() and not terms:
        return []  # only punctuation or symbols typed: nothing matches, not everything
    services = Service.objects.filter(is_active=True).prefetch_related("life_situations")
    for term in terms:
        services = services.filter(search_text__contains=term)
    if life_situation is not None:
        services = services.filter(life_situations=life_situation)
    if municipality is not None:
        services = services.filter(
            Q(authority_kind="") | Q(responsibilities__municipality=municipality)
        ).distinct()
    if terms:
        name_hits = sum(
            (
                Case(
                    When(search_name__contains=t, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
                for t in terms
            ),
            Value(0),
        )
        services = services.annotate(name_hits=name_hits).order_by("-name_hits", "name_de")
    else:
        services = services.order_by("name_de")
    return list(_with_responsibility(services, municipality))


@dataclass
class LifeSituationGroup:
    life_situation: LifeSituation
    services: list[Service] = field(default_factory=list)


def group_by_life_situation(
    services: list[Service], situations: list[LifeSituation]
) -> list[LifeSituationGroup]:
    """The services under each life situation they belong to (a service may appear twice)."""
    groups = {s.pk: LifeSituationGroup(s) for s in situations}
    for service in services:
        for situation in service.life_situations.all():
            if situation.pk in groups:
                groups[situation.pk].services.append(service)
    return [g for g in groups.values() if g.services]


def service_by_slug(slug: str) -> Service | None:
    return (
        Service.objects.filter(slug=slug, is_active=True)
        .prefetch_related("life_situations")
        .first()
    )


def responsibility_for(*, service: Service, municipality: Municipality) -> Responsibility | None:
    return (
        Responsibility.objects.filter(service=service, municipality=municipality)
        .select_related("authority__municipality", "municipality")
        .first()
    )


def responsibilities_of(service: Service) -> list[Responsibility]:
    """Who handles the service for the residents of each municipality."""
    return list(
        Responsibility.objects.filter(service=service)
        .select_related("authority__municipality", "municipality")
        .order_by("municipality__name")
    )
