"""Conditional questions in Chromium: with JavaScript a question that does not apply is hidden
and appears with the answer that makes it apply (rathaus.js, ``data-show-if``); without
JavaScript every question is shown, and the server ignores the answers that do not apply."""

from __future__ import annotations

from typing import Any

import pytest

from rathaus.accounts.models import User
from tests.applications.test_browser_wohnsitz import _raise_trust_level, fill_move, log_in

ROW = "#field-persons-1"


def _to_people_step(page: Any) -> None:
    page.goto("/antraege/neu/wohnsitz-anmelden/")
    page.select_option('[name="gemeinde"]', "wuppertal")
    page.get_by_role("button", name="Antrag starten").click()
    fill_move(page)
    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url("**/schritt/previous/")
    page.check('input[name="previous_kept"][value="no"]')
    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url("**/schritt/people/")


def _shown(page: Any, question: str) -> bool:
    return bool(page.locator(f"{ROW}-{question}").is_visible())


@pytest.mark.browser
def test_questions_appear_with_the_answers_that_make_them_apply(
    page: Any, axe_check: Any, citizen: User, demo: None
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, citizen)
    _raise_trust_level(page, "high")
    _to_people_step(page)

    # nothing answered yet: the follow-up questions do not apply
    for question in ("religion_other", "marriage_date-day", "document_type", "nationality_3"):
        assert not _shown(page, question), question
    assert _shown(page, "nationality_2")  # its condition holds while nothing is chosen
    axe_check(page)

    page.select_option('[name="persons__1__religion"]', "other")
    assert _shown(page, "religion_other")
    page.select_option('[name="persons__1__religion"]', "ev")
    assert not _shown(page, "religion_other")

    page.select_option('[name="persons__1__marital_status"]', "married")
    assert _shown(page, "marriage_date-day") and _shown(page, "marriage_place")
    page.select_option('[name="persons__1__marital_status"]', "single")
    assert not _shown(page, "marriage_date-day") and not _shown(page, "marriage_place")

    page.check('input[name="persons__1__has_document"][value="yes"]')
    assert _shown(page, "document_type") and _shown(page, "document_authority")
    page.check('input[name="persons__1__has_document"][value="no"]')
    assert not _shown(page, "document_type") and not _shown(page, "document_authority")

    # a second nationality brings the third; stateless asks for neither
    page.select_option('[name="persons__1__nationality_2"]', "IT")
    assert _shown(page, "nationality_3")
    page.select_option('[name="persons__1__nationality"]', "XXA")
    assert not _shown(page, "nationality_2") and not _shown(page, "nationality_3")
    page.select_option('[name="persons__1__nationality"]', "DE")
    assert _shown(page, "nationality_2") and _shown(page, "nationality_3")
    axe_check(page)

    # a second person's questions follow that person's answers only
    page.get_by_role("button", name="Weitere Angabe hinzufügen: Person").click()
    page.wait_for_url("**/schritt/people/")
    page.select_option('[name="persons__2__religion"]', "other")
    assert page.locator("#field-persons-2-religion_other").is_visible()
    assert not _shown(page, "religion_other")
    assert not errors, errors


@pytest.mark.browser
def test_without_javascript_every_question_is_shown(
    browser: Any, live_server: Any, citizen: User, demo: None
) -> None:
    context = browser.new_context(
        locale="de-DE", base_url=live_server.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        log_in(page, citizen)
        _raise_trust_level(page, "high")
        _to_people_step(page)
        for question in ("religion_other", "marriage_date-day", "document_type", "nationality_3"):
            assert _shown(page, question), question
    finally:
        context.close()
