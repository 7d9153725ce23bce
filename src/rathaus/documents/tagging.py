"""Finishing the structure tree of a tagged PDF (PDF/A-3a) so that screen readers get the letter.

WeasyPrint tags what the HTML says (headings, paragraphs, lists, tables, figures with their
``alt``) but leaves gaps that :func:`finish_structure` closes on the PDF objects before the file
is written (a WeasyPrint finisher: nothing is parsed a second time):

- The page margin boxes (running header, footer, "Seite x von y") are marked content that
  belongs to no part of the tree. They become pagination artifacts (ISO 32000-1, 14.8.2.2),
  which assistive technology skips, except the first page's footer: it holds the authority's
  phone, e-mail and opening hours, printed nowhere else, so its lines end the tree as paragraphs.
- An image with an empty ``alt`` is decoration: an artifact rather than a figure without text.
- Table header cells carry IDs that the data cells' ``Headers`` name, but the ``IDTree`` that
  resolves them (required by ISO 32000-1, table 322) is missing.
- A figure's ``BBox`` is in CSS pixels from the top of the page instead of PDF points.
- WeasyPrint builds the tree page by page, so the letter's body (``<main>``, one ``Part``)
  would be one ``Part`` per page; the pieces are joined.
- Elements without content (an empty ``closing`` block) are dropped.
- A description list (``<dl>``, the information block) is a list whose items are terms and
  descriptions in turn; each term becomes the ``Lbl`` of an item whose ``LBody`` holds its
  descriptions, so that a screen reader reads label/value pairs.
- Header cells get the ``Scope`` attribute (``/Row`` or ``/Column``) from the template's
  ``scope``, matching the ``Headers`` that WeasyPrint gives the data cells.
- A link's annotation gets its ``/Contents`` (PDF/UA-1 7.18.5) from the ``title`` of the
  ``<a>``, and every page the tab order of the structure (``/Tabs /S``, PDF/UA-1 7.18.3; the
  seal's widget comes later on the first page).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydyf
from weasyprint.document import Document
from weasyprint.formatting_structure import boxes

# render_pdf lays out at zoom 1: 0.75 PDF points per CSS pixel
SCALE = 0.75
# the margin box whose text, on the first page, is kept in the structure tree
CONTACT_MARGIN_BOX = "@bottom-left"


def finish_structure(document: Document, pdf: pydyf.PDF) -> None:
    """WeasyPrint finisher for a tagged PDF; does nothing to an untagged one."""
    if "StructTreeRoot" not in pdf.catalog:
        return
    tree = _Tree(pdf)
    for page_index, page in enumerate(document.pages):
        page_box = page._page_box
        tree.pair_description_lists(page_index, page_box)
        tree.finish_margin_boxes(page_index, page_box)
        _finish_cells_and_links(page_box)
    tree.merge_letter_body()
    tree.finish_figures(document)
    tree.drop_empty(tree.document_element)
    tree.add_id_tree()
    for reference in pdf.page_references:
        tree.get(reference)["Tabs"] = "/S"
    _outside_the_object_stream(pdf)


class _DirectDictionary(pydyf.Dictionary):
    """A dictionary written as an object of its own, not into pydyf's one object stream."""

    @property
    def compressible(self) -> bool:
        return False


def _outside_the_object_stream(pdf: pydyf.PDF) -> None:
    """The structure elements as objects of their own. pydyf packs every dictionary into one
    object stream, and pyHanko reads an object from such a stream by parsing its header from
    the start: with the hundreds of structure elements of a tagged letter, checking a seal took
    seven times as long (each of its revisions is compared object by object)."""
    for element in pdf.objects:
        if type(element) is pydyf.Dictionary and element.get("Type") == "/StructElem":
            element.__class__ = _DirectDictionary


def _number(reference: Any) -> int | None:
    """The object number of a pydyf reference (``b"12 0 R"``), None for anything else."""
    if isinstance(reference, bytes) and reference.endswith(b" R"):
        return int(reference.split()[0])
    return None


def _tagged_boxes(box: boxes.Box) -> Iterator[Any]:
    """The boxes below ``box`` that WeasyPrint makes structure elements of, in the order it makes
    them (depth first; line boxes are passed through, text boxes are marked content)."""
    for child in getattr(box, "children", ()):
        if not isinstance(child, boxes.LineBox | boxes.TextBox):
            yield child
        yield from _tagged_boxes(child)


def _finish_cells_and_links(page_box: boxes.PageBox) -> None:
    for box in _tagged_boxes(page_box):
        cell = getattr(box, "mark", None)  # WeasyPrint keeps a table cell's element there
        if box.element_tag == "th" and isinstance(cell, dict) and cell.get("S") == "/TH":
            # WeasyPrint's Headers take a th as a row header for scope="row", else a column one
            scope = "/Row" if box.element.get("scope") == "row" else "/Column"
            cell.setdefault("A", pydyf.Dictionary({"O": "/Table"}))["Scope"] = scope
        annotation = getattr(box, "link_annotation", None)
        if not isinstance(annotation, dict) or box.element is None:
            continue
        if description := " ".join((box.element.get("title") or "").split()):
            annotation["Contents"] = pydyf.String(description)


