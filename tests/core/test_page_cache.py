"""Anonymous visitors of public pages are served from the whole-page cache; nobody else is."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings

from rathaus.catalog.models import Responsibility, Service
from rathaus.core.page_cache import AnonymousPageCacheMiddleware
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


@pytest.fixture
def listed(page_cache: None) -> tuple[Service, str, str]:
    """A service with the life situation and the municipality that filter it into the list."""
    responsibility = (
        Responsibility.objects.filter(
            service__is_active=True, service__life_situations__isnull=False
        )
        .select_related("service", "municipality")
        .first()
    )
    assert responsibility is not None
    service = responsibility.service
    lage = service.life_situations.values_list("slug", flat=True).first()
    assert lage is not None
    return service, lage, responsibility.municipality.slug


def _rename(service: Service) -> str:
    """Rename ``service`` the way an admin does (the catalog's own cache follows at once)."""
    service.name_de = "Umbenannte Leistung"
    service.save()
    return service.name_de


def _view_calls(settings: Settings, *addresses: str) -> int:
    """How often the view behind the page cache runs for anonymous GETs of ``addresses``."""
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 60
    cache.clear()
    calls = []

    def view(request: HttpRequest) -> HttpResponse:
        calls.append(request.get_full_path())
        return HttpResponse("page")

    middleware = AnonymousPageCacheMiddleware(view)
    for address in addresses:
        assert middleware(RequestFactory().get(address)).content == b"page"
    return len(calls)


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("/leistungen/?x=1", id="made-up"),
        pytest.param("/leistungen/?utm_source=newsletter", id="tracking"),
        pytest.param("/leistungen/?gemeinde=wuppertal&x=1", id="filter-and-made-up"),
        pytest.param("/leistungen/?lage=umzug&lage=geburt", id="repeated"),
        pytest.param("/leistungen/?lage=" + "a" * 51, id="long-filter"),
        pytest.param("/leistungen/?q=Ummeldung", id="search"),
        pytest.param("/leistungen/anmeldung/?x=1", id="service-page"),
        pytest.param("/impressum/?x=1", id="page-without-parameters"),
        pytest.param("/?lage=umzug", id="start-page"),
    ],
)
def test_made_up_long_or_free_text_queries_are_served_but_never_cached(
    settings: Settings, address: str
) -> None:
    assert _view_calls(settings, address, address) == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/leistungen/", "/leistungen/"),
        (
            "/leistungen/?lage=umzug&gemeinde=wuppertal",
            "/leistungen/?gemeinde=wuppertal&lage=umzug",
        ),
        ("/leistungen/?q=&lage=umzug", "/leistungen/?lage=umzug&q="),
        ("/leistungen/?lage=umzug", "/leistungen/?lage=%75mzug"),
        ("/leistungen/anmeldung/?gemeinde=wuppertal", "/leistungen/anmeldung/?gemeinde=wuppertal"),
        ("/impressum/", "/impressum/"),
    ],
)
def test_the_same_query_in_any_order_or_spelling_is_cached_once(
    settings: Settings, first: str, second: str
) -> None:
    assert _view_calls(settings, first, second) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/leistungen/", "/leistungen/?lage=umzug"),
        ("/leistungen/?lage=umzug", "/leistungen/?lage=geburt"),
        ("/leistungen/?lage=umzug", "/leistungen/?lage=umzug&gemeinde=wuppertal"),
        ("/leistungen/?gemeinde=wuppertal", "/leistungen/?gemeinde=solingen"),
        ("/leistungen/?lage=", "/leistungen/"),
        ("/leistungen/anmeldung/", "/leistungen/anmeldung/?gemeinde=wuppertal"),
    ],
)
def test_a_page_is_never_served_for_another_query(
    settings: Settings, first: str, second: str
) -> None:
    assert _view_calls(settings, first, second) == 2


def test_the_same_filters_in_another_order_share_one_copy(
    listed: tuple[Service, str, str], client: Client
) -> None:
    service, lage, gemeinde = listed
    old_name = service.name_de
    first = client.get(f"/leistungen/?q=&lage={lage}&gemeinde={gemeinde}").content.decode()
    assert old_name in first
    renamed = _rename(service)
    again = client.get(f"/leistungen/?gemeinde={gemeinde}&q=&lage={lage}").content.decode()
    assert old_name in again and renamed not in again  # served from the cache


def test_a_page_is_never_served_for_another_filter(
    listed: tuple[Service, str, str], client: Client
) -> None:
    service, lage, gemeinde = listed
    client.get("/leistungen/")
    client.get(f"/leistungen/?lage={lage}")
    renamed = _rename(service)
    for address in (
        f"/leistungen/?lage={lage}&gemeinde={gemeinde}",
        f"/leistungen/?gemeinde={gemeinde}",
        f"/leistungen/{service.slug}/?gemeinde={gemeinde}",
    ):
        assert renamed in client.get(address).content.decode(), address


def test_language_switch_works_without_a_csrf_token(db: None) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/leistungen/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("/leistungen/?lage=erfunden", id="made-up-life-situation"),
        pytest.param("/leistungen/?gemeinde=erfunden", id="made-up-municipality"),
        pytest.param("/leistungen/wohnsitz-anmelden/?gemeinde=erfunden", id="service-page"),
    ],
)
def test_a_made_up_filter_value_is_answered_but_kept_out_of_the_cache(
    page_cache: None, client: Client, address: str
) -> None:
    """The catalog marks a page for an invalid filter private; the page cache keeps no copy."""
    first = client.get(address)
    assert first.status_code == 200
    assert "private" in first["Cache-Control"]
    renamed = _rename(Service.objects.get(slug="wohnsitz-anmelden"))
    assert renamed in client.get(address).content.decode()
