"""Names and dates of birth an administrator changes in the Django admin are audited by field
name and no longer count as confirmed by a citizen-account login
(``selectors.verified_identity``), until the next login at "substantial" or "high"."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.forms import MultiWidget
from django.http import HttpResponse
from django.test import Client, RequestFactory

from rathaus.accounts.admin import ProfileInline, UserAdmin
from rathaus.accounts.models import IdentityProvider, Profile, User
from rathaus.accounts.selectors import verified_identity
from rathaus.core.models import AuditEvent
from tests.accounts.factories import PASSWORD, StaffFactory
from tests.accounts.test_mfa import totp_code
from tests.accounts.test_verified_identity import ERIKA, _linked_user, _log_in_as

pytestmark = pytest.mark.django_db

#: What an administrator needs to edit accounts with their profiles — and nothing more.
PERMISSIONS = (
    "view_user",
    "change_user",
    "add_user",
    "view_profile",
    "change_profile",
    "add_profile",
)
ADMIN_PROFILE_ACTIONS = ("admin.accounts.profile.created", "admin.accounts.profile.changed")


@pytest.fixture
def administrator() -> User:
    user: User = StaffFactory(email="verwaltung@stadt.example.org")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="accounts", codename__in=PERMISSIONS)
    )
    return user


@pytest.fixture
def admin_client(administrator: User) -> Client:
    """The administrator in the admin, logged in with password and TOTP code as the admin
    requires."""
    secret = generate_totp_secret()
    TOTP.activate(administrator, secret)
    client = Client()
    client.post("/konto/login/", {"login": administrator.email, "password": PASSWORD})
    client.post("/konto/2fa/authenticate/", {"code": totp_code(secret)})
    assert client.get("/admin/accounts/user/").status_code == 200
    return client


@pytest.fixture
def confirmed_citizen(provider: IdentityProvider) -> User:
    """A citizen whose name and date of birth an ID-card login confirmed."""
    user = _linked_user(provider)
    _log_in_as(provider, "high", ERIKA)
    assert verified_identity(user) is not None
    return user


def _page_data(response: HttpResponse) -> dict[str, Any]:
    """What the admin's change page would send back unchanged: its form, the inlines'
    management forms and forms, each field under its HTML name."""
    context: Any = response.context
    forms: list[Any] = [context["adminform"].form]
    for inline in context["inline_admin_formsets"]:
        forms.extend([inline.formset.management_form, *inline.formset.forms])
    data: dict[str, Any] = {}
    for form in forms:
        for bound in form:
            if bound.field.disabled:
                continue
            value = bound.value()
            widget = bound.field.widget
            if isinstance(widget, MultiWidget):
                for index, part in enumerate(widget.decompress(value)):
                    if part is not None:
                        data[f"{bound.html_name}_{index}"] = str(part)
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            elif value is True:
                data[bound.html_name] = "on"
            elif value is not None and value is not False:
                data[bound.html_name] = str(value)
    return data


def _save_change_page(client: Client, user: User, **changes: str) -> HttpResponse:
    """Open ``user``'s change page, change ``changes`` (HTML names) and save it."""
    address = f"/admin/accounts/user/{user.pk}/change/"
    page = client.get(address)
    assert page.status_code == 200
    data = _page_data(page)
    for name in changes:
        assert name in data, name  # the field is on the page
    response: HttpResponse = client.post(address, {**data, **changes})
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def _admin_profile_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__in=ADMIN_PROFILE_ACTIONS).order_by("id"))


def test_a_name_changed_on_the_user_page_is_audited_and_no_longer_confirmed(
    admin_client: Client, administrator: User, confirmed_citizen: User
) -> None:
    _save_change_page(admin_client, confirmed_citizen, **{"profile-0-family_name": "Fremder"})

    confirmed_citizen.profile.refresh_from_db()
    assert confirmed_citizen.profile.family_name == "Fremder"
    [event] = _admin_profile_events()
    assert event.action == "admin.accounts.profile.changed"
    assert event.actor_id == administrator.pk
    assert (event.object_type, event.object_id) == (
        "accounts.Profile",
        str(confirmed_citizen.profile.pk),
    )
    assert event.after == {"fields": ["family_name"]}
    assert event.before is None  # names only: the trail outlives the account
    assert verified_identity(confirmed_citizen) is None


def test_a_date_of_birth_changed_in_the_admin_is_no_longer_confirmed(
    admin_client: Client, confirmed_citizen: User
) -> None:
    _save_change_page(admin_client, confirmed_citizen, **{"profile-0-birth_date": "1965-08-12"})

    [event] = _admin_profile_events()
    assert event.after == {"fields": ["birth_date"]}
    assert verified_identity(confirmed_citizen) is None


def test_the_next_id_card_login_confirms_the_identity_again(
    admin_client: Client, confirmed_citizen: User, provider: IdentityProvider
) -> None:
    _save_change_page(admin_client, confirmed_citizen, **{"profile-0-given_names": "Erica"})
    assert verified_identity(confirmed_citizen) is None
    _log_in_as(provider, "high", ERIKA)
    profile = verified_identity(confirmed_citizen)
    assert profile is not None and profile.given_names == "Erika"


def test_an_admin_save_that_leaves_the_identity_alone_keeps_it_confirmed(
    admin_client: Client, confirmed_citizen: User
) -> None:
    _save_change_page(admin_client, confirmed_citizen)  # saved unchanged
    assert _admin_profile_events() == []
    _save_change_page(admin_client, confirmed_citizen, **{"profile-0-street": "Neumarkt"})

    [event] = _admin_profile_events()
    assert event.after == {"fields": ["street"]}
    profile = verified_identity(confirmed_citizen)
    assert profile is not None and profile.street == "Neumarkt"


def test_a_profile_typed_on_the_add_page_is_audited_and_not_confirmed(
    admin_client: Client, administrator: User
) -> None:
    """Without any citizen-account login a profile counts only while none of its identity
    fields was ever changed: one an administrator typed was."""
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "erika@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "0",
            "profile-0-given_names": "Erika",
            "profile-0-family_name": "Mustermann",
            "profile-0-birth_date": "1964-08-12",
            "profile-0-preferred_language": "",  # no language chosen (the default)
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]

    user = User.objects.get(email="erika@example.org")
    [event] = _admin_profile_events()
    assert event.action == "admin.accounts.profile.created"
    assert event.actor_id == administrator.pk
    assert event.object_id == str(user.profile.pk)
    assert event.after == {"fields": ["given_names", "family_name", "birth_date"]}
    assert verified_identity(user) is None


def test_the_profile_is_changed_in_the_admin_only_on_the_user_page() -> None:
    """No other admin page or bulk action can change a profile past the audit: the profile has
    no admin of its own, only the user page has it inline, and the user list's only action
    deletes accounts (with their profiles)."""
    assert Profile not in admin.site._registry
    with_profile_inline = [
        type(model_admin)
        for model_admin in admin.site._registry.values()
        if any(
            issubclass(inline, ProfileInline) or inline.model is Profile
            for inline in model_admin.inlines
        )
    ]
    assert with_profile_inline == [UserAdmin]
    superuser = User.objects.create_superuser("root@stadt.example.org", PASSWORD)
    request = RequestFactory().get("/admin/accounts/user/")
    request.user = superuser
    assert set(admin.site._registry[User].get_actions(request)) == {"delete_selected"}
