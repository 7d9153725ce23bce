"""Django form rendering in KERN UX markup, for every form of the portal.

``settings.FORM_RENDERER`` points at :class:`KernFormRenderer`: ``{{ form }}`` and
``{{ field.as_field_group }}`` then produce KERN fields (label, hint, error next to the field)
and every widget gets the KERN classes and ``aria-invalid``/``aria-describedby``.

The commonest widget templates (``<input>`` of every type, ``<select>`` and its options) are
written here in Python instead of through Django's template includes: the output is the same
markup character for character (tests compare both), at a tenth of the cost, which matters on
pages with many fields or long option lists such as the back-office queue filters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms import BoundField, widgets
from django.forms.renderers import TemplatesSetting
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

_SELECT_WIDGETS = (widgets.Select, widgets.SelectMultiple)
_CHOICE_LIST_WIDGETS = (widgets.RadioSelect, widgets.CheckboxSelectMultiple)


def kern_widget_kind(widget: widgets.Widget) -> str:
    """How KERN lays out a widget: ``input``, ``select``, ``checkbox``, ``choices``, ``hidden``."""
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, _CHOICE_LIST_WIDGETS):
        return "choices"
    if isinstance(widget, _SELECT_WIDGETS):
        return "select"
    if isinstance(widget, widgets.CheckboxInput):
        return "checkbox"
    return "input"


class KernBoundField(BoundField):
    """A bound field whose widget carries the KERN classes for its kind and error state."""

    @property
    def kern_kind(self) -> str:
        return kern_widget_kind(self.field.widget)

    def build_widget_attrs(
        self, attrs: dict[str, Any], widget: widgets.Widget | None = None
    ) -> Any:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        kind = kern_widget_kind(widget)
        has_errors = bool(self.errors)
        if kind == "input":
            css = ["kern-form-input__input"] + (
                ["kern-form-input__input--error"] if has_errors else []
            )
        elif kind == "select":
            css = ["kern-form-input__select"] + (
                ["kern-form-input__select--error"] if has_errors else []
            )
        elif kind == "checkbox":
            css = ["kern-form-check__checkbox"] + (
                ["kern-form-check__checkbox--error"] if has_errors else []
            )
        elif kind == "choices":
            base = (
                "kern-form-check__radio"
                if isinstance(widget, widgets.RadioSelect)
                else "kern-form-check__checkbox"
            )
            css = [base] + ([f"{base}--error"] if has_errors else [])
        else:
            return attrs
        existing = str(attrs.get("class") or widget.attrs.get("class", ""))
        attrs["class"] = " ".join([*css, existing]).strip()
        return attrs


def _text(value: Any) -> str:
    """``{{ value }}`` in a template: localised, then escaped."""
    return str(conditional_escape(localize(value)))


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_text(name)}")
        else:
            parts.append(f' {_text(name)}="{conditional_escape(str(value))}"')
    return "".join(parts)


def _input(renderer: KernFormRenderer, widget: Mapping[str, Any]) -> str:
    """``django/forms/widgets/input.html`` (and every template that only includes it)."""
    value = widget["value"]
    value_attr = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
        f"{value_attr}{_attrs(widget['attrs'])}>\n"
    )


def _included_input(renderer: KernFormRenderer, widget: Mapping[str, Any]) -> str:
    """``text.html``, ``email.html`` …: files that include ``input.html``, plus a newline."""
    return _input(renderer, widget) + "\n"


def _option(renderer: KernFormRenderer, widget: Mapping[str, Any]) -> str:
    """``django/forms/widgets/select_option.html``."""
    return (
        f'<option value="{conditional_escape(str(widget["value"]))}"{_attrs(widget["attrs"])}>'
        f"{_text(widget['label'])}</option>\n"
    )


def _select(renderer: KernFormRenderer, widget: Mapping[str, Any]) -> str:
    """``django/forms/widgets/select.html``; options through their own template name."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            parts.append("\n  ")
            parts.append(renderer.include(option["template_name"], {"widget": option}))
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


_INPUT_TEMPLATES = (
    *("checkbox", "color", "date", "datetime", "email", "file", "hidden", "number"),
    *("password", "search", "tel", "text", "time", "url"),
)
_PYTHON_TEMPLATES: dict[str, Callable[[KernFormRenderer, Mapping[str, Any]], str]] = {
    "django/forms/widgets/input.html": _input,
    **{f"django/forms/widgets/{name}.html": _included_input for name in _INPUT_TEMPLATES},
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/select_option.html": _option,
}


class KernFormRenderer(TemplatesSetting):
    """Renders forms and fields with the KERN templates in ``core/templates/forms/kern/``."""

    form_template_name = "forms/kern/form.html"
    field_template_name = "forms/kern/field.html"
    bound_field_class = KernBoundField

    def render(
        self, template_name: str, context: dict[str, Any], request: Any = None
    ) -> SafeString:
        python_template = _PYTHON_TEMPLATES.get(template_name)
        if python_template is None or request is not None:
            return mark_safe(super().render(template_name, context, request))  # noqa: S308
        # Escaped piece by piece above; stripped like BaseRenderer.render.
        return mark_safe(python_template(self, context["widget"]).strip())  # noqa: S308

    def include(self, template_name: str, context: dict[str, Any]) -> str:
        """What ``{% include template_name %}`` writes (not stripped)."""
        python_template = _PYTHON_TEMPLATES.get(template_name)
        if python_template is not None:
            return python_template(self, context["widget"])
        template: Any = self.get_template(template_name)
        return str(template.render(context))
