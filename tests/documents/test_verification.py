"""The verification mark: QR code of the URL and the short code."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import qrcode
import qrcode.util
from PIL import Image

from rathaus.documents.verification import (
    QR_BORDER,
    QR_ERROR_CORRECTION,
    Verification,
    mask_penalties,
    qr_matrix,
    qr_png,
)

# Lengths that give QR versions 1 to 10 (versions from 7 on carry version information).
URLS = [
    "https://x.de/p/1",
    "https://portal.example.de/pruefen/7KQ4M-2XH9P",
    "http://127.0.0.1/pruefen/HGWGA-19VJ4",
    "https://portal.example.de/pruefen/" + "A1b2-" * 12,
    "https://portal.example.de/pruefen/" + "Z9y8-" * 30,
]


def _qrcode_reference(data: str) -> list[list[bool]]:
    """The matrix exactly as the qrcode library makes it, trying all eight masks itself."""
    code = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, border=QR_BORDER)
    code.add_data(data)
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


@pytest.mark.parametrize("url", URLS)
def test_qr_code_is_the_one_qrcode_makes_with_its_best_mask(url: str) -> None:
    assert qr_matrix(url) == _qrcode_reference(url)


@pytest.mark.parametrize("url", URLS)
def test_mask_penalties_are_those_of_qrcode(url: str) -> None:
    code = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION)
    code.add_data(url)
    code.best_fit()
    symbols, expected = [], []
    for mask in range(8):
        code.makeImpl(True, mask)
        symbols.append([[bool(module) for module in row] for row in code.modules])
        expected.append(qrcode.util.lost_point(code.modules))

    assert mask_penalties(np.array(symbols, dtype=bool)) == expected


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (Debian zbar-tools) missing")
def test_qr_png_is_read_back_by_a_scanner(tmp_path: Path) -> None:
    url = "https://portal.example.de/pruefen/7KQ4M-2XH9P"
    image = Image.open(io.BytesIO(qr_png(url)))
    path = tmp_path / "qr.png"
    # 8 pixels per module, as a scanner sees the 25 mm print
    image.resize((image.width * 8, image.height * 8), Image.Resampling.NEAREST).save(path)

    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == url


def test_qr_png_has_one_pixel_per_module_and_a_quiet_zone() -> None:
    url = "https://portal.example.de/pruefen/abc"
    matrix = qr_matrix(url)

    image = Image.open(io.BytesIO(qr_png(url))).convert("L")

    assert image.size == (len(matrix), len(matrix))
    assert all(not any(row) for row in matrix[:QR_BORDER])
    pixels = image.load()
    assert [[pixels[x, y] < 128 for x in range(image.width)] for y in range(image.height)] == (
        matrix
    )


def test_verification_data_uri_is_a_png() -> None:
    verification = Verification(url="https://portal.example.de/pruefen/abc", short_code="AB12")

    assert verification.qr_data_uri.startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("url", "code"),
    [("/pruefen/abc", "AB12"), ("javascript:alert(1)", "AB12"), ("https://x.de/p", "  ")],
)
def test_verification_needs_an_absolute_url_and_a_code(url: str, code: str) -> None:
    with pytest.raises(ValueError):
        Verification(url=url, short_code=code)
