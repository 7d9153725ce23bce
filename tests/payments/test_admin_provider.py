"""The provider secret is write-only in the admin: nobody sees it, whatever their permission;
every save is audited with the settings before and after, without the secret."""

from __future__ import annotations

import time
from typing import Any

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Permission
from django.test import Client

from rathaus.accounts.models import User
from rathaus.core.models import AuditEvent, Municipality
from rathaus.payments.models import ProviderConfig

SECRET = "TOPSECRET-bearer-token-4711"


@pytest.fixture
def config(db: None) -> ProviderConfig:
    municipality = Municipality.objects.create(
        name="Wuppertal", slug="wuppertal", ags="05124000", state="NW"
    )
    return ProviderConfig.objects.create(
        municipality=municipality,
        base_url="https://epay.example.de/api",
        originator_id="orig",
        auth_scheme=ProviderConfig.AuthScheme.BEARER,
        secret=SECRET,
    )


def _staff(client: Client, *codenames: str) -> Client:
    """A staff member with these permissions only, logged in with a second factor."""
    user = User.objects.create_user(email="support@example.org", password="x" * 20)
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(user)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "mfa", "type": "totp", "at": time.time()}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


def _page(client: Client, config: ProviderConfig) -> str:
    response = client.get(f"/admin/payments/providerconfig/{config.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_staff_who_may_only_view_the_provider_never_see_its_secret(
    config: ProviderConfig, client: Client
) -> None:
    page = _page(_staff(client, "view_providerconfig"), config)

    assert SECRET not in page
    assert "Passwort oder Token hinterlegt" in page
    assert '<div class="readonly">gesetzt</div>' in page
    assert "orig" in page  # the rest is shown


def test_staff_who_may_change_the_provider_never_see_its_secret(
    config: ProviderConfig, client: Client
) -> None:
    page = _page(_staff(client, "view_providerconfig", "change_providerconfig"), config)

    assert SECRET not in page
    assert 'type="password"' in page
    assert '<div class="readonly">gesetzt</div>' in page


def test_a_provider_without_a_secret_says_so(config: ProviderConfig, client: Client) -> None:
    config.secret = ""
    config.save()

    page = _page(_staff(client, "view_providerconfig"), config)

    assert '<div class="readonly">nicht gesetzt</div>' in page


def test_saving_the_provider_audits_every_setting_before_and_after_but_the_secret(
    config: ProviderConfig, client: Client
) -> None:
    admin = _staff(client, "view_providerconfig", "change_providerconfig")

    admin.post(
        f"/admin/payments/providerconfig/{config.pk}/change/",
        {
            "municipality": config.municipality_id,
            "provider": "xbezahldienste",
            "base_url": "https://epay2.example.de/api",
            "originator_id": "orig",
            "endpoint_id": "05124000-1",
            "auth_scheme": "basic",
            "username": "kasse",
            "secret": "",
            "timeout_seconds": 7,
        },  # "enabled" left out: switched off
    )

    event = AuditEvent.objects.get(action="payment_provider.changed")
    before: dict[str, Any] = event.before
    after: dict[str, Any] = event.after
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed == {
        "base_url",
        "enabled",
        "endpoint_id",
        "effective_endpoint_id",
        "auth_scheme",
        "username",
        "timeout_seconds",
        "secret_changed",
    }
    assert (before["enabled"], after["enabled"]) == (True, False)
    assert (before["auth_scheme"], after["auth_scheme"]) == ("bearer", "basic")
    assert (before["timeout_seconds"], after["timeout_seconds"]) == (10, 7)
    assert before["secret_set"] is after["secret_set"] is True
    assert SECRET not in str(event.before) + str(event.after)


def test_the_form_for_a_new_provider_says_no_secret_is_stored_yet(
    config: ProviderConfig, client: Client
) -> None:
    admin = _staff(client, "view_providerconfig", "add_providerconfig")

    response = admin.get("/admin/payments/providerconfig/add/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="password"' in page
    assert '<div class="readonly">nicht gesetzt</div>' in page
