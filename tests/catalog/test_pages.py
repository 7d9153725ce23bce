"""The catalog pages /leistungen/ and /leistungen/<slug>/."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from rathaus.catalog.models import Responsibility
from rathaus.core.models import Authority


def _titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="kern-heading-small"><a[^>]*>([^<]*)</a>', html)


def _get(client: Client, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_catalog_lists_services_by_life_situation(client: Client, db: None) -> None:
    html = _get(client, "/leistungen/")
    assert '<h2 class="kern-heading-large" id="lage-umzug">Umzug</h2>' in html
    assert 'id="lage-aufenthalt-einbuergerung">Aufenthalt &amp; Einbürgerung</h2>' in html
    assert "Bewohnerparkausweis beantragen" in html
    assert 'href="/leistungen/wohnsitz-anmelden/"' in html


def test_life_situation_filter_shows_only_its_services(client: Client, db: None) -> None:
    html = _get(client, "/leistungen/", lage="auto-verkehr")
    assert '<h1 class="kern-heading-x-large">Auto &amp; Verkehr</h1>' in html
    titles = _titles(html)
    assert "Führerschein beantragen oder umtauschen" in titles
    assert "Wohngeld beantragen" not in titles


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ummelden", "Wohnsitz ummelden (Umzug innerhalb der Stadt)"),
        ("Parkausweis", "Bewohnerparkausweis beantragen"),
        ("parkaus", "Bewohnerparkausweis beantragen"),
        ("kindergeld", "Kindergeld beantragen"),
        ("Strasse", "Bewohnerparkausweis beantragen"),
    ],
)
def test_search_on_the_catalog_page(client: Client, db: None, query: str, expected: str) -> None:
    html = _get(client, "/leistungen/", q=query)
    assert expected in _titles(html)
    assert f"für „{query}“" in html or f"for “{query}”" in html
    assert f'value="{query}"' in html  # what the person typed is kept


def test_a_search_without_results_says_so(client: Client, db: None) -> None:
    html = _get(client, "/leistungen/", q="xylophonreparatur")
    assert _titles(html) == []
    assert "Keine Leistung passt" in html or "No service matches" in html


@pytest.mark.parametrize("query", ["паспорт", "!!!"])
def test_a_search_without_a_searchable_word_says_nothing_was_found(
    client: Client, db: None, query: str
) -> None:
    html = _get(client, "/leistungen/", q=query)
    assert _titles(html) == []
    assert "Keine Leistung passt" in html
    assert f'value="{query}"' in html


def test_municipality_filter_shows_the_responsible_authority(client: Client, demo: None) -> None:
    html = _get(client, "/leistungen/", gemeinde="wuppertal", lage="umzug")
    assert "Bürgerbüro Remscheid" in html  # registration is Remscheid's for everyone
    assert "Einer für Alle" in html
    assert 'href="/leistungen/wohnsitz-anmelden/?gemeinde=wuppertal"' in html


@pytest.mark.parametrize(
    "params",
    [
        {"gemeinde": "atlantis"},
        {"lage": "mond"},
        {"gemeinde": "x" * 500, "lage": "<script>"},
        {"q": "x" * 5000},
        {"gemeinde": "wuppertal", "lage": "mond"},
    ],
)
def test_bad_filter_values_give_a_message_and_the_full_list(
    client: Client, demo: None, params: dict[str, str]
) -> None:
    html = _get(client, "/leistungen/", **params)
    assert 'id="error-summary"' in html
    assert "<script>" not in html.split('id="main"')[1].split("</main>")[0]
    if "q" not in params:
        assert "Bewohnerparkausweis beantragen" in html


def test_unknown_municipality_message_is_next_to_the_field(client: Client, demo: None) -> None:
    html = _get(client, "/leistungen/", gemeinde="atlantis")
    assert "atlantis" in html
    assert 'aria-invalid="true"' in html
    assert len(_titles(html)) >= 20


def test_service_page_shows_what_a_citizen_needs(client: Client, demo: None) -> None:
    html = _get(client, "/leistungen/personalausweis/")
    assert '<h1 class="kern-heading-x-large">Personalausweis beantragen</h1>' in html
    assert "Leichte Sprache" in html
    assert "§ 9 PAuswG" in html and "https://www.gesetze-im-internet.de/pauswg/__9.html" in html
    assert "46,00 €" in html and "27,60 €" in html
    assert "Biometrisches Lichtbild" in html
    assert "Bundesdruckerei" in html  # processing time
    assert "Nur persönlich" in html or "Only in person" in html
    # Without a municipality: who handles it for the residents of each city.
    assert "Bürgerbüro Wuppertal" in html and "Bürgerbüro Solingen" in html


def test_service_page_names_the_responsible_authority_for_a_municipality(
    client: Client, demo: None
) -> None:
    html = _get(client, "/leistungen/meldebescheinigung/", gemeinde="wuppertal")
    assert "Bürgerbüro Remscheid" in html
    assert "Theodor-Heuss-Platz 1, 42853 Remscheid" in html
    assert "Remscheid" in html and "Wuppertal" in html and "Einer für Alle" in html
    assert "10,00 €" in html  # the municipal fee configured for the handling city
    assert '<option value="wuppertal" selected>' in html


def test_service_page_of_an_external_service_links_out(client: Client, demo: None) -> None:
    html = _get(client, "/leistungen/kindergeld/")
    assert "Familienkasse der Bundesagentur für Arbeit" in html
    assert 'href="https://www.arbeitsagentur.de/familie-und-kinder"' in html


def test_service_page_with_unknown_municipality_shows_a_message(client: Client, demo: None) -> None:
    html = _get(client, "/leistungen/meldebescheinigung/", gemeinde="atlantis")
    assert 'id="error-summary"' in html
    assert "Bürgerbüro Remscheid" in html  # the full table stays


def test_unknown_service_is_a_404(client: Client, db: None) -> None:
    assert client.get("/leistungen/gibt-es-nicht/").status_code == 404


def test_pages_are_served_in_english(client: Client, demo: None) -> None:
    client.cookies["django_language"] = "en"
    html = _get(client, "/leistungen/", q="parkaus")
    assert "Apply for a resident parking permit" in _titles(html)
    html = _get(client, "/leistungen/einbuergerung/")
    assert "Apply for naturalisation" in html and "255.00 €" in html
    assert 'aria-labelledby="service-easy" lang="de">' in html  # Leichte Sprache stays German


def test_an_admin_change_of_responsibility_shows_at_once(client: Client, demo: None) -> None:
    assert "Bürgerbüro Remscheid" in _get(
        client, "/leistungen/meldebescheinigung/", gemeinde="wuppertal"
    )
    responsibility = Responsibility.objects.get(
        service__slug="meldebescheinigung", municipality__slug="wuppertal"
    )
    responsibility.authority = Authority.objects.get(
        municipality__slug="wuppertal", kind="buergeramt"
    )
    responsibility.save()
    html = _get(client, "/leistungen/meldebescheinigung/", gemeinde="wuppertal")
    assert "Bürgerbüro Wuppertal" in html
    assert "Einer für Alle" not in html


def test_cached_catalog_page_needs_no_database_query(
    client: Client, demo: None, django_assert_max_num_queries: object
) -> None:
    _get(client, "/leistungen/")
    with django_assert_max_num_queries(0):  # type: ignore[operator]
        _get(client, "/leistungen/")


def test_service_page_links_to_the_online_application(client: Client, demo: None) -> None:
    html = _get(client, "/leistungen/meldebescheinigung/")
    assert 'href="/antraege/neu/meldebescheinigung/"' in html
    assert "/antraege/neu/personalausweis/" not in _get(client, "/leistungen/personalausweis/")
