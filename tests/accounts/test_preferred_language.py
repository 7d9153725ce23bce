"""A preferred language only where the citizen chose one: without a choice, logging in and saving
the profile leave the pages in the language the citizen browses in (never German by default)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from rathaus.accounts.models import Profile
from rathaus.core import audit
from tests.accounts.conftest import log_in
from tests.accounts.factories import PASSWORD, ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

MIGRATION: Any = importlib.import_module(
    "rathaus.accounts.migrations.0007_profile_language_not_chosen"
)


def _english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def test_a_new_profile_has_no_preferred_language() -> None:
    assert Profile.objects.create(user=UserFactory()).preferred_language == ""
    assert ProfileFactory().preferred_language == ""


def test_logging_in_without_a_chosen_language_keeps_the_english_pages(client: Client) -> None:
    user = ProfileFactory().user
    response = _english(client).post("/konto/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "django_language" not in response.cookies
    assert '<html lang="en">' in client.get("/konto/").content.decode()


def test_logging_in_with_a_chosen_language_switches_to_it(client: Client) -> None:
    user = ProfileFactory(preferred_language="de").user
    response = _english(client).post("/konto/login/", {"login": user.email, "password": PASSWORD})
    assert response.cookies["django_language"].value == "de"


def test_the_profile_form_preselects_the_page_language_without_a_preference(
    client: Client,
) -> None:
    user = ProfileFactory().user
    log_in(_english(client), user)
    html = client.get("/konto/profil/").content.decode()
    assert '<option value="en" selected>English</option>' in html
    assert '<option value="de">German</option>' in html
    assert "---------" not in html  # no empty entry: saving the form chooses a language


def test_the_profile_form_preselects_the_chosen_language(client: Client) -> None:
    user = ProfileFactory(preferred_language="de").user
    log_in(_english(client), user)
    client.cookies["django_language"] = "en"  # the citizen switched the pages to English
    html = client.get("/konto/profil/").content.decode()
    assert '<option value="de" selected>German</option>' in html


def test_saving_the_profile_on_english_pages_keeps_english(client: Client) -> None:
    """The form as shown (English preselected) is what saving keeps, cookie included."""
    user = ProfileFactory().user
    log_in(_english(client), user)
    response = client.post("/konto/profil/", {"given_names": "Erika", "preferred_language": "en"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    assert Profile.objects.get(user=user).preferred_language == "en"


def test_a_profile_without_a_language_is_refused_beside_the_field(client: Client) -> None:
    user = UserFactory()
    log_in(_english(client), user)
    response = client.post("/konto/profil/", {"given_names": "Erika"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_preferred_language_error"' in html
    assert "Please choose a language." in html
    assert 'value="Erika"' in html
    assert "django_language" not in response.cookies


def test_the_profile_labels_are_capitalised_and_say_optional_once(client: Client) -> None:
    log_in(_english(client), UserFactory())
    html = client.get("/konto/profil/").content.decode()
    assert 'for="id_birth_date">Date of birth <span class="kern-label__optional">' in html
    assert 'for="id_phone">Phone <span class="kern-label__optional">' in html
    assert "(optional)" not in html


def _profile_with_german(**values: Any) -> Profile:
    profile: Profile = ProfileFactory(**values)
    Profile.objects.filter(pk=profile.pk).update(preferred_language="de")
    return profile


def test_the_migration_forgets_german_nobody_chose() -> None:
    only_logged_in = _profile_with_german()  # made by a citizen-account login, never saved
    saved = _profile_with_german()
    audit.record(
        actor=saved.user, action="accounts.profile.updated", obj=saved, after={"fields": []}
    )
    by_staff = _profile_with_german()
    audit.record(
        actor=None, action="admin.accounts.profile.changed", obj=by_staff, after={"fields": []}
    )
    english = ProfileFactory(preferred_language="en")
    other_event = _profile_with_german()
    audit.record(actor=None, action="accounts.federated_login", obj=other_event, after={})

    MIGRATION.forget_the_default_german(apps, None)

    def language(profile: Profile) -> str:
        return Profile.objects.get(pk=profile.pk).preferred_language

    assert language(only_logged_in) == ""
    assert language(other_event) == ""
    assert language(saved) == "de"  # shown preselected and saved: cannot be told from a choice
    assert language(by_staff) == "de"
    assert language(english) == "en"
