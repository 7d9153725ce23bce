"""The verification mark printed on issued documents: a QR code and a short code beside it.

The QR code encodes the public verification URL (``/pruefen/…``, GovChain); people who cannot
scan it type the short code on the verification page. Both come from the caller (the ledger),
so this module only draws them.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from functools import cached_property

import qrcode
import qrcode.constants
from PIL import Image

# Quiet zone of four modules around the symbol (ISO/IEC 18004).
QR_BORDER = 4
QR_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code's modules (True = dark), including the quiet zone."""
    code = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, border=QR_BORDER)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_png(data: str) -> bytes:
    """A 1-bit PNG with one pixel per module; the stylesheet scales it up without smoothing."""
    matrix = qr_matrix(data)
    size = len(matrix)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def qr_data_uri(data: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(data)).decode("ascii")


@dataclass(frozen=True)
class Verification:
    """What a template prints as ``verification``: the URL, the short code and the QR code."""

    url: str
    short_code: str

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"The verification URL must be absolute, not {self.url!r}.")
        if not self.short_code.strip():
            raise ValueError("The verification short code must not be empty.")

    @cached_property
    def qr_data_uri(self) -> str:
        return qr_data_uri(self.url)
