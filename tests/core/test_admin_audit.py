"""Changes made in the Django admin go into the audit trail (``rathaus.core.admin_audit``):
who may see which cases, who holds which role, how citizens sign in, the tenancy."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from rathaus.accounts.models import IdentityProvider, User
from rathaus.casework.models import StaffMembership
from rathaus.core.admin_audit import HIDDEN
from rathaus.core.models import AuditEvent, Authority, Municipality, OrgUnit
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(db: None) -> OrgUnit:
    municipality = Municipality.objects.create(
        ags="05124000", slug="wuppertal", name="Wuppertal", state="NW"
    )
    authority = Authority.objects.create(
        municipality=municipality, kind="buergeramt", name="Bürgerbüro", address="Markt 1"
    )
    return OrgUnit.objects.create(authority=authority, code="33.1", name="Meldewesen")


def test_granting_and_revoking_access_to_a_units_cases_is_audited(
    admin_client: Client, unit: OrgUnit
) -> None:
    someone = UserFactory(email="neu@stadt.example.org")
    response = admin_client.post(
        "/admin/casework/staffmembership/add/", {"user": someone.pk, "org_unit": unit.pk}
    )
    assert response.status_code == 302
    membership = StaffMembership.objects.get(user=someone, org_unit=unit)
    granted = AuditEvent.objects.get(action="admin.casework.staffmembership.created")
    assert granted.object_id == str(membership.pk)
    assert granted.actor is not None and granted.actor.email == "root@stadt.example.org"
    assert granted.after == {"id": membership.pk, "user": someone.pk, "org_unit": unit.pk}
    assert granted.municipality == unit.authority.municipality

    response = admin_client.post(
        f"/admin/casework/staffmembership/{membership.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    revoked = AuditEvent.objects.get(action="admin.casework.staffmembership.deleted")
    assert revoked.object_id == str(membership.pk)
    assert revoked.before == granted.after and revoked.after is None


def _user_form(user: User, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "email": user.email,
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%d.%m.%Y"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "profile-TOTAL_FORMS": "0",
        "profile-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_a_users_groups_and_staff_flag_are_audited_without_personal_data(
    admin_client: Client,
) -> None:
    person = UserFactory(email="erika.mustermann@example.org")
    clerk = Group.objects.get_or_create(name="clerk")[0]
    response = admin_client.post(
        f"/admin/accounts/user/{person.pk}/change/",
        _user_form(person, groups=[clerk.pk], is_staff="on"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="admin.accounts.user.changed")
    assert event.object_id == str(person.pk)
    assert event.before == {"groups": [], "is_staff": False}
    assert event.after == {"groups": ["clerk"], "is_staff": True}
    assert "erika" not in json.dumps([event.before, event.after])

    response = admin_client.post(f"/admin/accounts/user/{person.pk}/change/", _user_form(person))
    assert response.status_code == 302
    removed = AuditEvent.objects.filter(action="admin.accounts.user.changed").latest("id")
    assert removed.before == {"groups": ["clerk"], "is_staff": True}
    assert removed.after == {"groups": [], "is_staff": False}


def test_saving_a_user_unchanged_writes_no_event(admin_client: Client) -> None:
    person = UserFactory()
    response = admin_client.post(f"/admin/accounts/user/{person.pk}/change/", _user_form(person))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action__startswith="admin.accounts.user").exists()


def test_an_identity_providers_client_secret_never_enters_the_trail(
    admin_client: Client, unit: OrgUnit
) -> None:
    response = admin_client.post(
        "/admin/accounts/identityprovider/add/",
        {
            "municipality": unit.authority.municipality_id,
            "name": "Stadtkonto",
            "slug": "stadtkonto",
            "protocol": "oidc",
            "enabled": "on",
            "allowed_levels": ["low"],
            "issuer": "https://id.stadt.example.org",
            "client_id": "rathaus",
            "client_secret": "s3cr3t-value",
            "acr_values": "{}",
            "requested_attributes": "[]",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    provider = IdentityProvider.objects.get(slug="stadtkonto")
    event = AuditEvent.objects.get(action="admin.accounts.identityprovider.created")
    assert event.object_id == str(provider.pk)
    assert event.after is not None and event.after["client_secret"] == HIDDEN
    assert event.after["issuer"] == "https://id.stadt.example.org"
    assert "s3cr3t-value" not in json.dumps(event.after)


def test_org_units_added_under_an_authority_are_audited(
    admin_client: Client, unit: OrgUnit
) -> None:
    authority = unit.authority
    response = admin_client.post(
        f"/admin/core/authority/{authority.pk}/change/",
        {
            "municipality": authority.municipality_id,
            "kind": authority.kind,
            "name": "Bürgerbüro Mitte",
            "address": authority.address,
            "units-TOTAL_FORMS": "2",
            "units-INITIAL_FORMS": "1",
            "units-0-id": unit.pk,
            "units-0-authority": authority.pk,
            "units-0-code": unit.code,
            "units-0-name": unit.name,
            "units-1-authority": authority.pk,
            "units-1-code": "33.3",
            "units-1-name": "Standesamt",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    renamed = AuditEvent.objects.get(action="admin.core.authority.changed")
    assert (renamed.before, renamed.after) == (
        {"name": "Bürgerbüro"},
        {"name": "Bürgerbüro Mitte"},
    )
    added = AuditEvent.objects.get(action="admin.core.orgunit.created")
    assert added.object_id == str(OrgUnit.objects.get(code="33.3").pk)
    assert added.municipality == authority.municipality
    assert not AuditEvent.objects.filter(action="admin.core.orgunit.changed").exists()


def test_a_units_authority_is_fixed_once_something_refers_to_the_unit(
    admin_client: Client, unit: OrgUnit
) -> None:
    other = Authority.objects.create(
        municipality=unit.authority.municipality, kind="ordnungsamt", name="Ordnungsamt"
    )
    form = {"authority": other.pk, "code": unit.code, "name": "Meldewesen"}
    page = admin_client.get(f"/admin/core/orgunit/{unit.pk}/change/").content.decode()
    assert 'name="authority"' in page  # nothing refers to it yet: it may still move
    StaffMembership.objects.create(user=UserFactory(), org_unit=unit)
    page = admin_client.get(f"/admin/core/orgunit/{unit.pk}/change/").content.decode()
    assert 'name="authority"' not in page
    response = admin_client.post(f"/admin/core/orgunit/{unit.pk}/change/", form)
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.authority != other and unit.name == "Meldewesen"


def test_a_password_set_in_the_admin_is_audited_without_the_password(
    admin_client: Client,
) -> None:
    person = UserFactory(email="sb@stadt.example.org")
    old_hash = User.objects.get(pk=person.pk).password
    page = f"/admin/accounts/user/{person.pk}/password/"
    mismatch = admin_client.post(
        page,
        {
            "password1": "Neues-Passwort-2026",
            "password2": "anders-2026-x",
            "usable_password": "true",
        },
    )
    assert mismatch.status_code == 200  # refused: nothing changed, nothing recorded
    assert not AuditEvent.objects.filter(action="admin.accounts.user.password_set").exists()
    response = admin_client.post(
        page,
        {
            "password1": "Neues-Passwort-2026",
            "password2": "Neues-Passwort-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(pk=person.pk).password != old_hash
    event = AuditEvent.objects.get(action="admin.accounts.user.password_set")
    assert event.object_id == str(person.pk) and event.after == {"usable": True}
    assert "Neues-Passwort" not in json.dumps(event.after) and event.actor is not None
