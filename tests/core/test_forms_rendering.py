"""The KERN form renderer writes the common widgets in Python: the markup must equal Django's."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.translation import gettext_lazy, override
from hypothesis import given, settings
from hypothesis import strategies as st

from rathaus.core.forms_rendering import _PYTHON_TEMPLATES, KernFormRenderer

renderer = KernFormRenderer()

CHOICES: list[Any] = [
    ("", "- bitte wählen -"),
    ("a", "Alpha & <Omega>"),
    (3, 'Drei "3"'),
    ("Gruppe", [("g1", gettext_lazy("Service")), ("g2", 1234567)]),
    (Decimal("1.5"), datetime.date(2026, 11, 23)),
]

WIDGETS: list[tuple[forms.Widget, Any]] = [
    (forms.TextInput(), None),
    (forms.TextInput(attrs={"class": "kern-x", "required": True, "disabled": False}), 'a "b" <c>'),
    (forms.NumberInput(attrs={"min": 0, "step": Decimal("0.5")}), 12345),
    (forms.EmailInput(), "x@example.org"),
    (forms.DateInput(), datetime.date(2026, 2, 1)),
    (forms.DateTimeInput(), datetime.datetime(2026, 2, 1, 13, 5)),
    (forms.TimeInput(), datetime.time(8, 30)),
    (forms.URLInput(), "https://example.org/?a=1&b=2"),
    (forms.HiddenInput(), "secret"),
    (forms.PasswordInput(render_value=True), "pw"),
    (forms.PasswordInput(), "pw"),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(), False),
    (forms.FileInput(), None),
    (forms.Select(choices=CHOICES), "a"),
    (forms.Select(choices=CHOICES, attrs={"aria-describedby": "x_hint"}), "3"),
    (forms.SelectMultiple(choices=CHOICES), ["a", "g2"]),
    (forms.NullBooleanSelect(), True),
    (forms.SelectDateWidget(years=[2025, 2026]), datetime.date(2026, 3, 4)),
]


def _both(template_name: str, context: dict[str, Any]) -> tuple[str, str]:
    fast = renderer.render(template_name, context)
    slow = TemplatesSetting.render(renderer, template_name, context)
    return str(fast), str(slow)


@pytest.mark.parametrize(("widget", "value"), WIDGETS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("language", ["de", "en"])
def test_python_widgets_write_the_same_markup_as_django_templates(
    widget: forms.Widget, value: Any, language: str
) -> None:
    with override(language):
        fast = widget.render("field", value, attrs={"id": "id_field"}, renderer=renderer)
        context = widget.get_context("field", value, {"id": "id_field"})
        slow = TemplatesSetting.render(renderer, widget.template_name, context)
    assert str(fast) == str(slow)


def test_every_python_template_is_checked_against_its_django_template() -> None:
    rendered = {type(w).template_name for w, _v in WIDGETS if hasattr(type(w), "template_name")}
    rendered |= {"django/forms/widgets/select_option.html", "django/forms/widgets/input.html"}
    assert set(_PYTHON_TEMPLATES) - rendered <= {
        f"django/forms/widgets/{name}.html" for name in ("color", "search", "tel")
    }
    for name in ("color", "search", "tel", "input"):
        context = {"widget": {"type": name, "name": "n", "value": "v", "attrs": {"id": "i"}}}
        fast, slow = _both(f"django/forms/widgets/{name}.html", context)
        assert fast == slow


def test_a_widget_with_its_own_option_template_still_uses_it() -> None:
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    widget = Custom(choices=[("a", "A")])
    fast = widget.render("f", "a", renderer=renderer)
    slow = TemplatesSetting.render(
        renderer, widget.template_name, widget.get_context("f", "a", None)
    )
    assert '<input type="select" name="f" value="a"' in fast
    assert str(fast) == str(slow)


@settings(max_examples=150, deadline=None)
@given(
    value=st.one_of(st.none(), st.text(), st.integers()),
    label=st.text(),
    attr=st.one_of(st.booleans(), st.text(), st.integers()),
)
def test_arbitrary_values_and_labels_are_escaped_like_django(
    value: Any, label: str, attr: Any
) -> None:
    text = forms.TextInput(attrs={"data-x": attr})
    select = forms.Select(choices=[(value if value is not None else "", label), ("b", label)])
    for widget in (text, select):
        fast = widget.render("f", value, renderer=renderer)
        context = widget.get_context("f", value, None)
        slow = TemplatesSetting.render(renderer, widget.template_name, context)
        assert str(fast) == str(slow)
