"""Letters as tagged PDF/A-3a: the structure a screen reader gets (BITV 2.0, EN 301 549 cl. 10)."""

from __future__ import annotations

import base64
import io
import re
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from pypdf.generic import IndirectObject

from rathaus.documents.rendering import render_pdf
from rathaus.documents.seal import seal_pdf, seal_signer, seal_trust_roots, validate_seal

from .conftest import VERIFICATION_URL
from .pdf_inspection import (
    StructElement,
    assert_sealed_pdf_a,
    marked_content,
    parent_tree,
    reader,
    structure,
    xmp,
)

MM = 72 / 25.4  # PDF points per millimetre


def _receipt(context: dict[str, Any], language: str = "de") -> bytes:
    return render_pdf(
        template="documents_test/receipt.html",
        context=context,
        language=language,
        title="Eingangsbestätigung",
        author="Stadt Wuppertal, Bürgeramt",
    )


def _notice(context: dict[str, Any], *, paragraphs: int = 1) -> bytes:
    paragraph = "Nach Prüfung Ihres Antrags und der eingereichten Unterlagen ergeht Folgendes. " * 8
    return render_pdf(
        template="documents_test/notice.html",
        context={
            **context,
            "salutation": "Sehr geehrte Frau Mustermann,",
            "decision": [paragraph] * paragraphs,
            "fees": [("Verwaltungsgebühr", "12,00 EUR"), ("Auslagen", "3,50 EUR")],
            "reasons": [paragraph] * paragraphs,
            "remedy": "Gegen diesen Bescheid kann innerhalb eines Monats Klage erhoben werden.",
            "signed_by": "Im Auftrag Beispiel",
        },
        language="de",
        title="Bescheid",
        author="Stadt Wuppertal, Bürgeramt",
    )


def _png_data_uri() -> str:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 80, 160)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def test_receipt_claims_pdf_a_3_level_a_and_is_marked(receipt_pdf: bytes) -> None:
    metadata = xmp(receipt_pdf)
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', metadata)
    assert re.search(r'pdfaid:conformance="A"|<pdfaid:conformance>A</pdfaid:conformance>', metadata)
    root: Any = reader(receipt_pdf).trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"].value is True
    assert "/StructTreeRoot" in root


def test_receipt_structure_has_headings_paragraphs_and_the_qr_code_with_alt_text(
    receipt_pdf: bytes,
) -> None:
    tree = structure(receipt_pdf)

    assert tree.role == "Document", tree.outline()
    headings = [(element.role, element.text) for element in tree.walk() if element.role[0] == "H"]
    assert headings[0] == ("H1", "Eingangsbestätigung: Anmeldung einer Wohnung")
    assert [role for role, _ in headings].count("H1") == 1
    assert ("H2", "Your details") in headings  # the test template's own heading
    assert ("H2", "Echtheit dieses Dokuments prüfen") in headings  # the verification box
    paragraphs = [element.text for element in tree.find_all("P")]
    assert "Familienname: Mustermann" in paragraphs
    assert "Frau Erika Mustermann" in paragraphs  # the address field
    # the information block is a list of label/value pairs
    [info] = tree.find_all("L")
    assert _pairs(info) == [
        ("Aktenzeichen", ["33.1-2026-000123"]),
        ("Datum", ["22. November 2026"]),
    ], tree.outline()
    [qr_code] = tree.find_all("Figure")
    assert qr_code.alt == "QR-Code zur Prüfseite"
    # reading order: letterhead, address field and information block, subject, body (the empty
    # closing block is left out), verification box, then the authority's contact details from
    # the first page's footer
    assert [element.role for element in tree.children] == [
        "NonStruct",
        "Div",
        "H1",
        "Part",
        "Sect",
        "P",
        "P",
        "P",
    ], tree.outline()


def _pairs(element: StructElement) -> list[tuple[str | None, list[str]]]:
    """A list's items as (label, bodies); every item must be made of Lbl and LBody only."""
    pairs = []
    for item in element.children:
        assert item.role == "LI", element.outline()
        roles = [child.role for child in item.children]
        assert set(roles) <= {"Lbl", "LBody"} and roles.count("Lbl") <= 1, element.outline()
        labels = [child.text for child in item.children if child.role == "Lbl"]
        bodies = [child.text for child in item.children if child.role == "LBody"]
        pairs.append((labels[0] if labels else None, bodies))
    return pairs


