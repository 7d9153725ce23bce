"""Validating the seal of damaged or hostile files: always a clear "not valid", never an error."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from rathaus.documents import seal
from rathaus.documents.seal import seal_pdf, seal_signer, seal_trust_roots, validate_seal

from .pdf_inspection import small_pdf

UNREADABLE = "The file is not a readable PDF."
DAMAGED = "The seal is damaged and cannot be read."
UNCHECKABLE = "The seal cannot be checked: its signature or byte range is damaged."
UNCOVERED = "The seal does not cover the whole document."


@pytest.fixture
def sealed(demo_seal: Path) -> bytes:
    return seal_pdf(small_pdf(), signer=seal_signer(), location="Wuppertal")


def _replace(pdf: bytes, pattern: bytes, new: bytes) -> bytes:
    """Replace the first match of ``pattern`` by ``new``, padded with spaces to keep offsets."""
    match = re.search(pattern, pdf)
    assert match is not None, pattern
    old = match.group(0)
    assert len(new) <= len(old)
    return pdf[: match.start()] + new.ljust(len(old)) + pdf[match.end() :]


def _byte_range(pdf: bytes, value: bytes) -> bytes:
    return _replace(pdf, rb"/ByteRange \[[^\]]*\] *", b"/ByteRange " + value)


def _huge_byte_range(pdf: bytes) -> bytes:
    match = re.search(rb"/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]", pdf)
    assert match is not None
    start, length, second = match.group(1, 2, 3)
    return _byte_range(pdf, b"[%s %s %s 99999999999999]" % (start, length, second))


def test_a_pdf_without_an_information_dictionary_can_be_sealed(demo_seal: Path) -> None:
    sealed = seal_pdf(small_pdf(), signer=seal_signer(), location="Wuppertal")

    assert validate_seal(sealed, trust_roots=seal_trust_roots()).valid


HOSTILE: list[Any] = [
    pytest.param(lambda pdf: b"", UNREADABLE, id="empty"),
    pytest.param(lambda pdf: b"<!DOCTYPE html><p>Bescheid</p>", UNREADABLE, id="not-a-pdf"),
    pytest.param(lambda pdf: pdf[: len(pdf) // 2], UNREADABLE, id="truncated"),
    pytest.param(lambda pdf: pdf[:-12], UNREADABLE, id="end-cut-off"),
    pytest.param(
        lambda pdf: _replace(pdf, rb"/ByteRange", b"/ByteRanga"), DAMAGED, id="no-byte-range"
    ),
    pytest.param(
        lambda pdf: _replace(pdf, rb"/Contents <[0-9A-Fa-f]{16}", b"/Contents <DEADBEEF00000000"),
        DAMAGED,
        id="contents-not-a-signature",
    ),
    pytest.param(
        lambda pdf: _replace(pdf, rb"/V \d+ 0 R", b"/V 7"),
        DAMAGED,
        id="signature-not-a-dictionary",
    ),
    pytest.param(
        lambda pdf: _replace(pdf, rb"/Type /Sig\b", b"/Type /Foo"),
        UNCHECKABLE,
        id="not-a-signature-dictionary",
    ),
    pytest.param(lambda pdf: _byte_range(pdf, b"[0 1 2]"), UNCHECKABLE, id="byte-range-odd"),
    pytest.param(lambda pdf: _byte_range(pdf, b"7"), UNCHECKABLE, id="byte-range-a-number"),
    pytest.param(
        lambda pdf: _byte_range(pdf, b"[0 1.5 2 3]"), UNCHECKABLE, id="byte-range-fractions"
    ),
    pytest.param(
        lambda pdf: _byte_range(pdf, b"[(a) (b) (c) (d)]"), UNCHECKABLE, id="byte-range-strings"
    ),
    pytest.param(_huge_byte_range, UNCOVERED, id="byte-range-huge"),
    pytest.param(lambda pdf: _byte_range(pdf, b"[0 0 0 0]"), UNCOVERED, id="covers-nothing"),
    pytest.param(lambda pdf: _byte_range(pdf, b"[]"), UNCOVERED, id="byte-range-empty"),
    pytest.param(lambda pdf: _byte_range(pdf, b"[0 -5 0 -5]"), UNCOVERED, id="byte-range-negative"),
]


@pytest.mark.parametrize(("damage", "problem"), HOSTILE)
def test_a_damaged_or_hostile_file_is_reported_not_valid_with_a_reason(
    sealed: bytes, damage: Callable[[bytes], bytes], problem: str
) -> None:
    assert validate_seal(sealed, trust_roots=seal_trust_roots()).valid  # the undamaged file

    status = validate_seal(damage(sealed), trust_roots=seal_trust_roots())

    assert not status.valid
    assert status.problem == problem


def test_a_file_with_many_signature_fields_is_rejected_without_checking_each(
    sealed: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each field names the one seal: checking them all would cost a second of CPU per 15 fields.
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    fields = writer.root["/AcroForm"]["/Fields"]
    value = fields[0].get_object().raw_get("/V")
    for number in range(40):
        field = generic.DictionaryObject(
            {
                generic.NameObject("/FT"): generic.NameObject("/Sig"),
                generic.NameObject("/T"): generic.TextStringObject(f"Kopie {number}"),
                generic.NameObject("/V"): value,
            }
        )
        fields.append(writer.add_object(field))
    writer.mark_update(writer.root.raw_get("/AcroForm"))
    out = io.BytesIO()
    writer.write(out)
    checked: list[object] = []
    monkeypatch.setattr(seal, "validate_pdf_signature", lambda *args: checked.append(args))

    status = validate_seal(out.getvalue(), trust_roots=seal_trust_roots())

    assert not status.valid
    assert status.problem == "The PDF carries 41 signatures; an issued document carries at most 4."
    assert checked == []
