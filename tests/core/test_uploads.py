"""Every upload is checked by size, by its content's type and by a real clamd."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.utils import translation
from PIL import Image

from rathaus.core.scanning import ClamdScanner, ScanResult
from rathaus.core.uploads import UploadPolicy, check_upload
from tests.fixtures.clamd import EICAR

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, kind)
    return out.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")


class CleanScanner:
    def scan(self, data: bytes) -> ScanResult:
        return ScanResult(clean=True)


@pytest.fixture
def clamd(clamd_address: str) -> ClamdScanner:
    return ClamdScanner(clamd_address)


def test_pdf_and_png_are_accepted_by_content(clamd: ClamdScanner) -> None:
    assert check_upload(name="a.pdf", data=PDF, scanner=clamd).content_type == "application/pdf"
    verdict = check_upload(name="photo.png", data=PNG, scanner=clamd)
    assert verdict.accepted
    assert verdict.content_type == "image/png"


def test_eicar_is_refused_as_malware(clamd: ClamdScanner) -> None:
    # Inside a PDF wrapper so that the type check passes and the scanner decides.
    verdict = check_upload(name="x.pdf", data=EICAR, scanner=clamd, policy=_any_type())
    assert not verdict.accepted
    assert verdict.reason == "infected"
    assert "Rathaus.Test.EICAR" in verdict.message


def _any_type() -> UploadPolicy:
    return UploadPolicy(allowed_types={"": "any", "application/pdf": "PDF"})


def test_executable_renamed_pdf_is_refused_by_type() -> None:
    verdict = check_upload(name="invoice.pdf", data=ELF, scanner=CleanScanner())
    assert (verdict.accepted, verdict.reason) == (False, "type_not_allowed")
    assert "PDF, JPEG, PNG" in verdict.message


def test_svg_with_script_is_refused() -> None:
    verdict = check_upload(name="logo.svg", data=SVG, scanner=CleanScanner())
    assert (verdict.accepted, verdict.reason) == (False, "type_not_allowed")


def test_file_over_the_limit_is_refused_before_scanning() -> None:
    verdict = check_upload(
        name="big.pdf",
        data=PDF + b"0" * 2048,
        policy=UploadPolicy(max_file_bytes=1024),
        scanner=CleanScanner(),
    )
    assert (verdict.accepted, verdict.reason) == (False, "too_large")


def test_empty_file_is_refused_with_a_german_message() -> None:
    with translation.override("de"):
        verdict = check_upload(name="leer.pdf", data=b"", scanner=CleanScanner())
    assert verdict.reason == "empty"
    assert verdict.message.startswith("Die Datei ist leer.")


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:9",  # nobody listening
        "tcp://127.0.0.1:99999",  # no port at all: a mistyped CLAMD_ADDRESS
        "tcp://[::1",  # unparsable
        "unix:///nonexistent/clamd.sock",
        "udp://127.0.0.1:3310",
    ],
)
def test_unreachable_scanner_never_lets_a_file_through(address: str) -> None:
    verdict = check_upload(name="a.pdf", data=PDF, scanner=ClamdScanner(address))
    assert (verdict.accepted, verdict.reason) == (False, "scan_unavailable")


def test_a_pdf_named_as_a_program_is_kept_with_the_pdf_ending() -> None:
    """Filed as "Nachweis.bat", a PDF would open as a program on the clerk's computer: it is kept
    as "Nachweis.bat.pdf", which opens as what it is and still shows the citizen's name."""
    verdict = check_upload(name="Nachweis.bat", data=PDF, scanner=CleanScanner())
    assert (verdict.accepted, verdict.name, verdict.data) == (True, "Nachweis.bat.pdf", PDF)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("scan.PDF", PDF),
        ("foto.jpg", JPEG),
        ("foto.JPEG", JPEG),
        ("foto.jfif", JPEG),
        ("bild.png", PNG),
    ],
    ids=["upper-case", "jpg", "jpeg-upper-case", "jfif", "png"],
)
def test_a_name_that_fits_the_content_is_kept(name: str, data: bytes) -> None:
    verdict = check_upload(name=name, data=data, scanner=CleanScanner())
    assert (verdict.accepted, verdict.name, verdict.data) == (True, name, data)


