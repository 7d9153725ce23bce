"""A person list never takes more rows than its ``max_items``, and never cuts rows off unsaid.

Rows are read from the ``<list>__rows`` count the page posts and from the row-numbered input
names (``persons__4__given``). More rows than allowed are refused with a message at the list,
every row is shown again with what was typed, and removing rows works from there. Nonsense
counts and row numbers give a message or a safe bound, never a 500 or a huge page.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict
from django.utils import translation

from rathaus.forms.engine import ROW_ACTION, row_action, validate_all, validate_step
from rathaus.forms.field_types import row_ceiling
from rathaus.forms.rendering import render_step

from .conftest import TODAY, field, one_step
from .test_rendering import Elements, assert_accessible

TOO_MANY = "Hier können höchstens 3 Einträge angegeben werden. Entfernen Sie die übrigen."
NAMES = ["Anna", "Ben", "Cem", "Dora", "Emil"]


def schema():
    return one_step(
        field(
            "persons",
            "person_list",
            max_items=3,
            item_label={"de": "Person", "en": "Person"},
            fields=[field("given", "text"), field("family", "text", required=False)],
        )
    )


def rows(*names: str, count: str | None = None) -> dict[str, str]:
    data = {"persons__rows": str(len(names)) if count is None else count}
    data.update({f"persons__{n}__given": name for n, name in enumerate(names, start=1)})
    return data


def check(data: Any):
    return validate_step(schema(), "s", data, today=TODAY)


def shown_names(page: Elements) -> list[str]:
    return [a.get("value", "") for a in page.all("input") if a["name"].endswith("__given")]


def list_errors(result) -> list[str]:
    return [issue.message for issue in result.errors if issue.name == "persons"]


def test_more_rows_than_max_items_are_refused_at_the_list_not_cut_off():
    result = check(rows(*NAMES))
    assert not result.is_valid  # the rows beyond the third were dropped without a word before
    assert list_errors(result) == [TOO_MANY]
    [issue] = result.errors
    assert issue.label == "persons (de)" and issue.anchor == "field-persons-4-given"
    assert "persons" not in result.cleaned


def test_the_refused_list_is_shown_again_with_every_row_typed():
    data = rows(*NAMES)
    result = check(data)
    html = render_step(schema(), "s", data=data, result=result)
    page = Elements(html)
    assert_accessible(page)
    assert shown_names(page) == NAMES
    assert page.all("input", type="hidden", name="persons__rows")[0]["value"] == "5"
    assert [a["href"] for a in page.all("a")] == ["#field-persons-4-given"]
    group = page.all("fieldset", id="field-persons-group")[0]
    assert "field-persons-error" in group["aria-describedby"].split()  # beside the list
    assert html.count(TOO_MANY) == 2  # there and in the summary at the top
    buttons = [b["value"] for b in page.all("button", name=ROW_ACTION)]
    assert buttons == [f"remove:persons:{n}" for n in range(1, 6)]  # no "add another"


def test_removing_rows_from_a_refused_list_leads_to_a_valid_one():
    data = {**rows(*NAMES), ROW_ACTION: "remove:persons:2"}
    fewer = row_action(schema(), "s", data)
    assert fewer is not None and fewer["persons__rows"] == ["4"]
    page = Elements(render_step(schema(), "s", data=fewer))
    assert_accessible(page)
    assert shown_names(page) == ["Anna", "Cem", "Dora", "Emil"]
    assert list_errors(check(fewer)) == [TOO_MANY]

    fewer = row_action(schema(), "s", {**fewer, ROW_ACTION: "remove:persons:4"})
    assert fewer is not None
    assert shown_names(Elements(render_step(schema(), "s", data=fewer))) == ["Anna", "Cem", "Dora"]
    result = check(fewer)
    assert result.is_valid
    assert [row["given"] for row in result.cleaned["persons"]] == ["Anna", "Cem", "Dora"]


def test_a_querydict_as_django_posts_it_is_read_the_same():
    data = QueryDict(mutable=True)
    data.update(rows(*NAMES))
    assert list_errors(check(data)) == [TOO_MANY]
    assert shown_names(Elements(render_step(schema(), "s", data=data))) == NAMES


@pytest.mark.parametrize(
    "data",
    [
        rows(*NAMES, count="3"),  # the count says three, the names say five
        {key: value for key, value in rows(*NAMES).items() if key != "persons__rows"},
        {**rows("Anna"), "persons__7__given": "Gerd"},  # a gap up to a row beyond the limit
    ],
    ids=["count-too-low", "no-count", "gap"],
)
def test_rows_named_beyond_the_limit_are_refused_whatever_the_count_says(data):
    result = check(data)
    assert list_errors(result) == [TOO_MANY]
    typed = [value for key, value in data.items() if key.endswith("__given")]
    shown = shown_names(Elements(render_step(schema(), "s", data=data, result=result)))
    assert [name for name in shown if name] == typed


def test_a_row_typed_beyond_the_count_but_within_the_limit_is_kept():
    result = check({**rows("Anna"), "persons__3__given": "Cem"})
    assert result.is_valid  # row 3 was ignored before: the count said one
    assert [row["given"] for row in result.cleaned["persons"]] == ["Anna", "Cem"]


def test_empty_rows_beyond_the_limit_are_no_rows():
    """A count above ``max_items`` with nothing typed beyond: nothing is lost, so no message."""
    data = {**rows("Anna", "Ben", count="5"), "persons__5__given": "  "}
    result = check(data)
    assert result.is_valid and len(result.cleaned["persons"]) == 2
    page = Elements(render_step(schema(), "s", data=data))
    assert page.all("input", type="hidden", name="persons__rows")[0]["value"] == "3"


@pytest.mark.parametrize(
    "count",
    ["1000", "1000000000", "9" * 5000, "-1", "-1000000000", "x", "", "1e9", "²", "٣", " 2", "3.0"],
)
def test_a_nonsense_row_count_is_bounded_and_keeps_the_rows_typed(count):
    data = rows("Anna", "Ben", count=count)
    result = check(data)
    assert result.is_valid  # "1000" and more counted as no row before: "Enter at least one"
    assert [row["given"] for row in result.cleaned["persons"]] == ["Anna", "Ben"]
    page = Elements(render_step(schema(), "s", data=data, result=result))
    assert 2 <= len(shown_names(page)) <= 3  # at most max_items rows, never a billion
    assert shown_names(page)[:2] == ["Anna", "Ben"]
    changed = row_action(schema(), "s", {**data, ROW_ACTION: "remove:persons:1"})
    assert changed is not None and check(changed).cleaned["persons"] == [{"given": "Ben"}]


@pytest.mark.parametrize("number", ["1000000000", "9" * 5000, "4" + "0" * 20])
def test_an_absurd_row_number_gives_the_message_and_a_page_of_bounded_size(number):
    data = {**rows("Anna"), f"persons__{number}__given": "X"}
    result = check(data)
    assert list_errors(result) == [TOO_MANY]
    page = Elements(render_step(schema(), "s", data=data, result=result))
    assert len(shown_names(page)) == row_ceiling(schema().field("persons"))
    changed = row_action(schema(), "s", {**data, ROW_ACTION: "remove:persons:2"})
    assert changed is not None
    render_step(schema(), "s", data=changed)


@pytest.mark.parametrize("name", ["persons__0__given", "persons__04__given", "persons__-4__given"])
def test_names_the_engine_never_writes_are_not_rows(name):
    result = check({**rows("Anna"), name: "X"})
    assert result.is_valid and result.cleaned["persons"] == [{"given": "Anna"}]


def test_a_draft_saved_with_more_rows_than_the_form_now_allows_is_not_cut_at_submission():
    """The schema lowered ``max_items`` after the draft was saved: the check before submission
    refuses the list, and the step shows every saved row to choose from."""
    answers = {"persons": [{"given": name} for name in NAMES]}
    final = validate_all(schema(), answers, today=TODAY)
    assert not final.is_valid and final.first_invalid_step is not None
    assert [issue.message for issue in final.errors] == [TOO_MANY]
    assert shown_names(Elements(render_step(schema(), "s", answers=answers))) == NAMES


def test_the_message_in_english():
    with translation.override("en"):
        assert list_errors(check(rows(*NAMES))) == [
            "At most 3 entries can be given here. Remove the others."
        ]
        single = one_step(field("persons", "person_list", max_items=1, fields=[field("a", "text")]))
        result = validate_step(
            single, "s", {"persons__1__a": "x", "persons__2__a": "y"}, today=TODAY
        )
        assert [issue.message for issue in result.errors] == [
            "Only 1 entry can be given here. Remove the others."
        ]