def test_description_lists_are_read_as_labels_with_their_values(
    receipt_context: dict[str, Any],
) -> None:
    """PDF/UA-1 7.2 and ISO 32000-1 14.8.4.3.3: a term is the Lbl of its item, its descriptions
    the LBody; WeasyPrint alone makes every dt and dd an item of its own."""
    pdf = render_pdf(
        template="documents_test/lists.html",
        context={
            **receipt_context,
            "contact": {"name": "Herr Beispiel", "phone": "0202 563-1234", "email": ""},
            "missing": ["Mietvertrag", "Personalausweis"],
        },
        language="de",
        title="Nachforderung",
        author="Stadt Wuppertal, Bürgeramt",
    )

    tree = structure(pdf)
    info, bullets, fees = tree.find_all("L")
    assert _pairs(info) == [
        ("Aktenzeichen", ["33.1-2026-000123"]),
        ("Datum", ["22. November 2026"]),
        ("Ansprechperson", ["Herr Beispiel"]),
        ("Telefon", ["0202 563-1234"]),
        ("Vorgang", ["2026-000042", "zweite Angabe"]),  # a term with two descriptions
    ], tree.outline()
    assert _pairs(fees) == [("Gebühr", ["12,00 EUR"]), ("Frist", ["4 Wochen"])]
    for description_list in (info, fees):
        assert description_list.attributes == {"/O": "/List", "/ListNumbering": "/None"}
    # a bulleted list stays as WeasyPrint tags it
    assert _pairs(bullets) == [("•", ["Mietvertrag"]), ("•", ["Personalausweis"])]
    assert bullets.attributes is None


@pytest.mark.parametrize(
    ("language", "alt", "verify"),
    [
        ("de", "QR-Code zur Prüfseite", "Echtheit dieses Dokuments prüfen"),
        ("en", "QR code for the verification page", "Verify this document"),
    ],
)
def test_language_of_the_document_and_its_alt_texts_is_the_one_requested(
    receipt_context: dict[str, Any], language: str, alt: str, verify: str
) -> None:
    pdf = _receipt(receipt_context, language=language)

    assert reader(pdf).trailer["/Root"]["/Lang"] == language
    tree = structure(pdf)
    assert [figure.alt for figure in tree.find_all("Figure")] == [alt]
    assert verify in [heading.text for heading in tree.find_all("H2")]


def test_viewers_show_the_documents_title(receipt_pdf: bytes) -> None:
    document = reader(receipt_pdf)
    root: Any = document.trailer["/Root"]

    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert document.metadata is not None and document.metadata.title == "Eingangsbestätigung"
    assert re.search(r"<dc:title>.*Eingangsbestätigung.*</dc:title>", xmp(receipt_pdf), re.S)


def test_notice_table_has_header_cells_that_the_data_cells_refer_to(
    receipt_context: dict[str, Any],
) -> None:
    pdf = _notice(receipt_context)

    tree = structure(pdf)
    [table] = tree.find_all("Table")
    headers = table.find_all("TH")
    assert [cell.text for cell in headers] == ["Gebühr", "Betrag", "Verwaltungsgebühr", "Auslagen"]
    # ISO 32000-1 table 322: the IDs that Headers name are resolved through the IDTree
    id_tree: Any = reader(pdf).trailer["/Root"]["/StructTreeRoot"]["/IDTree"]
    names = id_tree["/Names"]
    ids = {
        str(key): reference.get_object()["/S"]
        for key, reference in zip(names[::2], names[1::2], strict=True)
    }
    assert {cell.id for cell in headers} == set(ids) and set(ids.values()) == {"/TH"}
    # PDF/UA-1 7.5: the scope of each header cell, from the template's scope attribute
    assert [cell.attributes["/Scope"] for cell in headers] == [
        "/Column",
        "/Column",
        "/Row",
        "/Row",
    ]
    assert all(cell.attributes["/O"] == "/Table" for cell in headers)
    by_id = {cell.id: cell.text for cell in headers}
    cells = table.find_all("TD")
    assert [cell.text for cell in cells] == ["12,00 EUR", "3,50 EUR"]
    assert [[by_id[str(key)] for key in cell.attributes["/Headers"]] for cell in cells] == [
        ["Verwaltungsgebühr", "Betrag"],
        ["Auslagen", "Betrag"],
    ]
    assert [heading.text for heading in tree.find_all("H2")][:4] == [
        "Entscheidung",
        "Kosten",
        "Begründung",
        "Rechtsbehelfsbelehrung",
    ]


