"""Anonymous visitors of public pages are served from the whole-page cache; nobody else is."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

from rathaus.catalog.models import Service
from tests.accounts.factories import UserFactory


@pytest.fixture
def page_cache(settings: Settings, db: None) -> None:
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 60
    call_command("load_demo", verbosity=0)
    cache.clear()


def test_second_anonymous_request_needs_no_database(
    page_cache: None, client: Client, django_assert_num_queries: object
) -> None:
    first = client.get("/leistungen/")
    assert first.status_code == 200
    assert not first.cookies
    with django_assert_num_queries(0):  # type: ignore[operator]
        second = client.get("/leistungen/")
    assert second.content == first.content
    assert "Content-Security-Policy" in second


def test_each_language_has_its_own_copy(page_cache: None, client: Client) -> None:
    german = client.get("/leistungen/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    english = client.get("/leistungen/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="de"' in german
    assert 'lang="en"' in english


def test_logged_in_citizens_never_get_a_cached_page(page_cache: None, client: Client) -> None:
    client.get("/leistungen/")  # fills the cache for anonymous visitors
    user = UserFactory()
    client.force_login(user)
    body = client.get("/leistungen/").content.decode()
    assert "/konto/logout/" in body or "Abmelden" in body


def test_pages_with_forms_are_not_cached(page_cache: None, client: Client) -> None:
    first = client.get("/barrierefreiheit/")
    assert "csrftoken" in first.cookies  # the feedback form needs its token
    Service.objects.update(name_de="Geändert")
    client.cookies.clear()
    assert client.get("/barrierefreiheit/").status_code == 200


def test_language_switch_works_without_a_csrf_token(db: None) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/leistungen/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
