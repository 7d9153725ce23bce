"""The verification mark: QR code of the URL and the short code."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from rathaus.documents.verification import QR_BORDER, Verification, qr_matrix, qr_png


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
