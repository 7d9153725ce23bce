"""Rendering templates to PDF/A-3a: content, conformance claims, fonts, QR code, safety."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rathaus.documents.letter import Sender
from rathaus.documents.rendering import DocumentError, MissingVariableError, render_pdf
from rathaus.documents.verification import qr_matrix

from .conftest import SHORT_CODE, VERIFICATION_URL
from .pdf_inspection import fonts, reader, text, xmp


def _receipt(context: dict[str, Any], language: str = "de", **kwargs: Any) -> bytes:
    return render_pdf(
        template="documents_test/receipt.html",
        context=context,
        language=language,
        title="Eingangsbestätigung",
        author="Stadt Wuppertal, Bürgeramt",
        **kwargs,
    )


def test_receipt_text_is_extractable_and_contains_what_was_passed(
    receipt_context: dict[str, Any],
) -> None:
    content = text(_receipt(receipt_context))

    for expected in [
        "Stadt Wuppertal",
        "Frau Erika Mustermann",
        "Heidestraße 17",
        "42103 Wuppertal",
        "33.1-2026-000123",
        "22. November 2026",
        "Eingangsbestätigung: Anmeldung einer Wohnung",
        "Anmeldung einer Wohnung",
        "Mustermann",
        "01.11.2026",
        "wohnungsgeberbestaetigung.pdf",
        "Aktenzeichen",
        "Seite 1 von 1",
        VERIFICATION_URL,
        SHORT_CODE,
    ]:
        assert expected in content, expected


def test_letter_is_rendered_in_the_requested_language(receipt_context: dict[str, Any]) -> None:
    content = text(_receipt(receipt_context, language="en"))

    assert "File reference" in content
    assert "Page 1 of 1" in content
    assert "Nov. 22, 2026" in content
    assert "Aktenzeichen" not in content


def test_pdf_declares_pdf_a_3a_with_the_documents_metadata(
    receipt_context: dict[str, Any],
) -> None:
    created = datetime(2026, 11, 22, 10, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    pdf = _receipt(receipt_context, subject="Anmeldung einer Wohnung", created=created)

    assert pdf.startswith(b"%PDF-1.7\n")
    metadata = xmp(pdf)
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', metadata)
    assert re.search(r'pdfaid:conformance="A"|<pdfaid:conformance>A</pdfaid:conformance>', metadata)
    assert "Eingangsbestätigung" in metadata
    assert "Stadt Wuppertal, Bürgeramt" in metadata
    assert "2026-11-22T10:30:00+01:00" in metadata
    document = reader(pdf)
    root: Any = document.trailer["/Root"]
    assert root["/Lang"] == "de"
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert document.metadata is not None
    assert document.metadata.title == "Eingangsbestätigung"
    assert document.metadata.author == "Stadt Wuppertal, Bürgeramt"
    assert document.metadata.subject == "Anmeldung einer Wohnung"


def test_all_fonts_are_embedded(receipt_context: dict[str, Any]) -> None:
    used = fonts(_receipt(receipt_context))

    assert used, "the receipt uses no fonts"
    for name, descriptor in used.items():
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), name
    assert any("Rathaus-Sans" in name for name in used)


def test_qr_code_in_the_pdf_encodes_the_verification_url(
    receipt_context: dict[str, Any],
) -> None:
    pdf = _receipt(receipt_context)

    images = [image.image for page in reader(pdf).pages for image in page.images]
    assert len(images) == 1
    image = images[0].convert("L")
    expected = qr_matrix(VERIFICATION_URL)
    assert image.size == (len(expected), len(expected))
    pixels = image.load()
    modules = [[pixels[x, y] < 128 for x in range(image.width)] for y in range(image.height)]
    assert modules == expected
    assert qr_matrix(VERIFICATION_URL + "x") != expected


def test_letter_without_verification_has_no_qr_code(receipt_context: dict[str, Any]) -> None:
    del receipt_context["verification"]

    pdf = _receipt(receipt_context)

    assert not [image for page in reader(pdf).pages for image in page.images]
    assert "Verify" not in text(pdf)


def test_three_page_notice_numbers_its_pages(receipt_context: dict[str, Any]) -> None:
    paragraph = "Nach Prüfung Ihres Antrags und der eingereichten Unterlagen ergeht Folgendes. " * 8
    context = {
        **receipt_context,
        "salutation": "Sehr geehrte Frau Mustermann,",
        "decision": [paragraph] * 4,
        "reasons": [paragraph] * 9,
        "remedy": paragraph,
        "signed_by": "Im Auftrag Beispiel",
    }

    pdf = render_pdf(
        template="documents_test/notice.html",
        context=context,
        language="de",
        title="Bescheid",
        author="Stadt Wuppertal, Bürgeramt",
    )

    pages = reader(pdf).pages
    assert len(pages) == 3
    assert "Seite 3 von 3" in pages[2].extract_text()
    assert "33.1-2026-000123" in pages[1].extract_text()  # reference repeated on later pages
    # DIN 5008: the first page carries the letterhead, the running header starts on page 2
    assert "Bürgeramt · Aktenzeichen" not in pages[0].extract_text()
    assert "Bürgeramt · Aktenzeichen 33.1-2026-000123" in pages[1].extract_text()


def test_footer_separates_only_the_contact_details_that_exist(
    receipt_context: dict[str, Any],
) -> None:
    receipt_context["sender"] = Sender(
        municipality="Stadt Wuppertal",
        authority="Wahlamt",
        address_lines=("Johannes-Rau-Platz 1", "42275 Wuppertal"),
        website="https://www.wuppertal.de/",
    )

    lines = text(_receipt(receipt_context)).splitlines()

    assert "https://www.wuppertal.de/" in lines
    assert not [line for line in lines if line.startswith("·")]


def test_answers_are_listed_as_label_and_answer(receipt_context: dict[str, Any]) -> None:
    receipt_context["answers"] = [("Familienname", "Mustermann"), ("Vornamen", "Erika")]

    lines = text(_receipt(receipt_context)).splitlines()

    assert "Familienname: Mustermann" in lines
    assert "Vornamen: Erika" in lines


def test_missing_template_variable_is_an_error_naming_it(
    receipt_context: dict[str, Any],
) -> None:
    del receipt_context["reference"]

    with pytest.raises(MissingVariableError, match=r"documents_test/receipt\.html.*'reference'"):
        _receipt(receipt_context)


def test_missing_attribute_of_a_context_value_is_an_error(
    receipt_context: dict[str, Any],
) -> None:
    receipt_context["sender"] = {"authority": "Bürgeramt"}

    with pytest.raises(MissingVariableError, match=r"sender\.municipality"):
        _receipt(receipt_context)


def test_unknown_or_broken_template_is_a_clear_error(receipt_context: dict[str, Any]) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        render_pdf(
            template="documents_test/nope.html",
            context=receipt_context,
            language="de",
            title="x",
            author="y",
        )
    with pytest.raises(DocumentError, match="is invalid"):
        render_pdf(
            template="documents_test/broken.html",
            context=receipt_context,
            language="de",
            title="x",
            author="y",
        )


def test_html_in_context_values_is_escaped_and_nothing_is_fetched(
    receipt_context: dict[str, Any], local_http_server: tuple[str, list[str]]
) -> None:
    base_url, requests = local_http_server
    hostile = f'<b>fett</b><img src="{base_url}/pixel.png"><script>alert(1)</script>'
    receipt_context["answers"] = [("Bemerkung", hostile)]
    receipt_context["service_name"] = "<i>Anmeldung</i>"

    pdf = _receipt(receipt_context)

    content = text(pdf)
    assert "<b>fett</b>" in content
    assert "<script>alert(1)</script>" in content
    assert "<i>Anmeldung</i>" in content
    assert requests == []
    assert not [image for page in reader(pdf).pages if page.images for image in page.images[1:]]


@pytest.mark.parametrize(
    ("template", "key", "path"),
    [
        ("documents_test/external_image.html", "image_url", "/logo.png"),
        ("documents_test/external_stylesheet.html", "stylesheet_url", "/print.css"),
    ],
)
def test_external_urls_in_templates_are_refused_without_fetching(
    template: str, key: str, path: str, local_http_server: tuple[str, list[str]]
) -> None:
    base_url, requests = local_http_server

    with pytest.raises(DocumentError, match=r"refused to fetch http://127\.0\.0\.1"):
        render_pdf(
            template=template,
            context={key: base_url + path},
            language="de",
            title="Test",
            author="Test",
        )
    assert requests == []


def test_local_files_outside_the_allowed_folders_are_refused() -> None:
    with pytest.raises(DocumentError, match="refused to fetch file:///etc/passwd"):
        render_pdf(
            template="documents_test/external_image.html",
            context={"image_url": "file:///etc/passwd"},
            language="de",
            title="Test",
            author="Test",
        )
    with pytest.raises(DocumentError, match="refused to fetch"):
        render_pdf(
            template="documents_test/external_image.html",
            context={"image_url": "file:///usr/share/fonts/truetype/../../../../etc/passwd"},
            language="de",
            title="Test",
            author="Test",
        )


def test_missing_fonts_are_a_configuration_error(
    settings: Any, receipt_context: dict[str, Any], tmp_path: Any
) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.DOCUMENTS_FONT_DIR = str(tmp_path)

    with pytest.raises(ImproperlyConfigured, match="fonts-liberation2"):
        _receipt(receipt_context)


def test_footer_prints_the_authority_with_special_characters_intact(
    receipt_context: dict[str, Any],
) -> None:
    from rathaus.documents.letter import Sender

    receipt_context["sender"] = Sender(
        municipality="Stadt Wuppertal",
        authority='Bürger- & Ordnungsamt "Mitte"',
        address_lines=("Johannes-Rau-Platz 1", "42275 Wuppertal"),
        phone="0202 563-0",
        opening_hours="Mo-Fr 8-16 Uhr\nDo bis 18 Uhr",
    )

    content = text(_receipt(receipt_context))

    assert content.count('Bürger- & Ordnungsamt "Mitte"') >= 2  # letterhead and footer
    assert "Johannes-Rau-Platz 1, 42275 Wuppertal" in content
    assert "Öffnungszeiten: Mo-Fr 8-16 Uhr" in content
    assert "Do bis 18 Uhr" in content
    assert "&amp;" not in content


def test_a_long_return_address_wraps_instead_of_losing_postcode_and_town(
    receipt_context: dict[str, Any],
) -> None:
    receipt_context["sender"] = Sender(
        municipality="Stadt Mönchengladbach",
        authority="Fachbereich Bürgerservice, Wahlamt und Briefwahlstelle",
        address_lines=(
            "Rathaus Rheydt, Markt 11 (Eingang Harmoniestraße)",
            "41236 Mönchengladbach",
        ),
    )

    lines = _return_address_lines(receipt_context)

    assert len(lines) > 1  # wrapped
    assert all(text <= available + 0.01 for text, available in lines), lines
    first_page = reader(_receipt(receipt_context)).pages[0].extract_text()
    assert "(Eingang Harmoniestraße) · 41236 Mönchengladbach" in " ".join(first_page.split())


def test_a_short_return_address_stays_on_one_line(receipt_context: dict[str, Any]) -> None:
    assert len(_return_address_lines(receipt_context)) == 1


def _return_address_lines(context: dict[str, Any]) -> list[tuple[float, float]]:
    """(width of the text, width available) per line of the laid-out return address."""
    from weasyprint import HTML
    from weasyprint.formatting_structure.boxes import LineBox

    from rathaus.documents.rendering import _toolkit_for_thread, render_html

    html = render_html(
        template="documents_test/receipt.html",
        context=context,
        language="de",
        title="Eingangsbestätigung",
        author="Stadt",
    )
    toolkit = _toolkit_for_thread()
    document = HTML(string=html, url_fetcher=toolkit.fetcher).render(
        stylesheets=toolkit.stylesheets, font_config=toolkit.font_config
    )

    def walk(box: Any) -> Any:
        box = getattr(box, "_box", box)  # absolutely positioned boxes sit in a placeholder
        yield box
        for child in getattr(box, "children", ()):
            yield from walk(child)

    for box in walk(document.pages[0]._page_box):
        element = getattr(box, "element", None)
        if element is not None and "return-address" in (element.get("class") or "").split():
            if isinstance(box, LineBox):
                continue
            lines = [line for line in walk(box) if isinstance(line, LineBox)]
            mm = 96 / 25.4  # WeasyPrint lays out in CSS pixels
            zone_top = 45 * mm  # DIN 5008 form B: the address field starts 45 mm from the edge
            # the text ends at the foot of the 17.7 mm zone, right above the recipient's name
            foot = lines[-1].position_y + lines[-1].height
            assert abs(foot - (zone_top + 17.7 * mm)) < 1.5, "not at the foot of the zone"
            assert lines[0].position_y >= zone_top, "above the zone"
            return [(sum(child.width for child in line.children), box.width) for line in lines]
    raise AssertionError("no return address on the first page")