def test_running_header_and_page_numbers_are_artifacts_and_the_contact_is_read_once(
    receipt_context: dict[str, Any],
) -> None:
    pdf = _notice(receipt_context, paragraphs=6)

    pages = reader(pdf).pages
    assert len(pages) >= 2
    artifacts = [marked_content(page).artifacts for page in pages]
    assert "Seite 1 von" in " ".join(artifacts[0])
    assert "Bürgeramt · Aktenzeichen 33.1-2026-000123" in artifacts[1]
    assert "Telefon 0202 563-0 · buergeramt@stadt.wuppertal.de" in artifacts[1]
    tree = structure(pdf)
    assert "Seite" not in tree.text and "Bürgeramt · Aktenzeichen" not in tree.text
    # the first page's footer is the only place with phone and e-mail: it ends the reading order
    assert [element.text for element in tree.children[-3:]] == [
        "Stadt Wuppertal · Bürgeramt · 33.1 Meldeangelegenheiten",
        "Johannes-Rau-Platz 1, 42275 Wuppertal",
        "Telefon 0202 563-0 · buergeramt@stadt.wuppertal.de",
    ]
    assert [element.role for element in tree.children].count("Part") == 1  # one letter body
    # the parent tree maps marked content only to elements of the tree (no orphans)
    root: Any = reader(pdf).trailer["/Root"]["/StructTreeRoot"]
    in_tree = _element_numbers(root["/K"][0])
    nums = root["/ParentTree"]["/Nums"]
    for by_mcid in nums[1 : 2 * len(pages) : 2]:
        mapped = [entry.idnum for entry in by_mcid if isinstance(entry, IndirectObject)]
        assert mapped and set(mapped) <= in_tree


def _element_numbers(reference: IndirectObject) -> set[int]:
    found = {reference.idnum}
    for kid in reference.get_object().get("/K", []):
        if isinstance(kid, IndirectObject) and "/S" in kid.get_object():
            found |= _element_numbers(kid)
    return found


def test_qr_code_figure_is_placed_in_pdf_points(receipt_pdf: bytes) -> None:
    [qr_code] = structure(receipt_pdf).find_all("Figure")
    x1, y1, x2, y2 = (float(value) for value in qr_code.attributes["/BBox"])

    assert x2 - x1 == pytest.approx(25 * MM) and y2 - y1 == pytest.approx(25 * MM)
    assert x1 == pytest.approx(25 * MM)  # the left page margin
    width, height = (float(value) for value in reader(receipt_pdf).pages[0].mediabox[2:])
    assert 0 < y1 < y2 < height and x2 < width


@pytest.mark.parametrize(
    ("language", "description"),
    [("de", "Prüfseite dieses Dokuments"), ("en", "Verification page of this document")],
)
def test_verification_address_is_a_link_in_the_structure(
    receipt_context: dict[str, Any], language: str, description: str
) -> None:
    """PDF/UA-1 7.18.5: a Link element with the text and a reference to the link annotation,
    which has an alternate description; PDF/A-3: the annotation is printed and only opens the
    address (no JavaScript or other actions)."""
    pdf = _receipt(receipt_context, language=language)

    tree = structure(pdf)
    [verification] = tree.find_all("Sect")
    [link] = verification.find_all("Link")
    assert link.text == VERIFICATION_URL
    [(reference, annotation)] = link.objects
    assert annotation["/Subtype"] == "/Link"
    assert annotation["/A"]["/S"] == "/URI" and annotation["/A"]["/URI"] == VERIFICATION_URL
    assert annotation["/Contents"] == description
    assert int(annotation["/F"]) == 4  # Print only: not hidden, not invisible
    assert "/AA" not in annotation
    # the annotation's StructParent leads back to the Link element
    element = parent_tree(pdf)[int(annotation["/StructParent"])]
    assert element.get_object()["/S"] == "/Link"
    assert [
        (kid.get_object().get("/Type"), kid.get_object().raw_get("/Obj").idnum)
        for kid in element.get_object()["/K"]
        if isinstance(kid, IndirectObject)
    ] == [("/OBJR", reference.idnum)]
    # the only annotation of the letter, on a page whose tab order is the structure's
    pages = reader(pdf).pages
    annotations = [ref.idnum for page in pages for ref in page.get("/Annots", [])]
    assert annotations == [reference.idnum]
    assert all(page["/Tabs"] == "/S" for page in pages)


