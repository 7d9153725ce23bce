"""``earlier_revisions``: the hashes of a PDF's earlier revisions, found without letting an
upload of millions of ``%%EOF`` markers cost seconds of CPU and hundreds of megabytes."""

from __future__ import annotations

import hashlib
import re
import tracemalloc
from typing import Any

import pytest

from rathaus.documents import seal
from rathaus.documents.seal import MAX_ARCHIVE_TIMESTAMPS, MAX_SEALS, earlier_revisions

#: a PDF made of end-of-file markers only: 400,000 of them
MARKER_BOMB = b"%PDF-1.7\n" + b"%%EOF" * (2 * 1024 * 1024 // 5)


def _every_revision(pdf: bytes) -> list[str]:
    """What earlier_revisions means, written plainly: each marker but the last, newest first,
    cut with and without its line end, for the newest MAX_SEALS + MAX_ARCHIVE_TIMESTAMPS + 2."""
    markers = list(re.finditer(rb"%%EOF(?:\r\n|\r|\n)?", pdf))[:-1]
    markers = markers[::-1][: MAX_SEALS + MAX_ARCHIVE_TIMESTAMPS + 2]
    cuts = [end for m in markers for end in (m.end(), m.start() + 5)]
    return list(dict.fromkeys(hashlib.sha256(pdf[:end]).hexdigest() for end in cuts))


def _revision(n: int, line_end: bytes) -> bytes:
    return b"1 0 obj\n<< /N %d >>\nendobj\nstartxref\n%d\n%%%%EOF%s" % (n, 100 * n, line_end)


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r", b"", b"\n\n", b"\r\r\n"])
@pytest.mark.parametrize("revisions", [0, 1, 2, 3, 18, 19, 20, 40])
@pytest.mark.parametrize("tail", [b"", b"garbage after the end", b"\n%%EO"])
def test_the_revisions_are_the_cuts_at_the_newest_markers(
    line_end: bytes, revisions: int, tail: bytes
) -> None:
    pdf = b"%PDF-1.7\n" + b"".join(_revision(n, line_end) for n in range(revisions)) + tail
    assert earlier_revisions(pdf) == _every_revision(pdf)


def test_mixed_line_ends_and_adjacent_markers_cut_as_written() -> None:
    pdf = b"%PDF-1.7\nA%%EOF\r\nB%%EOF%%EOF\rC%%EOF\n\rD%%EOF"
    assert earlier_revisions(pdf) == _every_revision(pdf)
    assert (
        earlier_revisions(pdf)[:2]
        == [
            hashlib.sha256(pdf[: pdf.rindex(b"D") - 1]).hexdigest(),  # "…%%EOF\n", then "\r"
            hashlib.sha256(pdf[: pdf.rindex(b"D") - 2]).hexdigest(),  # "…%%EOF"
        ]
    )


class CountingSha256:
    """hashlib.sha256 that counts the bytes it is given (copies share the count)."""

    def __init__(self, counted: list[int], data: Any = b"") -> None:
        self._hash, self._counted = hashlib.sha256(), counted
        self.update(data)

    def update(self, data: Any) -> None:
        self._counted[0] += len(memoryview(data))
        self._hash.update(data)

    def copy(self) -> CountingSha256:
        twin = CountingSha256(self._counted)
        twin._hash = self._hash.copy()
        return twin

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def test_a_file_of_end_markers_is_hashed_once_not_once_per_revision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counted = [0]

    class CountingHashlib:
        @staticmethod
        def sha256(data: Any = b"") -> CountingSha256:
            return CountingSha256(counted, data)

    monkeypatch.setattr(seal, "hashlib", CountingHashlib)
    revisions = earlier_revisions(MARKER_BOMB)
    assert len(revisions) == MAX_SEALS + MAX_ARCHIVE_TIMESTAMPS + 2  # no line ends: one cut each
    assert 0 < counted[0] <= len(MARKER_BOMB)  # was 36 prefixes of nearly the whole file


def test_a_file_of_end_markers_needs_no_memory_per_marker() -> None:
    tracemalloc.start()
    try:
        earlier_revisions(MARKER_BOMB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a match object per marker took tens of megabytes; the cuts need a few kilobytes
    assert peak < len(MARKER_BOMB) // 4
