"""Sequencing: put all pending entries into the tree in one batch and sign a new checkpoint.

Appends only insert rows; the sequencer is the single writer of the tree. It holds a row lock on
:class:`LogState` (on SQLite the database write lock), so several sequencer processes are safe:
each batch gets consecutive, gap-free indexes. ``manage.py run_sequencer`` calls :func:`sequence`
at least once a second.

Before it signs, it reads the checkpoint the log has published: a database behind it (restored
from a backup) would otherwise sign a second, different tree of the same size with the same key.
Then it signs nothing (:class:`~rathaus.ledger.publication.PublishedLogConflict`); appends go
on and wait until ``manage.py ledger_reimport`` has taken the published entries back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from rathaus.ledger import note, tiles
from rathaus.ledger.keys import log_signers
from rathaus.ledger.merkle import leaf_hash
from rathaus.ledger.models import Checkpoint, Entry, LogState, Tile
from rathaus.ledger.publication import check_extends_published, publish

_CHUNK = 2000


def load_edge(size: int) -> tiles.Edge:
    """The partial tiles on the right edge of the stored tree of ``size`` leaves."""
    edge = tiles.Edge(size=size)
    level = 0
    while size // tiles.TILE_WIDTH**level > 0:
        count = size // tiles.TILE_WIDTH**level
        width = count % tiles.TILE_WIDTH
        if width:
            row = Tile.objects.get(level=level, index=count // tiles.TILE_WIDTH)
            edge.partial[level] = tiles.decode_tile(bytes(row.hashes)[: width * 32], width)
        level += 1
    return edge


def _assign_indexes(ids: list[int], first_index: int) -> None:
    """Give the entries ``ids`` (in this order) the indexes first_index, first_index + 1, …"""
    table = connection.ops.quote_name(Entry._meta.db_table)
    column = connection.ops.quote_name("index")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # one array parameter: no query text that grows with the batch
            cursor.execute(
                f"UPDATE {table} SET {column} = %s + v.ord - 1 "  # noqa: S608 - quoted names
                f"FROM unnest(%s::bigint[]) WITH ORDINALITY AS v(id, ord) WHERE {table}.id = v.id",
                [first_index, ids],
            )
            if cursor.rowcount != len(ids):
                raise RuntimeError("an entry changed while it was being sequenced")
            return
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            params: list[int] = []
            for offset, pk in enumerate(chunk):
                params += [pk, first_index + start + offset]
            cursor.execute(
                # VALUES columns are named column1, column2 in SQLite (and PostgreSQL)
                f"UPDATE {table} SET {column} = v.column2 "  # noqa: S608 - only placeholders
                f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1",
                params,
            )
            if cursor.rowcount != len(chunk):
                raise RuntimeError("an entry changed while it was being sequenced")


def store_tiles(changed: dict[tuple[int, int], list[bytes]]) -> None:
    """Save the tiles that changed as the tree grew (``tiles.Edge.append``)."""
    Tile.objects.bulk_create(
        [
            Tile(level=level, index=index, hashes=tiles.encode_tile(hashes))
            for (level, index), hashes in changed.items()
        ],
        update_conflicts=True,
        unique_fields=["level", "index"],
        update_fields=["hashes"],
    )


def _signed_by_current_keys(signed_note: str, signers: list[note.Signer]) -> bool:
    _, signatures = note.split(signed_note)
    return {(s.name, s.key_id) for s in signatures} == {(s.name, s.key_id) for s in signers}


def sequence(*, max_batch: int = 500_000) -> Checkpoint | None:
    """Integrate pending entries and sign a checkpoint; None if there was nothing to do.

    Also signs afresh (same size) when the configured keys changed, e.g. during a rotation.
    Publishes the tiles and checkpoint after the commit. Raises ``PublishedLogConflict``, and
    signs nothing, when the database does not continue the published log.
    """
    signers = log_signers()
    with transaction.atomic():
        state, _ = LogState.objects.select_for_update().get_or_create(pk=1)
        pending = list(
            Entry.objects.filter(index__isnull=True)
            .order_by("id")
            .values_list("id", "leaf")[:max_batch]
        )
        latest = Checkpoint.objects.filter(size=state.size).order_by("-id").first()
        if not pending and latest is not None and _signed_by_current_keys(latest.note, signers):
            checkpoint = None
        else:
            edge = load_edge(state.size)
            check_extends_published(size=state.size, root_hash=edge.root())
            changed = edge.append(leaf_hash(bytes(leaf)) for _, leaf in pending)
            _assign_indexes([pk for pk, _ in pending], state.size)
            store_tiles(changed)
            root_hash = edge.root()
            signed = note.sign_checkpoint(
                note.Checkpoint(settings.LEDGER_ORIGIN, edge.size, root_hash), signers
            )
            checkpoint = Checkpoint.objects.create(size=edge.size, root_hash=root_hash, note=signed)
            state.size = edge.size
            state.save(update_fields=["size"])
    publish()
    return checkpoint
