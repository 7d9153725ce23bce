"""Integer lookups: values the column cannot hold match no row (or every row), on every database.

Django already treats an out-of-range number in ``exact``, ``gt``, ``gte``, ``lt`` and ``lte`` on
an integer column as matching nothing (or everything) instead of sending it (Django ticket
#27397), but not in ``in``, and not at all on a foreign key (``municipality=…``,
``actor__in=…``, which use the related lookups): on SQLite, ``pk__in=[99999999999999999999999]``
or ``municipality=99999999999999999999999`` raises ``OverflowError``. Django's own model choice
fields and the admin's list filters run exactly such queries on what a form or an address sent,
so the admin answered such input with a 500 instead of "Select a valid choice" or an empty list.
:class:`IntegerIn` leaves such values out; the related lookups below check the number against
the column the foreign key points to.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet, FieldError, FullResultSet
from django.db.models import ForeignObjectRel, IntegerField
from django.db.models.expressions import ColPairs  # type: ignore[attr-defined]
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import (
    RelatedExact,
    RelatedGreaterThan,
    RelatedGreaterThanOrEqual,
    RelatedIn,
    RelatedLessThan,
    RelatedLessThanOrEqual,
)
from django.db.models.lookups import In


def integer_range(field: Any, connection: Any) -> tuple[int | None, int | None] | None:
    """The values ``field``'s column holds, following foreign keys (and reverse relations) to
    the column they point to; None if it is no integer column."""
    while isinstance(field, ForeignObject | ForeignObjectRel):
        try:
            field = field.target_field  # the one column filtered against
        except FieldError:  # a relation over several columns
            return None
    if not isinstance(field, IntegerField):
        return None
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    return low, high


def _fits(value: object, bounds: tuple[int | None, int | None] | None) -> bool:
    if bounds is None or not isinstance(value, int):
        return True
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)


class _InRange:
    """``in``: numbers the column cannot hold are left out (none left: matches nothing)."""

    lhs: Any
    rhs: Any

    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        direct = self.rhs_is_direct_value()  # type: ignore[attr-defined]
        if direct and not isinstance(self.lhs, ColPairs):
            bounds = integer_range(self.lhs.output_field, connection)
            self.rhs = [value for value in self.rhs if _fits(value, bounds)]
        return super().process_rhs(compiler, connection)  # type: ignore[misc]


class IntegerIn(_InRange, In):
    lookup_name = "in"


class RelatedIntegerIn(_InRange, RelatedIn):
    lookup_name = "in"


class _RelatedOverflow:
    """A comparison with a number beyond the column: nothing (or everything) matches, as in
    Django's ``IntegerFieldOverflow``, which only integer fields themselves get."""

    underflow_exception: type[Exception] = EmptyResultSet
    overflow_exception: type[Exception] = EmptyResultSet
    lhs: Any
    rhs: Any

    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        if isinstance(self.rhs, int) and not isinstance(self.lhs, ColPairs):
            bounds = integer_range(self.lhs.output_field, connection)
            if bounds is not None:
                low, high = bounds
                if low is not None and self.rhs < low:
                    raise self.underflow_exception
                if high is not None and self.rhs > high:
                    raise self.overflow_exception
        return super().process_rhs(compiler, connection)  # type: ignore[misc]


class RelatedIntegerExact(_RelatedOverflow, RelatedExact):
    pass


class RelatedIntegerGreaterThan(_RelatedOverflow, RelatedGreaterThan):
    underflow_exception = FullResultSet


class RelatedIntegerGreaterThanOrEqual(_RelatedOverflow, RelatedGreaterThanOrEqual):
    underflow_exception = FullResultSet


class RelatedIntegerLessThan(_RelatedOverflow, RelatedLessThan):
    overflow_exception = FullResultSet


class RelatedIntegerLessThanOrEqual(_RelatedOverflow, RelatedLessThanOrEqual):
    overflow_exception = FullResultSet


def register() -> None:
    """Called once when the ``core`` app is ready."""
    IntegerField.register_lookup(IntegerIn)
    for lookup in (
        RelatedIntegerIn,
        RelatedIntegerExact,
        RelatedIntegerGreaterThan,
        RelatedIntegerGreaterThanOrEqual,
        RelatedIntegerLessThan,
        RelatedIntegerLessThanOrEqual,
    ):
        ForeignObject.register_lookup(lookup)