@pytest.mark.parametrize(
    ("name", "data", "kept"),
    [
        ("foto.png", JPEG, "foto.jpg"),
        ("bild.JPG", PNG, "bild.png"),
        ("scan.pdf.exe", PDF, "scan.pdf.exe.pdf"),
        ("scan", PDF, "scan.pdf"),
        ("scan.pdf.", PDF, "scan.pdf"),
        ("Bescheinigung 2026.docx", PDF, "Bescheinigung 2026.docx.pdf"),
        ("C:\\Users\\erika\\scan.jpg", PNG, "scan.png"),
        ("", PDF, "Datei.pdf"),
        ("a" * 300 + ".bat", PDF, "a" * 251 + ".pdf"),
        ("a" * 260 + ".pdf", PDF, "a" * 251 + ".pdf"),
    ],
    ids=[
        "jpeg-as-png",
        "png-as-jpg",
        "pdf-as-exe",
        "no-ending",
        "trailing-dot",
        "office-ending",
        "windows-path",
        "no-name",
        "long-name",
        "long-fitting-name",
    ],
)
def test_a_name_that_does_not_fit_the_content_is_given_its_ending(
    name: str, data: bytes, kept: str
) -> None:
    verdict = check_upload(name=name, data=data, scanner=CleanScanner())
    assert (verdict.accepted, verdict.name) == (True, kept)
    assert len(verdict.name) <= 255


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("nachweis.pdf", b"%PDF"),  # the magic bytes only
        ("nachweis.pdf", b"%PDF-1.4\r\n@echo off\r\nstart calc.exe\r\n"),
        ("nachweis.pdf", PDF[: len(PDF) // 2]),  # cut off in transfer
        ("bild.png", PNG[:-12]),  # no IEND
        ("bild.png", PNG[:8] + PNG[33:]),  # no IHDR first
        ("bild.png", PNG[:33] + b"\x7f\xff\xff\xffIDAT" + PNG[41:]),  # a chunk runs off
        ("foto.jpg", JPEG[: len(JPEG) // 2]),
        ("foto.jpg", JPEG[:-2]),  # no EOI
        ("foto.jpg", b"\xff\xd8\xff\xd9"),  # SOI, EOI and nothing between: ends at once
        ("foto.jpg", b"\xff\xd8\xff\xe0\x00"),  # a segment cut in its length
    ],
    ids=[
        "magic-only",
        "batch-polyglot",
        "truncated-pdf",
        "no-iend",
        "no-ihdr",
        "png-chunk-too-long",
        "truncated-jpeg",
        "jpeg-without-eoi",
        "jpeg-empty",
        "jpeg-cut-length",
    ],
)
def test_a_damaged_or_glued_file_is_refused(name: str, data: bytes) -> None:
    with translation.override("de"):
        verdict = check_upload(name=name, data=data, scanner=CleanScanner())
    assert (verdict.accepted, verdict.reason) == (False, "damaged")
    assert verdict.message.startswith("Diese Datei ist beschädigt oder unvollständig")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("scan.jpg", JPEG + b"\0" * 300),  # scanners pad to a block
        ("scan.jpg", JPEG + b"\r\n"),
        ("scan.png", PNG + b"\0" * 16),
        ("scan.pdf", PDF + b"\r\n\0\0"),
        ("scan.pdf", PDF.replace(b"%%EOF\n", b"%%EOF")),
        ("scan.pdf", b"%PDF-1.7\n1 0 obj<<>>endobj\nstartxref\n9\n%%EOF\r\n"),
    ],
    ids=[
        "jpeg-nulls",
        "jpeg-newline",
        "png-nulls",
        "pdf-padding",
        "pdf-no-newline",
        "pdf-startxref",
    ],
)
def test_what_real_scanners_leave_after_the_end_is_accepted(name: str, data: bytes) -> None:
    """Padding is kept as sent: the SHA-256 on the receipt is that of the citizen's file."""
    verdict = check_upload(name=name, data=data, scanner=CleanScanner())
    assert (verdict.accepted, verdict.data) == (True, data)


def _with_thumbnail(jpeg: bytes) -> bytes:
    """``jpeg`` with an EXIF segment holding a thumbnail with its own EOI, as cameras write."""
    thumbnail = _image("JPEG")
    exif = b"Exif\x00\x00" + thumbnail
    return jpeg[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + jpeg[2:]


def _photo(**options: Any) -> bytes:
    """A real photo's entropy-coded data: noise has many FF bytes stuffed with 00."""
    noise = Image.frombytes("RGB", (64, 48), bytes(range(256)) * 36)
    out = io.BytesIO()
    noise.save(out, "JPEG", **options)
    return out.getvalue()


#: What a phone's "motion photo" puts behind the JPEG: an MP4 with its video (ISO/IEC 14496-12).
MP4 = (
    b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08mdat" + b"\xff\xd9" * 8
)


@pytest.mark.parametrize(
    "photo",
    [
        _with_thumbnail(_photo()),
        _photo(progressive=True),
        _photo(restart_marker_blocks=2),
    ],
    ids=["exif-thumbnail", "progressive", "restart-markers"],
)
def test_a_motion_photo_is_kept_without_its_video(photo: bytes) -> None:
    """The photo is kept, what was glued behind its end is cut off: the clerk gets the picture,
    and nothing hidden behind it is filed."""
    verdict = check_upload(name="PXL_20261124.MP.jpg", data=photo + MP4, scanner=CleanScanner())
    assert verdict.accepted
    assert (verdict.name, verdict.data, verdict.size) == ("PXL_20261124.MP.jpg", photo, len(photo))
    Image.open(io.BytesIO(verdict.data)).load()  # still a whole picture


@pytest.mark.parametrize(
    ("name", "data", "kept"),
    [
        ("foto.jpg", JPEG + b"@echo off\r\nstart calc.exe\r\n", JPEG),
        ("bild.png", PNG + b"PK\x03\x04" + b"\x00" * 26, PNG),
    ],
    ids=["jpeg-with-batch", "png-with-zip"],
)
def test_what_is_glued_behind_an_image_is_cut_off(name: str, data: bytes, kept: bytes) -> None:
    verdict = check_upload(name=name, data=data, scanner=CleanScanner())
    assert (verdict.accepted, verdict.data) == (True, kept)


def test_a_rendered_pdf_is_accepted() -> None:
    from pypdf import PdfWriter

    out = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.write(out)
    assert check_upload(name="brief.pdf", data=out.getvalue(), scanner=CleanScanner()).accepted
