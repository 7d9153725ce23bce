"""Django form rendering in KERN UX markup, for every form of the portal.

``settings.FORM_RENDERER`` points at :class:`KernFormRenderer`: ``{{ form }}`` and
``{{ field.as_field_group }}`` then produce KERN fields (label, hint, error next to the field)
and every widget gets the KERN classes and ``aria-invalid``/``aria-describedby``.
"""

from __future__ import annotations

from typing import Any

from django.forms import BoundField, widgets
from django.forms.renderers import TemplatesSetting

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


class KernFormRenderer(TemplatesSetting):
    """Renders forms and fields with the KERN templates in ``core/templates/forms/kern/``."""

    form_template_name = "forms/kern/form.html"
    field_template_name = "forms/kern/field.html"
    bound_field_class = KernBoundField
