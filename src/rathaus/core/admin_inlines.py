"""Tabular inlines whose inputs have names a screen reader announces.

Django's tabular inline names each input only by its column's header cell, which screen readers
do not announce for a form field, so axe reports every input of every row as unlabelled
(rule "label", WCAG 1.3.1 and 4.1.2). :class:`LabelledTabularInline` gives each visible input of
a row, the "delete" box included, its column's name as ``aria-label`` (the visible layout stays
Django's).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose inputs carry their column's name (``aria-label``)."""

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)

        class LabelledFormSet(formset):  # type: ignore[misc, valid-type]
            def add_fields(self, form: forms.BaseForm, index: int | None) -> None:
                super().add_fields(form, index)
                for field in form.fields.values():
                    if not field.widget.is_hidden and field.label:
                        field.widget.attrs.setdefault("aria-label", str(field.label))

        LabelledFormSet.__name__ = formset.__name__
        return LabelledFormSet
