"""German-aware search: umlauts or ae/oe/ue, ß or ss, partial words, name matches first."""

from __future__ import annotations

import pytest
from django.test import Client

from rathaus.catalog.models import LifeSituation, Service
from rathaus.catalog.search import index_text, normalize, query_terms
from rathaus.catalog.selectors import search_services
from rathaus.core.models import Municipality


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("Führerschein", "fuehrerschein"),
        ("Ausländerbehörde", "auslaenderbehoerde"),
        ("Einbürgerung!", "einbuergerung"),
        ("  Wohnsitz   an-melden ", "wohnsitz an melden"),
        ("Café", "cafe"),
    ],
)
def test_normalize_folds_case_umlauts_and_punctuation(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_index_text_also_holds_the_form_without_umlaut_e() -> None:
    assert "fuhrerschein" in index_text("Führerschein")
    assert "fuehrerschein" in index_text("Führerschein")


def test_query_terms_are_limited_and_deduplicated() -> None:
    assert query_terms("Pass pass PASS") == ["pass"]
    assert len(query_terms(" ".join(f"wort{i}" for i in range(20)))) == 6


def _slugs(query: str, **filters: object) -> list[str]:
    return [s.slug for s in search_services(query=query, **filters)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("ummelden", "wohnsitz-ummelden"),
        ("Parkausweis", "bewohnerparkausweis"),
        ("parkaus", "bewohnerparkausweis"),
        ("Anwohnerparkausweis", "bewohnerparkausweis"),
        ("kindergeld", "kindergeld"),
        ("KINDERGELD", "kindergeld"),
        ("Führerschein", "fuehrerschein"),
        ("Fuehrerschein", "fuehrerschein"),
        ("fuhrerschein", "fuehrerschein"),
        ("Einbürgerung", "einbuergerung"),
        ("einbuergerung", "einbuergerung"),
        ("Sperrmüll", "abfallentsorgung"),
        ("sperrmuell", "abfallentsorgung"),
        ("Briefwahl", "briefwahl"),
        ("Wunschkennzeichen", "fahrzeug-zulassen"),
        ("Halterauskunft", "fahrzeugregisterauskunft"),
        ("Perso", "personalausweis"),
        ("heiraten", "eheschliessung-anmelden"),
        ("Gewerbeschein", "gewerbe-anmelden"),
        ("Bafög", "bafoeg"),
        ("child benefit", "kindergeld"),
    ],
)
def test_search_finds_the_service(db: None, query: str, slug: str) -> None:
    assert _slugs(query)[0] == slug


@pytest.mark.parametrize("query", ["Straße", "Strasse", "STRASSE", "strasse"])
def test_sharp_s_and_ss_find_the_same_services(db: None, query: str) -> None:
    assert _slugs(query) == _slugs("Straße")
    assert "bewohnerparkausweis" in _slugs(query)


def test_umzug_finds_the_moving_services(db: None) -> None:
    found = _slugs("Umzug")
    assert {"wohnsitz-anmelden", "wohnsitz-ummelden", "wohnsitz-abmelden"} <= set(found)
    assert found[0] == "wohnsitz-ummelden"  # its name contains "Umzug"


def test_all_words_must_match(db: None) -> None:
    assert _slugs("Wohnsitz abmelden") == ["wohnsitz-abmelden"]
    assert _slugs("Wohnsitz Sperrmüll") == []


def test_name_matches_rank_before_text_matches(db: None) -> None:
    found = _slugs("Personalausweis")
    assert found[0] == "personalausweis"
    assert len(found) > 1  # also mentioned by other services' texts


def test_nonsense_finds_nothing_and_an_empty_query_finds_everything(db: None) -> None:
    assert _slugs("xylophonreparatur") == []
    assert len(_slugs("")) == len(_slugs("   ")) >= 20


@pytest.mark.parametrize("query", ["паспорт", "جواز سفر", "护照", "!!!", "\u2013 \u2026 ?"])
def test_a_query_with_no_searchable_word_finds_nothing(db: None, query: str) -> None:
    assert _slugs(query) == []


@pytest.mark.parametrize("query", ["паспорт", "!!!"])
def test_the_api_answers_a_query_with_no_searchable_word_with_an_empty_list(
    client: Client, db: None, query: str
) -> None:
    response = client.get("/api/v1/services/", {"q": query})
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Паспорт", "паспорт"),
        ("جواز سفر", "جواز سفر"),
        ("护照", "护照"),
        ("여권", "여권"),
        ("Mu\u0308llabfuhr", "muellabfuhr"),  # decomposed umlaut
        ("snake_case", "snake case"),
    ],
)
def test_letters_of_every_script_are_kept_as_words(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_a_keyword_in_another_script_finds_its_service(db: None) -> None:
    Service.objects.filter(slug="kindergeld").update(search_text=index_text("Kindergeld детские"))
    assert _slugs("Детские") == ["kindergeld"]


def test_life_situation_and_municipality_filters(demo: None) -> None:
    traffic = LifeSituation.objects.get(slug="auto-verkehr")
    found = _slugs("", life_situation=traffic)
    assert "fuehrerschein" in found and "wohngeld" not in found

    solingen = Municipality.objects.get(slug="solingen")
    services = search_services(query="Einbürgerung", municipality=solingen)
    assert [s.slug for s in services] == ["einbuergerung"]
    [responsibility] = services[0].local_responsibilities  # type: ignore[attr-defined]
    assert responsibility.authority.municipality == solingen
