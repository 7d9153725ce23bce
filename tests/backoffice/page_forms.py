"""Reading a form's hidden values from a page, as a browser sends them back."""

from __future__ import annotations

import re
from typing import Any


def html(response: Any) -> str:
    return response.content.decode()  # type: ignore[no-any-return]


def hidden_value(page: str, name: str) -> str:
    """The value of the hidden input ``name`` on ``page`` (the page must have it)."""
    match = re.search(rf'<input type="hidden" name="{re.escape(name)}" value="([^"]*)"', page)
    assert match, f"no hidden field {name} on the page"
    return match.group(1)


def shown_assignment(page: str) -> dict[str, str]:
    """The case page's assignment form's record of the clerk and unit it showed."""
    return {
        name: hidden_value(page, name) for name in ("assign-shown_assignee", "assign-shown_unit")
    }


def shown_for_take_over(page: str) -> dict[str, str]:
    """The "take over" form's record of the clerk and unit the page showed."""
    return {
        name: hidden_value(page, name)
        for name in ("uebernehmen-shown_assignee", "uebernehmen-shown_unit")
    }


def queue_shown(page: str) -> dict[str, str]:
    """The queue's record, per selectable case, of the clerk and unit each row showed (the bulk
    assignment sends all of them back, as a browser does)."""
    found = dict(re.findall(r'<input type="hidden" name="(bulk-shown-\d+)" value="([^"]*)"', page))
    assert found, "no selectable case on the page"
    return found
