"""Every upload is checked by size, by its content's type and by a real clamd."""

from __future__ import annotations

import pytest
from django.utils import translation

from rathaus.core.scanning import ClamdScanner, ScanResult
from rathaus.core.uploads import UploadPolicy, check_upload
from tests.fixtures.clamd import EICAR

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\0" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


class CleanScanner:
    def scan(self, data: bytes) -> ScanResult:
        return ScanResult(clean=True)


@pytest.fixture
def clamd(clamd_address: str) -> ClamdScanner:
    return ClamdScanner(clamd_address)


def test_pdf_and_png_are_accepted_by_content(clamd: ClamdScanner) -> None:
    assert check_upload(name="a.pdf", data=PDF, scanner=clamd).content_type == "application/pdf"
    verdict = check_upload(name="photo.pdf", data=PNG, scanner=clamd)
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
