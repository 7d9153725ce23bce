"""Admin change lists that refuse an impossible date-hierarchy address instead of failing.

Django computes the end of a date-hierarchy filter (the next year, month or day) outside its own
check of the address, so ``?at__year=9999`` overflows into a 500. :class:`SafeDateHierarchy`
turns that into the answer any wrong filter gets: the list again, with ``?e=1``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
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
