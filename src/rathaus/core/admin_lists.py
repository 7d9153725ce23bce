"""Admin pages that refuse impossible input instead of failing.

Django computes the end of a date-hierarchy filter (the next year, month or day) outside its own
check of the address, so ``?at__year=9999`` overflows into a 500. :class:`SafeDateHierarchy`
turns that into the answer any wrong filter gets: the list again, with ``?e=1``.

Django's autocomplete widgets look up the submitted value again to show it when a form comes back
with errors, without checking it first, so ``authority=abc`` in a sent form is a 500 instead of
"Select a valid choice". :class:`SafeAutocomplete` gives them only values the related key can
hold; the form's own check still refuses the rest, beside the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin, IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import (
    AutocompleteMixin,
    AutocompleteSelect,
    AutocompleteSelectMultiple,
)
from django.core.exceptions import ValidationError
from django.db.models import Field
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import HttpRequest


class _DateHierarchyChangeList(ChangeList):
    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class SafeDateHierarchy(admin.ModelAdmin):
    """Mixin for a model admin with ``date_hierarchy``: impossible dates are a wrong filter."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _DateHierarchyChangeList


def _holdable(field: Field[Any, Any], value: Any) -> bool:
    """Whether ``value`` could be a value of the key ``field`` (type and range)."""
    if value in (None, ""):
        return True
    try:
        field.run_validators(field.to_python(value))
    except (ValidationError, ValueError, TypeError, OverflowError):
        return False
    return True


class _CheckedValues(AutocompleteMixin):
    """Autocomplete widget mixin: values the related key cannot hold are not looked up."""

    def optgroups(
        self, name: str, value: Sequence[str], attr: Any = None
    ) -> list[tuple[str | None, list[dict[str, Any]], int | None]]:
        target = self.field.target_field
        kept = [v for v in value if _holdable(target, v)]
        return super().optgroups(name, kept, attr)


class _Select(_CheckedValues, AutocompleteSelect):
    pass


class _SelectMultiple(_CheckedValues, AutocompleteSelectMultiple):
    pass


class SafeAutocomplete(BaseModelAdmin):
    """Mixin for a model admin or inline with ``autocomplete_fields``: a sent value the related
    key cannot hold is refused by the form, not a 500 while showing it again."""

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = _Select(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField[Any] | None:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = _SelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)
