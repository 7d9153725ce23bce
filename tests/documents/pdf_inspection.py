"""Reading rendered PDFs back in tests (pypdf)."""

from __future__ import annotations

import io
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
