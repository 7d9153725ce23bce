"""Reading rendered PDFs back in tests (pypdf)."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in reader(pdf).pages)


def xmp(pdf: bytes) -> str:
    metadata = reader(pdf).trailer["/Root"]["/Metadata"].get_object()
    return bytes(metadata.get_data()).decode("utf-8")


def fonts(pdf: bytes) -> dict[str, DictionaryObject]:
    """Every font used on any page, by base font name, with its descriptor."""
    found: dict[str, DictionaryObject] = {}
    for page in reader(pdf).pages:
        resources: Any = page["/Resources"]
        for font_ref in resources.get("/Font", {}).values():
            font = font_ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            found[str(font["/BaseFont"])] = target["/FontDescriptor"].get_object()
    return found


def small_pdf() -> bytes:
    """A one-page PDF written by hand (classic cross-reference table)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def assert_sealed_pdf_a(sealed: bytes, rendered: bytes) -> list[Any]:
    """The PDF/A claims a seal (and its long-term revisions) must keep; returns the signature
    widgets."""
    # the rendered PDF/A revision is kept byte for byte (incremental update)
    assert sealed.startswith(rendered)
    metadata = xmp(sealed)
    assert 'pdfaid:part="3"' in metadata and 'pdfaid:conformance="U"' in metadata
    document = reader(sealed)
    root: Any = document.trailer["/Root"]
    # pyHanko declares PDF 2.0 for EC keys (ISO/TS 32002); PDF/A-3 must stay PDF 1.7
    assert root.get("/Version") in (None, "/1.7")
    # PDF/A: the information dictionary and XMP name the same producer
    producer = document.metadata.producer if document.metadata else None
    match = re.search(r'pdf:Producer="([^"]*)"', metadata)
    assert match and producer == match.group(1)
    # PDF/A: the (invisible) signature widgets are printable and have no size
    widgets = [field.get_object() for field in root["/AcroForm"]["/Fields"]]
    for widget in widgets:
        assert int(widget["/F"]) & 4
        assert [float(v) for v in widget["/Rect"]] == [0, 0, 0, 0]
    return widgets
