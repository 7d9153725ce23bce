"""The tenancy in the Django admin: an authority (or org unit) that anything refers to stays
where it is, so one municipality's cases, files and clerks never move into another's."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from rathaus.casework.models import ServiceRouting
from rathaus.catalog.models import Service
from rathaus.core.models import AuditEvent, Authority, Municipality, OrgUnit
from rathaus.mailbox.services import deliver
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

REFUSED = (
    "This authority cannot move to another municipality: cases, files or other records "
    "already refer to it. Create a new authority in the other municipality instead."
)


@pytest.fixture
def wuppertal(db: None) -> Municipality:
    return Municipality.objects.create(
        ags="05124000", slug="wuppertal", name="Wuppertal", state="NW"
    )


@pytest.fixture
def solingen(db: None) -> Municipality:
    return Municipality.objects.create(ags="05122000", slug="solingen", name="Solingen", state="NW")


@pytest.fixture
def authority(wuppertal: Municipality) -> Authority:
    return Authority.objects.create(
        municipality=wuppertal, kind="buergeramt", name="Bürgerbüro", address="Markt 1"
    )


def _authority_form(authority: Authority, **changes: Any) -> dict[str, Any]:
    units = list(authority.units.order_by("pk"))
    data: dict[str, Any] = {
        "municipality": authority.municipality_id,
        "kind": authority.kind,
        "name": authority.name,
        "address": authority.address,
        "units-TOTAL_FORMS": str(len(units)),
        "units-INITIAL_FORMS": str(len(units)),
    }
    for index, unit in enumerate(units):
        data.update(
            {
                f"units-{index}-id": unit.pk,
                f"units-{index}-authority": authority.pk,
                f"units-{index}-code": unit.code,
                f"units-{index}-name": unit.name,
            }
        )
    data.update(changes)
    return data


def test_an_authority_with_org_units_cannot_move_to_another_municipality(
    admin_client: Client, authority: Authority, wuppertal: Municipality, solingen: Municipality
) -> None:
    OrgUnit.objects.create(authority=authority, code="33.1", name="Meldewesen")
    response = admin_client.post(
        f"/admin/core/authority/{authority.pk}/change/",
        _authority_form(authority, municipality=solingen.pk, name="Bürgerbüro Mitte"),
    )

    assert response.status_code == 200  # the form again, with the message beside the field
    form = response.context["adminform"].form
    with translation.override("en"):
        assert [str(error) for error in form.errors["municipality"]] == [REFUSED]
    assert form["name"].value() == "Bürgerbüro Mitte"  # what was typed is kept
    assert form["municipality"].value() == str(solingen.pk)
    page = response.content.decode()
    assert "Diese Behörde kann nicht in eine andere Kommune verschoben werden" in page
    authority.refresh_from_db()
    assert (authority.municipality, authority.name) == (wuppertal, "Bürgerbüro")
    assert not AuditEvent.objects.filter(action="admin.core.authority.changed").exists()


def test_an_authority_only_the_mailbox_refers_to_cannot_move_either(
    admin_client: Client, authority: Authority, wuppertal: Municipality, solingen: Municipality
) -> None:
    """Messages point to their authority without a reverse name (``related_name="+"``): they
    count all the same."""
    deliver(
        owner=UserFactory(),
        kind="information",
        subject="Hinweis",
        body="Text",
        authority=authority,
    )
    response = admin_client.post(
        f"/admin/core/authority/{authority.pk}/change/",
        _authority_form(authority, municipality=solingen.pk),
    )

    assert response.status_code == 200
    assert "municipality" in response.context["adminform"].form.errors
    authority.refresh_from_db()
    assert authority.municipality == wuppertal


def test_an_authority_nothing_refers_to_yet_may_move_and_be_renamed(
    admin_client: Client, authority: Authority, solingen: Municipality
) -> None:
    response = admin_client.post(
        f"/admin/core/authority/{authority.pk}/change/",
        _authority_form(authority, municipality=solingen.pk, name="Bürgerbüro Solingen"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    authority.refresh_from_db()
    assert (authority.municipality, authority.name) == (solingen, "Bürgerbüro Solingen")
    moved = AuditEvent.objects.get(action="admin.core.authority.changed")
    assert moved.after is not None and moved.after["municipality"] == solingen.pk


def test_an_authority_with_cases_may_still_be_renamed_in_its_municipality(
    admin_client: Client, authority: Authority, wuppertal: Municipality
) -> None:
    OrgUnit.objects.create(authority=authority, code="33.1", name="Meldewesen")
    response = admin_client.post(
        f"/admin/core/authority/{authority.pk}/change/",
        _authority_form(authority, name="Bürgerbüro Mitte"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    authority.refresh_from_db()
    assert (authority.municipality, authority.name) == (wuppertal, "Bürgerbüro Mitte")


def test_a_units_authority_is_fixed_once_a_routing_refers_to_the_unit(
    admin_client: Client, authority: Authority
) -> None:
    """A routing points to its unit without a reverse name (``related_name="+"``): it counts."""
    unit = OrgUnit.objects.create(authority=authority, code="33.1", name="Meldewesen")
    other = Authority.objects.create(
        municipality=authority.municipality, kind="ordnungsamt", name="Ordnungsamt"
    )
    ServiceRouting.objects.create(
        authority=authority,
        service=Service.objects.get(slug="meldebescheinigung"),
        org_unit=unit,
    )
    page = admin_client.get(f"/admin/core/orgunit/{unit.pk}/change/").content.decode()
    assert 'name="authority"' not in page
    response = admin_client.post(
        f"/admin/core/orgunit/{unit.pk}/change/",
        {"authority": other.pk, "code": unit.code, "name": unit.name},
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.authority == authority


KIND_REFUSED = (
    "The kind of this authority cannot change: documents and records already refer to it, and "
    "the verification of its documents would fail. Create a new authority instead."
)
AGS_REFUSED = (
    "The official municipality key cannot change: documents and records of this "
    "municipality's authorities already carry it, and their verification would fail."
)


def _issue(authority: Authority) -> None:
    """A document the authority issued, logged in GovChain (which records kind and AGS)."""
    from rathaus.ledger import services as ledger

    ledger.append(document_type="notice", authority=authority, document=b"%PDF-1.7 Bescheid")


def test_the_kind_of_an_authority_that_issued_documents_is_fixed(
    admin_client: Client, authority: Authority
) -> None:
    _issue(authority)
    response = admin_client.post(
        f"/admin/core/authority/{authority.pk}/change/",
        _authority_form(authority, kind="ordnungsamt", name="Bürgerbüro Mitte"),
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    with translation.override("en"):
        assert [str(error) for error in form.errors["kind"]] == [KIND_REFUSED]
    assert form["name"].value() == "Bürgerbüro Mitte"
    assert "Die Art dieser Behörde kann nicht mehr geändert werden" in response.content.decode()
    authority.refresh_from_db()
    assert authority.kind == "buergeramt"


def test_the_kind_cannot_change_through_the_municipalitys_inline_either(
    admin_client: Client, authority: Authority, wuppertal: Municipality
) -> None:
    _issue(authority)
    response = admin_client.post(
        f"/admin/core/municipality/{wuppertal.pk}/change/",
        _municipality_form(wuppertal, authority, **{"authorities-0-kind": "ordnungsamt"}),
    )

    assert response.status_code == 200
    authority.refresh_from_db()
    assert authority.kind == "buergeramt"


def test_the_ags_of_a_municipality_whose_authority_issued_documents_is_fixed(
    admin_client: Client, authority: Authority, wuppertal: Municipality
) -> None:
    _issue(authority)
    response = admin_client.post(
        f"/admin/core/municipality/{wuppertal.pk}/change/",
        _municipality_form(wuppertal, authority, ags="05124001", name="Stadt Wuppertal"),
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    with translation.override("en"):
        assert [str(error) for error in form.errors["ags"]] == [AGS_REFUSED]
    assert form["name"].value() == "Stadt Wuppertal"
    wuppertal.refresh_from_db()
    assert (wuppertal.ags, wuppertal.name) == ("05124000", "Wuppertal")


def test_kind_and_ags_may_change_while_nothing_refers_to_the_authority(
    admin_client: Client, authority: Authority, wuppertal: Municipality
) -> None:
    response = admin_client.post(
        f"/admin/core/municipality/{wuppertal.pk}/change/",
        _municipality_form(
            wuppertal, authority, ags="05124001", **{"authorities-0-kind": "ordnungsamt"}
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    wuppertal.refresh_from_db()
    authority.refresh_from_db()
    assert (wuppertal.ags, authority.kind) == ("05124001", "ordnungsamt")


def _municipality_form(
    municipality: Municipality, authority: Authority, **changes: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": municipality.name,
        "ags": municipality.ags,
        "state": municipality.state,
        "slug": municipality.slug,
        "authorities-TOTAL_FORMS": "1",
        "authorities-INITIAL_FORMS": "1",
        "authorities-0-id": authority.pk,
        "authorities-0-municipality": municipality.pk,
        "authorities-0-kind": authority.kind,
        "authorities-0-name": authority.name,
        "authorities-0-address": authority.address,
    }
    data.update(changes)
    return data
