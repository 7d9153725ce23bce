"""Reading rendered PDFs back in tests (pypdf)."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject


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


@dataclass
class MarkedContent:
    """The text of one page by marked-content ID, and the text of its artifacts."""

    by_mcid: dict[int, str]
    artifacts: list[str]


def marked_content(page: PageObject) -> MarkedContent:
    stack: list[tuple[str, int]] = []
    by_mcid: dict[int, str] = defaultdict(str)
    artifacts: list[str] = []

    def before(operator: bytes, operands: Any, *_: Any) -> None:
        if operator == b"BDC" and "/MCID" in operands[1]:
            stack.append(("mcid", int(operands[1]["/MCID"])))
        elif operator in (b"BDC", b"BMC"):
            if operands[0] == "/Artifact":
                artifacts.append("")
            stack.append(
                ("artifact" if operands[0] == "/Artifact" else "other", len(artifacts) - 1)
            )
        elif operator == b"EMC":
            stack.pop()

    def on_text(text: str, *_: Any) -> None:
        if stack and stack[-1][0] == "mcid":
            by_mcid[stack[-1][1]] += text
        elif stack and stack[-1][0] == "artifact":
            artifacts[stack[-1][1]] += text

    page.extract_text(visitor_operand_before=before, visitor_text=on_text)
    return MarkedContent(dict(by_mcid), [" ".join(text.split()) for text in artifacts])


@dataclass
class StructElement:
    """An element of a tagged PDF's structure tree, with the text of its content."""

    role: str
    text: str
    alt: str | None
    attributes: Any
    id: str | None
    children: list[StructElement] = field(default_factory=list)
    #: the annotations the element refers to (``OBJR``), as (reference, dictionary)
    objects: list[tuple[IndirectObject, DictionaryObject]] = field(default_factory=list)

    def walk(self) -> Iterator[StructElement]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, role: str) -> list[StructElement]:
        return [element for element in self.walk() if element.role == role]

    def outline(self, depth: int = 0) -> str:
        """One line per element (for assertion messages and reports)."""
        own = f"{'  ' * depth}{self.role}"
        if self.alt is not None:
            own += f" Alt={self.alt!r}"
        if all(child.role == "Span" for child in self.children):  # text lines: shown inline
            return own + (f" {self.text[:60]!r}" if self.text else "")
        return "\n".join([own, *(child.outline(depth + 1) for child in self.children)])


def parent_tree(pdf: bytes) -> dict[int, Any]:
    """The structure tree's ParentTree (a flat number tree): key -> entry (an element's
    reference, or the array of them for a page's marked content)."""
    nums = reader(pdf).trailer["/Root"]["/StructTreeRoot"]["/ParentTree"]["/Nums"]
    return {int(key): value for key, value in zip(nums[::2], nums[1::2], strict=True)}


def structure(pdf: bytes) -> StructElement:
    """The structure tree below the StructTreeRoot, its text read through the marked content."""
    document = reader(pdf)
    pages = {
        page.indirect_reference.idnum: marked_content(page).by_mcid
        for page in document.pages
        if page.indirect_reference is not None
    }
    tree: Any = document.trailer["/Root"]["/StructTreeRoot"].get_object()
    kids = tree["/K"]
    top = kids[0] if isinstance(kids, ArrayObject) else kids
    return _struct_element(top.get_object(), pages, None)


def _struct_element(node: Any, pages: dict[int, dict[int, str]], page: int | None) -> StructElement:
    if "/Pg" in node:
        page = node.raw_get("/Pg").idnum
    kids = node.get("/K", [])
    kids = kids if isinstance(kids, ArrayObject) else [kids]
    parts: list[str] = []
    children: list[StructElement] = []
    objects: list[tuple[IndirectObject, DictionaryObject]] = []
    for kid in kids:
        if isinstance(kid, int):
            parts.append(pages[page].get(kid, "") if page is not None else "")
            continue
        child = kid.get_object()
        if child.get("/Type") == "/MCR":
            parts.append(pages[child.raw_get("/Pg").idnum].get(int(child["/MCID"]), ""))
        elif child.get("/Type") == "/OBJR":
            objects.append((child.raw_get("/Obj"), child["/Obj"].get_object()))
        elif "/S" in child:
            element = _struct_element(child, pages, page)
            children.append(element)
            parts.append(element.text)
    return StructElement(
        role=str(node["/S"])[1:],
        text=" ".join(" ".join(parts).split()),
        alt=str(node["/Alt"]) if "/Alt" in node else None,
        attributes=node.get("/A"),
        id=str(node["/ID"]) if "/ID" in node else None,
        children=children,
        objects=objects,
    )


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
    assert 'pdfaid:part="3"' in metadata and 'pdfaid:conformance="A"' in metadata
    document = reader(sealed)
    root: Any = document.trailer["/Root"]
    # PDF/A level A: the tagged structure survives the seal's revisions
    assert root["/MarkInfo"].get_object()["/Marked"].value is True
    assert "/StructTreeRoot" in root
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
    # PDF/UA-1 7.18.4: the seal's widget is in the structure tree, in a Form element (the
    # document time stamps' widgets, added after the seal, are not: see docs/modules/documents.md)
    [seal] = [
        field for field in root["/AcroForm"]["/Fields"] if field.get_object()["/T"] == "Siegel"
    ]
    form = parent_tree(sealed)[int(seal.get_object()["/StructParent"])].get_object()
    assert form["/S"] == "/Form" and form["/K"][0].get_object().raw_get("/Obj").idnum == seal.idnum
    assert seal.get_object()["/TU"]
    return widgets
