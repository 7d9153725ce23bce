"""The catalog in Chromium: searching as a person does, with axe accessibility checks."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command


@pytest.fixture
def demo_live(transactional_db: None) -> None:
    call_command("load_demo", stdout=io.StringIO())


@pytest.mark.browser
def test_searching_the_catalog_and_opening_a_service(
    page: Any, axe_check: Any, demo_live: None
) -> None:
    page.goto("/leistungen/")
    axe_check(page)

    for query, expected in [
        ("ummelden", "Wohnsitz ummelden (Umzug innerhalb der Stadt)"),
        ("Parkausweis", "Bewohnerparkausweis beantragen"),
        ("kindergeld", "Kindergeld beantragen"),
    ]:
        page.get_by_label("Suchbegriff").fill(query)
        page.get_by_role("button", name="Leistungen anzeigen").click()
        page.wait_for_url(f"**q={query}**")
        assert page.get_by_role("link", name=expected).is_visible()
        assert page.get_by_label("Suchbegriff").input_value() == query

    axe_check(page)
    page.get_by_role("link", name="Kindergeld beantragen").click()
    page.get_by_role("heading", level=1, name="Kindergeld beantragen").wait_for()
    assert page.get_by_role("link", name="Familienkasse der Bundesagentur für Arbeit").count()
    axe_check(page)


@pytest.mark.browser
def test_choosing_a_municipality_shows_who_is_responsible(
    page: Any, axe_check: Any, demo_live: None
) -> None:
    page.goto("/leistungen/meldebescheinigung/")
    page.get_by_label("Ihre Gemeinde").select_option("wuppertal")
    page.get_by_role("button", name="Zuständige Stelle anzeigen").click()
    page.wait_for_url("**gemeinde=wuppertal**")
    page.get_by_role("heading", name="Bürgerbüro Remscheid").wait_for()
    axe_check(page)

    page.goto("/leistungen/?gemeinde=atlantis")
    assert page.locator("#error-summary").is_visible()
    axe_check(page)
