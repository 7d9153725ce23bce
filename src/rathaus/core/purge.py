"""The one narrow way past the append-only guards: purging personal data whose retention
period has run out (Art. 5 Abs. 1 lit. e, Art. 17 DSGVO), after the E-Akte disposed of a file.

History rows (:class:`~rathaus.core.models.AppendOnlyModel`: the audit trail, a case's events
and notes) refuse every change in Python, and on PostgreSQL their triggers refuse it in the
database. A purge updates them through :func:`unguarded` inside :func:`purging`, which sets
``rathaus.purge`` to ``on`` for the transaction; the triggers (core migration 0005, casework
migration 0014) then accept an UPDATE that changes nothing but the purged columns. Every
DELETE is still refused. Nothing else sets ``rathaus.purge``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, models, transaction

#: Who a purged history says acted where the citizen did: their role, not their account.
APPLICANT_LABEL = "Antragsteller/in"


def unguarded(model: type[models.Model]) -> models.QuerySet[Any]:
    """A plain queryset of an append-only ``model``, whose own manager refuses ``update``: for
    use inside :func:`purging` only."""
    return models.QuerySet(model=model)


@contextmanager
def purging() -> Iterator[None]:
    """Let the append-only triggers accept a purge's updates within this block.

    Must run inside a transaction: the setting is transaction-local, switched off again when
    the block ends, and rolled back with everything else on an error."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("purging() needs a transaction")
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('rathaus.purge', 'on', true)")
    yield
    # not in a ``finally``: after an error the transaction is rolled back, and the setting with it
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('rathaus.purge', 'off', true)")
