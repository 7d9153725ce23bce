"""Rendered steps in Chromium with the KERN styles: axe finds no WCAG 2.1 A/AA violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils.html import escape

from rathaus.forms.engine import validate_step
from rathaus.forms.rendering import render_step

from .conftest import TODAY

KERN_CSS = Path(__file__).parents[2] / "src/rathaus/core/static/vendor/kern/2.7.2/kern.min.css"


@pytest.fixture
def blank_page(browser: Any) -> Iterator[Any]:
    """A page without the live server: the steps are set as content, with the KERN styles."""
    context = browser.new_context(locale="de-DE")
    try:
        yield context.new_page()
    finally:
        context.close()


PAGE = """<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{title} - Test</title>
</head>
<body><main id="main" class="kern-container"><h1 class="kern-heading-large">{title}</h1>
<form method="post" novalidate>{fields}<button class="kern-btn kern-btn--primary" type="submit">
<span class="kern-label">Weiter</span></button></form></main></body></html>"""

WITH_ERRORS = {
    "move": {
        "move_in_date__day": "1",
        "move_in_date__month": "9",
        "move_in_date__year": "2026",
        "new_address__postal_code": "123",
        "main_residence": "no",
        "previous_address_abroad__place": "Wien",  # messages beside two parts
        "previous_address_abroad__postal_code": "10_10",
    },
    "people": {"persons__rows": "2", "persons__2__name__given_names": "Ben"},
    "landlord": {},
    "contact": {"email": "kaputt", "contact_way": "mailbox"},
    "fees": {"iban": "DE00", "usage": "other", "rooms": "x"},
}


@pytest.mark.browser
def test_every_step_of_the_example_with_messages_passes_axe(
    blank_page: Any, axe_check: Any, example
) -> None:
    page = blank_page
    answers = {"main_residence": False}
    for step in example.steps:
        data = WITH_ERRORS[step.id]
        result = validate_step(example, step.id, data, answers=answers, today=TODAY)
        assert result.issues, step.id
        html = PAGE.format(
            title=escape(str(step.title)),
            fields=render_step(example, step.id, data=data, result=result, answers=answers),
        )
        page.set_content(html)
        page.add_style_tag(path=str(KERN_CSS))
        hidden = page.locator(".kern-sr-only").first
        assert hidden.evaluate("e => getComputedStyle(e).position") == "absolute"  # KERN CSS loaded
        axe_check(page)
        first = result.issues[0].anchor
        page.locator(
            f'#error-summary a[href="#{first}"], #warning-summary a[href="#{first}"]'
        ).first.click()
        assert page.evaluate("() => location.hash") == f"#{first}"
