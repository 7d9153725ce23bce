"""``in`` on an integer column: values the column cannot hold match no row, on every database.

Django already treats an out-of-range number in ``exact``, ``gt``, ``gte``, ``lt`` and ``lte`` as
matching nothing (or everything) instead of sending it (Django ticket #27397), but not in
``in``: on SQLite, ``pk__in=[99999999999999999999999]`` raises ``OverflowError``. Django's own
model choice fields run exactly that query on what a form sent, so the admin answered such input
with a 500 instead of "Select a valid choice". :class:`IntegerIn` leaves such values out.
"""

from __future__ import annotations

from typing import Any

from django.db.models import IntegerField
from django.db.models.lookups import In


class IntegerIn(In):
    lookup_name = "in"

    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(
                self.lhs.output_field.get_internal_type()
            )
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)


def register() -> None:
    """Called once when the ``core`` app is ready."""
    IntegerField.register_lookup(IntegerIn)
