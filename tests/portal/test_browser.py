"""The portal shell in Chromium, checked with axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

from typing import Any

import pytest

from rathaus.portal.models import AccessibilityFeedback

pytestmark = pytest.mark.browser


def test_start_page_is_accessible_and_search_goes_to_the_catalog(page: Any, axe_check: Any) -> None:
    page.goto("/")
    assert page.locator("h1").inner_text() == "Ihr digitales Rathaus"
    axe_check(page)
    # the skip link becomes visible on keyboard focus and leads to the main content
    page.keyboard.press("Tab")
    skip = page.locator(".rathaus-skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    page.get_by_label("Welche Leistung suchen Sie?").fill("Ummeldung")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url("**/leistungen/?q=Ummeldung")


def test_styles_and_fonts_are_served_locally(page: Any, live_server: Any) -> None:
    foreign: list[str] = []

    def on_request(request: Any) -> None:
        if not request.url.startswith(live_server.url + "/"):
            foreign.append(request.url)

    page.on("request", on_request)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    font = page.evaluate("() => getComputedStyle(document.body).fontFamily")
    assert "Fira Sans" in font
    assert page.evaluate("() => document.fonts.check('16px \"Fira Sans\"')")
    assert page.evaluate("() => typeof window.htmx") == "object"
    assert foreign == []


def test_easy_language_page_is_accessible(page: Any, axe_check: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="Leichte Sprache").first.click()
    page.wait_for_url("**/leichte-sprache/")
    assert page.locator("h1").inner_text() == "Informationen in Leichter Sprache"
    axe_check(page)


@pytest.mark.parametrize("path", ["/gebaerdensprache/", "/impressum/", "/datenschutz/"])
def test_other_shell_pages_are_accessible(page: Any, axe_check: Any, path: str) -> None:
    page.goto(path)
    axe_check(page)


def test_accessibility_feedback_with_error_then_corrected(page: Any, axe_check: Any) -> None:
    page.goto("/barrierefreiheit/")
    axe_check(page)
    page.get_by_label("Ihr Name").fill("Kim Muster")
    page.get_by_role("button", name="Rückmeldung senden").click()
    summary = page.locator("#error-summary")
    # the summary receives focus so screen readers announce it, and links to the field
    page.wait_for_function("() => document.activeElement?.id === 'error-summary'")
    assert page.locator("#id_message_error").inner_text().strip() == (
        "Bitte beschreiben Sie die Barriere, die Sie gefunden haben."
    )
    assert page.get_by_label("Ihr Name").input_value() == "Kim Muster"
    axe_check(page)
    summary.get_by_role("link").click()
    assert page.evaluate("() => document.activeElement.id") == "id_message"
    page.keyboard.type("Die Suche lässt sich nicht mit der Tastatur bedienen.")
    page.get_by_role("button", name="Rückmeldung senden").click()
    page.get_by_role("status").wait_for()
    assert "Vielen Dank" in page.get_by_role("status").inner_text()
    axe_check(page)
    feedback = AccessibilityFeedback.objects.get()
    assert feedback.name == "Kim Muster"
    assert feedback.message == "Die Suche lässt sich nicht mit der Tastatur bedienen."


def test_language_switch_to_english_and_back(page: Any, axe_check: Any) -> None:
    page.goto("/impressum/")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/impressum/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Legal notice"
    axe_check(page)
    page.goto("/")
    assert page.locator("h1").inner_text() == "Your digital town hall"
    page.get_by_role("button", name="Deutsch").click()
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").inner_text() == "Ihr digitales Rathaus"


def test_not_found_page_is_accessible(page: Any, axe_check: Any) -> None:
    response = page.goto("/gibt-es-nicht/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Seite nicht gefunden"
    axe_check(page)


def test_axe_check_fails_on_a_violation(page: Any, axe_check: Any) -> None:
    """The fixture itself: an image without alternative text must fail the check."""
    page.goto("/impressum/")
    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML("
        "'beforeend', '<img src=\"/static/rathaus/img/favicon.svg\">')"
    )
    with pytest.raises(pytest.fail.Exception, match="image-alt"):
        axe_check(page)