@pytest.mark.parametrize(
    ("alt", "figures"),
    [
        ("Wappen der Stadt Wuppertal", ["Wappen der Stadt Wuppertal", "QR-Code zur Prüfseite"]),
        ("", ["QR-Code zur Prüfseite"]),
    ],
)
def test_images_with_alt_text_are_figures_and_decorative_ones_artifacts(
    receipt_context: dict[str, Any], alt: str, figures: list[str]
) -> None:
    pdf = render_pdf(
        template="documents_test/logo.html",
        context={**receipt_context, "logo": _png_data_uri(), "logo_alt": alt, "text": "Inhalt"},
        language="de",
        title="Mitteilung",
        author="Stadt Wuppertal, Bürgeramt",
    )

    assert [figure.alt for figure in structure(pdf).find_all("Figure")] == figures
    content = reader(pdf).pages[0].get_contents()
    assert content is not None
    decorative = re.findall(
        rb"/Artifact\s*<</Type /Layout>>\s*BDC(.*?)EMC", content.get_data(), re.S
    )
    assert [b" Do" in sequence for sequence in decorative] == ([True] if not alt else [])


def test_sealed_tagged_letter_keeps_its_structure_and_validates(
    demo_seal: Path, receipt_pdf: bytes
) -> None:
    sealed = seal_pdf(receipt_pdf, signer=seal_signer(), location="Wuppertal")

    status = validate_seal(sealed, trust_roots=seal_trust_roots())
    assert status.valid and status.intact and status.trusted, status.problem
    assert 'pdfaid:conformance="A"' in xmp(sealed)
    root: Any = reader(sealed).trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"].value is True
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    # the letter's structure as rendered, then the seal's field (PDF/UA-1 7.18.4)
    assert structure(sealed).outline() == structure(receipt_pdf).outline() + "\n  Form"
    assert_sealed_pdf_a(sealed, receipt_pdf)


@pytest.mark.parametrize(
    ("language", "name"),
    [("de", "Elektronisches Siegel der Behörde"), ("en", "Electronic seal of the authority")],
)
def test_the_seals_widget_is_a_form_element_of_the_structure(
    demo_seal: Path, receipt_context: dict[str, Any], language: str, name: str
) -> None:
    """PDF/UA-1 7.18.4: the widget annotation of the seal's field is nested in a Form element
    (one object reference, nothing else), with StructParent and a name for assistive
    technology (/TU) in the letter's language; the seal covers it and stays valid."""
    rendered = _receipt(receipt_context, language=language)
    sealed = seal_pdf(rendered, signer=seal_signer(), location="Wuppertal")

    [widget] = assert_sealed_pdf_a(sealed, rendered)
    assert widget["/T"] == "Siegel" and widget["/TU"] == name
    tree = structure(sealed)
    form = tree.children[-1]
    assert form.role == "Form" and form.children == [] and form.text == ""
    [(reference, annotation)] = form.objects
    assert annotation["/Subtype"] == "/Widget" and annotation["/T"] == "Siegel"
    assert annotation["/StructParent"] == widget["/StructParent"]
    element = parent_tree(sealed)[int(widget["/StructParent"])].get_object()
    assert element["/S"] == "/Form" and len(element["/K"]) == 1
    assert element["/K"][0].get_object().raw_get("/Obj").idnum == reference.idnum
    # on a page whose tab order is the structure's (PDF/UA-1 7.18.3)
    assert widget["/P"].get_object()["/Tabs"] == "/S"
    status = validate_seal(sealed, trust_roots=seal_trust_roots())
    assert status.valid and status.intact and status.trusted, status.problem
    assert status.signer