def _text_boxes(box: boxes.Box) -> int:
    if isinstance(box, boxes.TextBox):
        return 1
    return sum(_text_boxes(child) for child in getattr(box, "children", ()))


class _Tree:
    def __init__(self, pdf: pydyf.PDF) -> None:
        self.pdf = pdf
        self.root = self.get(pdf.catalog["StructTreeRoot"])
        self.document_element = self.get(self.root["K"][0])
        nums = self.get(self.root["ParentTree"])["Nums"]
        # page index -> list of structure elements by MCID (annotations have single entries)
        self.parents: dict[int, pydyf.Array] = {
            key: value
            for key, value in zip(nums[::2], nums[1::2], strict=True)
            if isinstance(value, list)
        }
        self.reachable = set(self._descendants(self.document_element))
        self._marks: dict[int, dict[int, int]] = {}
        # page reference -> the page's list elements, in the order WeasyPrint made them
        self.lists: dict[Any, list[Any]] = {}
        for element in pdf.objects:
            if isinstance(element, dict) and element.get("S") == "/L":
                self.lists.setdefault(element.get("Pg"), []).append(element)

    def get(self, reference: Any) -> Any:
        number = _number(reference)
        return self.pdf.objects[number] if number is not None else reference

    def _descendants(self, element: Any) -> Iterator[int]:
        yield element.number
        for kid in element.get("K", ()):
            child = self.get(kid)
            if isinstance(child, dict) and child.get("Type") == "/StructElem":
                yield from self._descendants(child)

    def _content_stream(self, page_index: int) -> list[Any]:
        page = self.get(self.pdf.page_references[page_index])
        stream: list[Any] = self.get(page["Contents"]).stream
        return stream

    def _marked_content(self, page_index: int) -> dict[int, int]:
        """MCID -> index of its property list in the page's content stream."""
        if page_index not in self._marks:
            stream = self._content_stream(page_index)
            self._marks[page_index] = {
                item["MCID"]: index
                for index, item in enumerate(stream[:-1])
                if isinstance(item, dict) and "MCID" in item and stream[index + 1] == b"BDC"
            }
        return self._marks[page_index]

    def _make_artifact(self, page_index: int, mcid: int, properties: dict[str, str]) -> bool:
        """Turn marked content into an artifact; False if it is not in the page's own stream."""
        index = self._marked_content(page_index).get(mcid)
        if index is None:  # drawn in a form XObject: left as WeasyPrint wrote it
            return False
        stream = self._content_stream(page_index)
        stream[index - 1] = "/Artifact"
        stream[index] = pydyf.Dictionary(properties)
        self.parents[page_index][mcid] = b"null"
        return True

    def _orphan_ancestor(self, element: Any) -> Any:
        """The outermost element of a branch outside the tree (its parent is the Document)."""
        while _number(element["P"]) != self.document_element.number:
            element = self.get(element["P"])
        return element

    def finish_margin_boxes(self, page_index: int, page_box: boxes.PageBox) -> None:
        by_mcid = self.parents.get(page_index, [])
        orphans = sorted(
            (number, mcid)
            for mcid, reference in enumerate(by_mcid)
            if (number := _number(reference)) is not None and number not in self.reachable
        )
        # WeasyPrint builds these elements margin box after margin box, text box by text box
        keywords: list[str] = []
        for child in page_box.children:
            if isinstance(child, boxes.MarginBox):
                keywords += [child.at_keyword] * _text_boxes(child)
        if len(keywords) != len(orphans):
            keywords = [""] * len(orphans)
        branches: dict[int, tuple[Any, str, list[int]]] = {}
        for (number, mcid), keyword in zip(orphans, keywords, strict=True):
            ancestor = self._orphan_ancestor(self.pdf.objects[number])
            branches.setdefault(ancestor.number, (ancestor, keyword, []))[2].append(mcid)
        for ancestor, keyword, mcids in branches.values():
            if page_index == 0 and keyword == CONTACT_MARGIN_BOX:
                ancestor["S"] = "/P"
                self.document_element["K"].append(ancestor.reference)
                self.reachable.update(self._descendants(ancestor))
                continue
            properties = {"Type": "/Pagination"}
            if keyword.startswith("@top"):
                properties["Subtype"] = "/Header"
            elif keyword.startswith("@bottom"):
                properties["Subtype"] = "/Footer"
            made = [self._make_artifact(page_index, mcid, properties) for mcid in mcids]
            if all(made):  # nothing refers to the branch any more
                for number in list(self._descendants(ancestor)):
                    self.pdf.objects[number].clear()
        while by_mcid and by_mcid[-1] == b"null":  # margin boxes are drawn last
            by_mcid.pop()

    def pair_description_lists(self, page_index: int, page_box: boxes.PageBox) -> None:
        """Make each ``dt`` the ``Lbl`` of a list item whose ``LBody`` holds its ``dd``.

        WeasyPrint tags ``dt`` and ``dd`` alike as list items with a body, so a screen reader
        hears "Aktenzeichen", then "33.1-2026-000123" as the next item. Lists are found by
        position: the page's ``ul``, ``ol`` and ``dl`` boxes in the order WeasyPrint tagged them
        against the page's ``L`` elements; if the two do not match, nothing is changed."""
        list_boxes = [
            box for box in _tagged_boxes(page_box) if box.element_tag in ("ul", "ol", "dl")
        ]
        elements = self.lists.get(self.pdf.page_references[page_index], [])
        if len(list_boxes) != len(elements):
            return
        for box, element in zip(list_boxes, elements, strict=True):
            if box.element_tag == "dl":
                self._pair_terms(box, element)

    def _pair_terms(self, box: boxes.Box, element: Any) -> None:
        roles = [child.element_tag for child in box.children]
        items = [self.get(kid) for kid in element.get("K", ())]
        bodies = [
            self.get(item["K"][0])
            for item in items
            if isinstance(item, dict) and item.get("S") == "/LI" and len(item.get("K", ())) == 1
        ]
        if (
            len(roles) != len(items)
            or len(bodies) != len(items)
            or any(role not in ("dt", "dd") for role in roles)
            or any(not isinstance(body, dict) or body.get("S") != "/LBody" for body in bodies)
        ):
            return
        kept = pydyf.Array()
        current: Any = None
        for role, item, body in zip(roles, items, bodies, strict=True):
            if role == "dt" or current is None:
                if role == "dt":
                    body["S"] = "/Lbl"
                kept.append(item.reference)
                current = item
                continue
            body["P"] = current.reference  # a description joins its term's item
            current["K"].append(body.reference)
            item.clear()
            self.reachable.discard(item.number)
        element["K"] = kept
        # the labels are words, not numbers or bullets (ISO 32000-1, table 347)
        element["A"] = pydyf.Dictionary({"O": "/List", "ListNumbering": "/None"})

    def merge_letter_body(self) -> None:
        """Join the ``Part`` elements that ``<main>`` leaves on consecutive pages."""
        kept = pydyf.Array()
        previous: Any = None
        for reference in self.document_element["K"]:
            element = self.get(reference)
            children = [self.get(kid) for kid in element.get("K", ())]
            if (
                previous is not None
                and previous.get("S") == element.get("S") == "/Part"
                and all(isinstance(child, dict) and "S" in child for child in children)
            ):
                for child in children:
                    child["P"] = previous.reference
                previous["K"].extend(element["K"])
                element.clear()
                continue
            kept.append(reference)
            previous = element
        self.document_element["K"] = kept

    def finish_figures(self, document: Document) -> None:
        pages = [_number(reference) for reference in self.pdf.page_references]
        for number in sorted(self.reachable):
            element = self.pdf.objects[number]
            if element.get("S") != "/Figure" or _number(element.get("Pg")) not in pages:
                continue
            page_index = pages.index(_number(element["Pg"]))
            kids = element.get("K", [])
            if "Alt" not in element and len(kids) == 1 and isinstance(kids[0], int):
                if self._make_artifact(page_index, kids[0], {"Type": "/Layout"}):
                    self.get(element["P"])["K"].remove(element.reference)
                    element.clear()
                continue
            attributes = element.get("A")
            if isinstance(attributes, dict) and "BBox" in attributes:
                x1, y1, x2, y2 = attributes["BBox"]
                height = document.pages[page_index].height
                attributes["BBox"] = pydyf.Array(
                    (x1 * SCALE, (height - y2) * SCALE, x2 * SCALE, (height - y1) * SCALE)
                )

    def drop_empty(self, element: Any) -> bool:
        """Remove descendants without content; True if ``element`` itself has none left."""
        kids = element.get("K", pydyf.Array())
        for kid in list(kids):
            child = self.get(kid)
            structure_element = isinstance(child, dict) and child.get("Type") == "/StructElem"
            if structure_element and self.drop_empty(child):
                kids.remove(kid)
                child.clear()
        return not kids and "Alt" not in element

    def add_id_tree(self) -> None:
        identified = sorted(
            (str(element["ID"].string), element.reference)
            for number in self.reachable
            if "ID" in (element := self.pdf.objects[number])
        )
        if identified:
            names = pydyf.Array()
            for key, reference in identified:
                names.extend((pydyf.String(key), reference))
            self.root["IDTree"] = pydyf.Dictionary({"Names": names})
