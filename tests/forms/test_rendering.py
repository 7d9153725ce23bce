"""Rendering: labels, hints and messages tied to inputs, summary links, values kept."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

from django.template import Context, Template
from django.utils import translation

from rathaus.forms.engine import ROW_ACTION, row_action, validate_step
from rathaus.forms.rendering import render_step, step_has_files

from .conftest import TODAY, field, one_step


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of labels, legends, links, headings."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[int, str] = {}
        self._open: list[int] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {key: value or "" for key, value in attrs}))
        if tag in {"label", "legend", "a", "textarea", "option", "h2"}:
            self._open.append(len(self.elements) - 1)
            self.texts[len(self.elements) - 1] = ""

    def handle_endtag(self, tag):
        if tag in {"label", "legend", "a", "textarea", "option", "h2"} and self._open:
            self._open.pop()

    def handle_data(self, data):
        for index in self._open:
            self.texts[index] += data

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]

    def ids(self) -> list[str]:
        return [a["id"] for _t, a in self.elements if "id" in a]

    def text_of(self, tag: str, **attrs: str) -> str:
        for index, (t, a) in enumerate(self.elements):
            if t == tag and all(a.get(k) == v for k, v in attrs.items()):
                return " ".join(self.texts.get(index, "").split())
        raise AssertionError(f"no {tag} {attrs}")


def assert_accessible(page: Elements) -> None:
    ids = page.ids()
    assert len(ids) == len(set(ids)), "ids are unique"
    labelled = {a["for"] for a in page.all("label")}
    for tag in ("input", "select", "textarea"):
        for attrs in page.all(tag):
            if attrs.get("type") in {"hidden", "submit"} or tag == "button":
                continue
            assert attrs["id"] in labelled, f"{attrs['id']} has a label"
    for _tag, attrs in page.elements:
        for referenced in attrs.get("aria-describedby", "").split():
            assert referenced in ids, f"aria-describedby {referenced} exists"
        if attrs.get("href", "").startswith("#"):
            assert attrs["href"][1:] in ids, f"link target {attrs['href']} exists"


MOVE = {
    "move_in_date__day": "1",
    "move_in_date__month": "13",
    "move_in_date__year": "2026",
    "new_address__street": "Neumarkt <b>",
    "new_address__postal_code": "4210",
    "new_address__place": "Wuppertal",
    "main_residence": "no",
}


def test_step_without_answers_has_labels_hints_and_no_messages(example):
    page = Elements(render_step(example, "move"))
    assert_accessible(page)
    assert page.all("div", id="error-summary") == []
    assert page.text_of("legend") == "Datum des Einzugs"
    assert page.text_of("label", **{"for": "field-move_in_date-day"}) == "Tag"
    assert (
        page.text_of("label", **{"for": "field-new_address-house_number"})
        == "Hausnummer (optional)"
    )
    group = page.all("fieldset", id="field-move_in_date-group")[0]
    assert group["aria-describedby"] == "field-move_in_date-hint"
    day = page.all("input", id="field-move_in_date-day")[0]
    assert day["inputmode"] == "numeric" and "kern-form-input__input--width-2" in day["class"]
    assert [a["value"] for a in page.all("input", name="main_residence")] == ["yes", "no"]


def test_errors_are_summarised_at_the_top_and_linked_to_their_inputs(example):
    result = validate_step(example, "move", MOVE, today=TODAY)
    html = render_step(example, "move", data=MOVE, result=result)
    page = Elements(html)
    assert_accessible(page)
    assert html.index('id="error-summary"') < html.index("<fieldset")
    links = [a["href"] for a in page.all("a")]
    assert links == [
        "#field-move_in_date-day",
        "#field-new_address-postal_code",
        "#field-other_residence-street",
    ]
    assert page.text_of("a", href="#field-new_address-postal_code") == (
        "Neue Anschrift: Geben Sie eine fünfstellige Postleitzahl ein, zum Beispiel 42103."
    )
    postal = page.all("input", id="field-new_address-postal_code")[0]
    assert postal["aria-invalid"] == "true" and "kern-form-input__input--error" in postal["class"]
    street = page.all("input", id="field-new_address-street")[0]
    assert "aria-invalid" not in street
    assert street["value"] == "Neumarkt <b>"  # kept as typed, escaped in the HTML
    assert "Neumarkt &lt;b&gt;" in html
    group = page.all("fieldset", id="field-new_address-group")[0]
    assert group["aria-describedby"] == "field-new_address-error"
    assert "kern-fieldset--error" in group["class"]
    assert page.all("input", name="main_residence", value="no")[0].get("checked") == ""


def test_field_depending_on_the_same_step_carries_its_condition(example):
    page = Elements(render_step(example, "move"))
    other = page.all("fieldset", id="field-other_residence-group")[0]
    assert other["data-show-if"] == '{"field": "main_residence", "type": "yes_no", "equals": false}'


def test_warnings_are_shown_as_notes(example):
    data = {
        **MOVE,
        "move_in_date__month": "10",
        "new_address__postal_code": "42103",
        "main_residence": "yes",
    }
    result = validate_step(example, "move", data, today=TODAY)
    assert result.is_valid
    page = Elements(render_step(example, "move", data=data, result=result))
    assert page.all("div", id="error-summary") == []
    assert page.all("div", id="warning-summary")
    assert page.all("fieldset", id="field-move_in_date-group")[0]["aria-describedby"] == (
        "field-move_in_date-hint field-move_in_date-warning"
    )


def test_saved_answers_are_shown_and_hidden_fields_left_out(example):
    answers = {
        "main_residence": False,
        "iban": "DE89370400440532013000",
        "usage": ["work"],
        "rooms": 3,
    }
    page = Elements(render_step(example, "fees", answers=answers))
    assert_accessible(page)
    assert page.all("input", id="field-iban")[0]["value"] == "DE89 3704 0044 0532 0130 00"
    assert page.all("input", id="field-rooms")[0]["value"] == "3"
    assert page.all("input", name="usage", value="work")[0].get("checked") == ""
    assert page.all("textarea", id="field-usage_other")  # depends on a field of this step: shown
    assert page.text_of("label", **{"for": "field-parking_plate"}).endswith("(optional)")


def test_person_list_renders_rows_and_row_buttons(example):
    page = Elements(render_step(example, "people"))
    assert_accessible(page)
    assert page.all("input", type="hidden", name="persons__rows")[0]["value"] == "1"
    assert page.all("input", id="field-persons-1-name-given_names")
    assert page.all("select", id="field-persons-1-sex")
    buttons = page.all("button", name=ROW_ACTION)
    assert [b["value"] for b in buttons] == ["add:persons"]
    default = page.all("button")[0]
    assert "name" not in default and default["tabindex"] == "-1"

    data = row_action(
        example,
        "people",
        {"persons__rows": "1", "persons__1__name__given_names": "Anna", ROW_ACTION: "add:persons"},
    )
    page = Elements(render_step(example, "people", data=data))
    assert_accessible(page)
    assert page.all("input", id="field-persons-1-name-given_names")[0]["value"] == "Anna"
    assert page.all("input", id="field-persons-2-name-given_names")[0]["value"] == ""
    assert [b["value"] for b in page.all("button", name=ROW_ACTION)] == [
        "remove:persons:1",
        "remove:persons:2",
        "add:persons",
    ]


def test_row_errors_are_linked_to_the_row_inputs(example):
    data = {
        "persons__rows": "2",
        "persons__2__name__given_names": "Ben",
        "persons__2__birth_date__day": "1",
    }
    result = validate_step(example, "people", data, today=TODAY)
    page = Elements(render_step(example, "people", data=data, result=result))
    assert_accessible(page)
    assert [a["href"] for a in page.all("a")] == [
        "#field-persons-2-name-family_name",
        "#field-persons-2-birth_date-month",
    ]
    assert page.all("input", id="field-persons-2-name-family_name")[0]["aria-invalid"] == "true"


def test_file_step(example):
    assert step_has_files(example, "landlord") and not step_has_files(example, "move")
    answers = {"confirmation": [{"id": "f1", "name": "alt.pdf", "size": 2048}]}
    page = Elements(render_step(example, "landlord", answers=answers))
    assert_accessible(page)
    upload = page.all("input", type="file")[0]
    assert upload["accept"] == ".pdf,.jpg,.jpeg,.png" and "multiple" not in upload
    assert (
        page.text_of("label", **{"for": "field-confirmation-remove-1"})
        == "alt.pdf entfernen (2 KB)"
    )


def test_english_rendering():
    from rathaus.forms.schema import load_schema_file

    from .conftest import EXAMPLE

    with translation.override("en"):
        schema = load_schema_file(EXAMPLE, source="x")
        result = validate_step(schema, "move", {}, today=TODAY)
        page = Elements(render_step(schema, "move", data={}, result=result))
    assert page.text_of("h2") == "There is a problem"
    assert page.text_of("a", href="#field-move_in_date-day") == "Date of moving in: Enter a date."
    assert page.text_of("label", **{"for": "field-new_address-street"}) == "Street"


def test_template_tag(example):
    html = Template("{% load form_steps %}{% form_step schema 'contact' answers=answers %}").render(
        Context({"schema": example, "answers": {"email": "a@example.de"}})
    )
    assert (
        'value="a@example.de"' in html and 'type="email"' in html and 'autocomplete="email"' in html
    )


ABROAD = {
    "previous_address_abroad__address_line1": "Rua Augusta 10",
    "previous_address_abroad__postal_code": "1100_053",
    "previous_address_abroad__country": "PT",
}


def test_an_address_abroad_is_a_fieldset_of_labelled_inputs_and_a_select_of_states(example):
    page = Elements(render_step(example, "move"))
    assert_accessible(page)
    group = page.all("fieldset", id="field-previous_address_abroad-group")[0]
    assert group["aria-describedby"] == "field-previous_address_abroad-hint"
    tokens = {
        a["id"].removeprefix("field-previous_address_abroad-"): a.get("autocomplete")
        for tag in ("input", "select")
        for a in page.all(tag)
        if a["id"].startswith("field-previous_address_abroad-")
    }
    assert tokens == {
        "address_line1": "address-line1",
        "address_line2": "address-line2",
        "address_line3": "address-line3",
        "postal_code": "postal-code",
        "place": "address-level2",
        "country": "country",
    }
    labels = [
        page.text_of("label", **{"for": f"field-previous_address_abroad-{key}"}) for key in tokens
    ]
    assert labels == [
        "Straße und Hausnummer oder Postfach",
        "Adresszeile 2 (optional)",
        "Adresszeile 3 (optional)",
        "Postleitzahl (optional)",
        "Ort",
        "Staat",
    ]
    postal = page.all("input", id="field-previous_address_abroad-postal_code")[0]
    assert "inputmode" not in postal  # letters too: SW1A 1AA
    values = [a["value"] for a in page.all("option")]
    assert values[0] == "" and "DE" not in values and {"AT", "PT", "XK"} <= set(values)


def test_states_are_sorted_as_a_dictionary_sorts_in_the_active_language(example):
    def names() -> list[str]:
        page = Elements(render_step(example, "move"))
        return [
            page.texts[index]
            for index, (tag, attrs) in enumerate(page.elements)
            if tag == "option" and attrs.get("value") in {"AT", "EG", "EE", "NL", "GB"}
        ]

    assert names() == ["Ägypten", "Estland", "Niederlande", "Österreich", "Vereinigtes Königreich"]
    with translation.override("en"):
        assert names() == ["Austria", "Egypt", "Estonia", "Netherlands", "United Kingdom"]


def test_errors_of_an_address_abroad_stand_beside_their_inputs(example):
    result = validate_step(example, "move", ABROAD, today=TODAY)
    html = render_step(example, "move", data=ABROAD, result=result)
    page = Elements(html)
    assert_accessible(page)
    abroad = [a["href"] for a in page.all("a") if "previous_address_abroad" in a["href"]]
    assert abroad == [
        "#field-previous_address_abroad-postal_code",
        "#field-previous_address_abroad-place",
    ]
    for key in ("postal_code", "place"):
        single = page.all("input", id=f"field-previous_address_abroad-{key}")[0]
        assert single["aria-invalid"] == "true"
        assert single["aria-describedby"] == f"field-previous_address_abroad-{key}-error"
        # the message stands between the part's label and its input
        label = html.index(f'for="field-previous_address_abroad-{key}"')
        message = html.index(f'id="field-previous_address_abroad-{key}-error"')
        assert label < message < html.index(f'id="field-previous_address_abroad-{key}"')
    line1 = page.all("input", id="field-previous_address_abroad-address_line1")[0]
    assert line1["value"] == "Rua Augusta 10" and "aria-invalid" not in line1
    assert page.all("input", id="field-previous_address_abroad-postal_code")[0]["value"] == (
        "1100_053"
    )
    assert [a["value"] for a in page.all("option", selected="")] == ["PT"]  # kept as chosen
    group = page.all("fieldset", id="field-previous_address_abroad-group")[0]
    assert "kern-fieldset--error" in group["class"]
    assert group["aria-describedby"] == "field-previous_address_abroad-hint"  # no part's message


def test_a_missing_address_abroad_is_reported_at_its_fieldset(example):
    schema_field = example.field("previous_address_abroad")
    required = dataclasses.replace(schema_field, required=True)
    step = dataclasses.replace(example.step("move"), fields=(required,))
    schema = dataclasses.replace(example, steps=(step,))
    result = validate_step(schema, "move", {}, today=TODAY)
    page = Elements(render_step(schema, "move", data={}, result=result))
    assert_accessible(page)
    assert [a["href"] for a in page.all("a")] == ["#field-previous_address_abroad-address_line1"]
    group = page.all("fieldset", id="field-previous_address_abroad-group")[0]
    assert group["aria-describedby"] == (
        "field-previous_address_abroad-hint field-previous_address_abroad-error"
    )
    country = page.all("select", id="field-previous_address_abroad-country")[0]
    assert country["aria-invalid"] == "true"
    line2 = page.all("input", id="field-previous_address_abroad-address_line2")[0]
    assert "aria-invalid" not in line2  # optional parts are not wrong when nothing was entered


def test_a_schema_that_offers_some_states_lists_only_those():
    schema = one_step(field("a", "address_abroad", countries=["CH", "XK", "AT"]))
    page = Elements(render_step(schema, "s"))
    assert_accessible(page)
    assert [a["value"] for a in page.all("option")] == ["", "XK", "AT", "CH"]  # Kosovo, Österreich