_PROJECT_LETTERS = {
    "applications/receipt.html": {
        "service_name": "Anmeldung einer Wohnung",
        "submitted_at": datetime(2026, 11, 22, 10, 30, tzinfo=UTC),
        "confirmed_at": datetime(2026, 11, 22, 10, 29, tzinfo=UTC),
        "sections": [
            SimpleNamespace(
                title="Angaben zur Person",
                rows=[SimpleNamespace(label="Familienname", text="Mustermann", children=[])],
            )
        ],
        "attachments": [SimpleNamespace(original_name="a.pdf", size=1200, sha256="ab" * 32)],
    },
    "casework/documents/notice.html": {
        "case_number": "2026-000042",
        "body": "Ihrem Antrag wird stattgegeben.",
        "legal_basis": "§ 17 BMG",
        "remedy": "Klage beim Verwaltungsgericht.",
    },
    "casework/documents/revocation.html": {
        "case_number": "2026-000042",
        "notice_title": "Bescheid",
        "notice_date": date(2026, 11, 1),
        "reason": "Der Bescheid war fehlerhaft.",
        "legal_basis": "§ 48 VwVfG",
        "remedy": "Klage beim Verwaltungsgericht.",
    },
    "registers/landlord_confirmation.html": {
        "issued_at": datetime(2026, 11, 22, 10, 30, tzinfo=UTC),
        "confirmation": SimpleNamespace(
            landlord_name="Hausverwaltung Beispiel",
            landlord_address="Hofaue 1, 42103 Wuppertal",
            owner_name="",
            address_line="Heidestraße 17, 42103 Wuppertal",
            move_in_date=date(2026, 11, 1),
            person_names=["Erika Mustermann"],
        ),
    },
}


def _letter_templates() -> list[str]:
    """Every template of the project that extends the letter base."""
    source = Path(__file__).resolve().parents[2] / "src" / "rathaus"
    return sorted(
        path.relative_to(templates).as_posix()
        for templates in source.glob("*/templates")
        for path in templates.rglob("*.html")
        if '{% extends "documents/letter_base.html" %}' in path.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("template", _letter_templates())
@pytest.mark.parametrize("language", ["de", "en"])
def test_the_projects_letter_templates_give_a_sound_structure(
    receipt_context: dict[str, Any], template: str, language: str
) -> None:
    assert template in _PROJECT_LETTERS, f"add a context for {template} to _PROJECT_LETTERS"
    pdf = render_pdf(
        template=template,
        context={**receipt_context, **_PROJECT_LETTERS[template]},
        language=language,
        title="Schreiben",
        author="Stadt Wuppertal, Bürgeramt",
    )

    tree = structure(pdf)
    levels = [int(element.role[1]) for element in tree.walk() if element.role[0] == "H"]
    assert levels[0] == 1 and levels.count(1) == 1, tree.outline()
    assert all(later <= earlier + 1 for earlier, later in pairwise(levels)), levels
    assert tree.find_all("Figure") and all(figure.alt for figure in tree.find_all("Figure"))
    for table in tree.find_all("Table"):
        assert table.find_all("TH"), tree.outline()
        assert all(cell.attributes.get("/Headers") for cell in table.find_all("TD"))
        assert all(
            cell.attributes["/Scope"] in ("/Row", "/Column") for cell in table.find_all("TH")
        )
    # the information block: every label with its value
    info = tree.find_all("L")[0]
    assert all(label and len(values) == 1 for label, values in _pairs(info)), tree.outline()
    for link in tree.find_all("Link"):
        assert [annotation["/Contents"] for _, annotation in link.objects], tree.outline()
    assert reader(pdf).trailer["/Root"]["/Lang"] == language


def test_structure_elements_are_objects_of_their_own(receipt_context: dict[str, Any]) -> None:
    """Not packed into the one object stream pydyf writes: pyHanko reads an object of such a
    stream by parsing the stream's header from its start, so checking the seal of a tagged
    letter (hundreds of structure elements, compared revision by revision) took seven times as
    long as of an untagged one."""
    pdf_reader = reader(_notice(receipt_context, paragraphs=6))
    root = pdf_reader.trailer["/Root"]["/StructTreeRoot"]
    elements = _element_numbers(root["/K"][0])
    assert len(elements) > 20
    in_object_streams = set(pdf_reader.xref_objStm)  # object number -> (stream, index)
    assert not elements & in_object_streams
    assert in_object_streams  # the other small objects still go into the object stream
