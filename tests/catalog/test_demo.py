"""Demo data: the Bergisches Städtedreieck and its division of labour ("Einer für Alle")."""

from __future__ import annotations

import io
import shutil
from decimal import Decimal
from pathlib import Path

from django.core.management import call_command

from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import AuditEvent, Authority, Municipality, OrgUnit

CITIES = ["remscheid", "solingen", "wuppertal"]
REMSCHEID_FOR_ALL = [
    "wohnsitz-anmelden",
    "wohnsitz-ummelden",
    "wohnsitz-abmelden",
    "meldebescheinigung",
    "geburtsurkunde",
    "eheschliessung-anmelden",
]


def _handler(service: str, residents: str) -> Responsibility:
    return Responsibility.objects.select_related("authority__municipality").get(
        service__slug=service, municipality__slug=residents
    )


def test_the_three_cities_exist_with_their_ags(demo: None) -> None:
    assert dict(Municipality.objects.values_list("slug", "ags")) == {
        "wuppertal": "05124000",
        "solingen": "05122000",
        "remscheid": "05120000",
    }
    assert set(Municipality.objects.values_list("state", flat=True)) == {"NW"}
    assert Authority.objects.filter(municipality__slug="remscheid").count() >= 10
    assert OrgUnit.objects.filter(authority__kind="standesamt").count() == 6


def test_remscheid_handles_registration_and_civil_status_for_all_three(demo: None) -> None:
    for service in REMSCHEID_FOR_ALL:
        for residents in CITIES:
            responsibility = _handler(service, residents)
            assert responsibility.authority.municipality.slug == "remscheid", (service, residents)
            assert responsibility.is_shared == (residents != "remscheid")


def test_solingen_naturalises_and_wuppertal_pays_parental_allowance_for_all_three(
    demo: None,
) -> None:
    for residents in CITIES:
        naturalisation = _handler("einbuergerung", residents)
        assert naturalisation.authority.municipality.slug == "solingen"
        assert naturalisation.authority.kind == "einbuergerung"
        parental = _handler("elterngeld", residents)
        assert parental.authority.municipality.slug == "wuppertal"
        assert parental.authority.kind == "jugendamt"


def test_everything_else_is_handled_locally(demo: None) -> None:
    shared = {*REMSCHEID_FOR_ALL, "einbuergerung", "elterngeld"}
    local = Responsibility.objects.exclude(service__slug__in=shared).select_related(
        "authority", "service"
    )
    assert local.count() == (Service.objects.exclude(authority_kind="").count() - 8) * 3
    for responsibility in local:
        assert responsibility.authority.municipality_id == responsibility.municipality_id
        assert responsibility.authority.kind == responsibility.service.authority_kind


def test_every_municipal_service_has_a_responsibility_in_every_city(demo: None) -> None:
    municipal = Service.objects.exclude(authority_kind="")
    assert Responsibility.objects.count() == municipal.count() * 3


def test_the_federal_child_benefit_has_no_municipal_responsibility(demo: None) -> None:
    kindergeld = Service.objects.get(slug="kindergeld")
    assert kindergeld.is_external
    assert kindergeld.external_url.startswith("https://www.arbeitsagentur.de/")
    assert not kindergeld.responsibilities.exists()


def test_municipal_fees_are_configured_per_handling_city(demo: None) -> None:
    assert _handler("gewerbe-anmelden", "solingen").local_fee == Decimal("26.00")
    assert _handler("meldebescheinigung", "wuppertal").local_fee == Decimal("10.00")


def test_load_demo_is_idempotent(demo: None) -> None:
    counts = (
        Municipality.objects.count(),
        Authority.objects.count(),
        OrgUnit.objects.count(),
        Responsibility.objects.count(),
    )
    call_command("load_demo", stdout=io.StringIO())
    assert counts == (
        Municipality.objects.count(),
        Authority.objects.count(),
        OrgUnit.objects.count(),
        Responsibility.objects.count(),
    )


def test_load_demo_keeps_authority_details_an_administrator_edited(demo: None) -> None:
    office = Authority.objects.get(municipality__slug="remscheid", kind="buergeramt")
    office.opening_hours = "Mo-Fr 8-12 Uhr"
    office.save()
    call_command("load_demo", stdout=io.StringIO())
    office.refresh_from_db()
    assert office.opening_hours == "Mo-Fr 8-12 Uhr"


def test_demo_invents_no_phone_numbers(demo: None) -> None:
    assert not Authority.objects.exclude(phone="").exists()


def test_a_missing_delegated_responsibility_is_recreated_for_the_delegate(demo: None) -> None:
    Responsibility.objects.filter(
        service__slug="wohnsitz-anmelden", municipality__slug="wuppertal"
    ).delete()
    call_command("load_demo", stdout=io.StringIO())
    assert _handler("wohnsitz-anmelden", "wuppertal").authority.municipality.slug == "remscheid"


def test_responsibilities_the_demo_creates_are_audited_and_shown_at_once(demo: None) -> None:
    from rathaus.catalog import cache as catalog_cache

    Responsibility.objects.filter(
        service__slug="meldebescheinigung", municipality__slug="solingen"
    ).delete()
    version = catalog_cache.version()
    call_command("load_demo", stdout=io.StringIO())
    row = _handler("meldebescheinigung", "solingen")
    assert row.local_fee == Decimal("10.00")  # the delegate's fee, set as the row is created
    event = AuditEvent.objects.get(action="catalog.responsibility_created", object_id=str(row.pk))
    assert event.after == {
        "service": "meldebescheinigung",
        "municipality": "solingen",
        "authority": row.authority_id,
        "local_fee": "10.00",
    }
    assert catalog_cache.version() != version  # cached catalog pages are not served stale


def test_a_responsibility_deleted_in_the_admin_stays_deleted_after_migrate(demo: None) -> None:
    from rathaus.catalog.sync import sync_catalog

    Responsibility.objects.filter(
        service__slug="wohnsitz-anmelden", municipality__slug="wuppertal"
    ).delete()
    result = sync_catalog()
    assert result.responsibilities == 0
    assert not Responsibility.objects.filter(
        service__slug="wohnsitz-anmelden", municipality__slug="wuppertal"
    ).exists()


def test_a_new_municipality_gets_its_local_responsibilities_audited(demo: None) -> None:
    from rathaus.catalog.sync import sync_catalog

    town = Municipality.objects.create(
        name="Haan", slug="haan", ags="05158012", state=Municipality.State.NW
    )
    office = Authority.objects.create(
        municipality=town, kind="buergeramt", name="Bürgerbüro Haan", address="Kaiserstr. 85"
    )
    result = sync_catalog()
    rows = Responsibility.objects.filter(municipality=town)
    assert result.responsibilities == rows.count() > 0
    assert set(rows.values_list("authority", flat=True)) == {office.pk}
    assert (
        AuditEvent.objects.filter(
            action="catalog.responsibility_created", municipality=town
        ).count()
        == rows.count()
    )


def test_a_new_service_gets_a_responsibility_in_every_municipality(
    demo: None, tmp_path: Path
) -> None:
    from rathaus.catalog import definitions
    from rathaus.catalog.sync import sync_catalog

    services = tmp_path / "services"
    shutil.copytree(definitions.SERVICES_DIR, services)
    shutil.copytree(services / "meldebescheinigung", services / "meldebescheinigung-neu")
    result = sync_catalog(services_dir=services)
    assert result.created == 1
    rows = Responsibility.objects.filter(service__slug="meldebescheinigung-neu")
    assert result.responsibilities == rows.count() == len(CITIES)
    audited = AuditEvent.objects.filter(action="catalog.responsibility_created")
    assert set(audited.values_list("object_id", flat=True)) >= {str(r.pk) for r in rows}
