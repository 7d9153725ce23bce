"""Checks every uploaded file before it is stored: size, type by content, and a virus scan.

Applications, replies in the mailbox and documents requested by a clerk all go through
:func:`check_upload`, so a file is judged the same way wherever it arrives. The type is sniffed
from the bytes (``filetype``), never taken from the name or the browser's claim. The file must be
whole (a minimal structure check), not a few magic bytes in front of something else. What is
kept (``UploadVerdict.name`` and ``.data``) is the file as a clerk may safely open it: its name
ends as its content's type does, and whatever was glued behind an image (a phone's "motion
photo" video) is cut off.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from pathlib import PurePosixPath
from typing import Any

import filetype
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from rathaus.core.scanning import ScannerUnavailable, TooLargeToScan, VirusScanner, get_scanner

logger = logging.getLogger(__name__)

# Evidence citizens send: documents and photos. No SVG, HTML, Office macros or archives.
DEFAULT_ALLOWED_TYPES: dict[str, str] = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
}
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024

#: The endings a file's name may have for the type of its content, the first one given to a name
#: that has none of them. The name is kept (E-Akte, Postfach) and a clerk's computer opens the
#: file by it: a PDF named "Nachweis.bat" whose first lines are a batch script would run as a
#: program, so it is kept as "Nachweis.bat.pdf".
NAME_ENDINGS: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
}

#: What scanners and mail programs leave after a file's end: padding to a block, a line break.
_PADDING = b" \t\r\n\x00"
#: ISO 32000-1, 7.5.5: a PDF's last line is ``%%EOF``, after ``startxref`` (and, before PDF 1.5
#: cross-reference streams, ``trailer``); readers look for it in the last 1024 bytes (PDF
#: Reference 1.7, appendix H, the implementation note on section 3.4.4).
_PDF_TAIL = 1024
_PNG_IHDR = b"\x00\x00\x00\x0dIHDR"  # the first chunk (PNG, ISO/IEC 15948, 11.2.2)
#: The longest name kept (the attachment's and the message's name columns).
MAX_NAME_CHARS = 255


@dataclass(frozen=True)
class UploadPolicy:
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    allowed_types: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ALLOWED_TYPES))


@dataclass(frozen=True)
class UploadVerdict:
    """The outcome; ``reason`` is a stable code, ``message`` the text for the citizen."""

    accepted: bool
    reason: str = ""
    message: str = ""
    content_type: str = ""
    size: int = 0
    #: An accepted file as it is to be kept: its name ending as its type does, and its bytes
    #: without what was glued behind an image (see :func:`kept_file`).
    name: str = ""
    data: bytes = b""


def sniff_type(data: bytes) -> str:
    """The media type of ``data`` by its content ("" if unknown), never by a name or a browser's
    claim: this is the type to store and to serve a file with."""
    kind = filetype.guess(data)
    return kind.mime if kind is not None else ""


def fitting_name(name: str, content_type: str) -> str:
    """``name`` ending as files of ``content_type`` do (``NAME_ENDINGS``), at most
    ``MAX_NAME_CHARS`` long: a fitting ending (any case) is kept; an ending of another allowed
    type is replaced ("bild.jpg" with PNG content: "bild.png"); any other ending stays and the
    type's is added ("Nachweis.bat": "Nachweis.bat.pdf"), so that the name still tells what the
    citizen called the file but opens only as what it is. A Windows path is cut to its file name
    (Django does this for uploads; a mailbox reply's name comes as sent)."""
    base = PurePosixPath(name.replace("\\", "/")).name.rstrip(". ") or "Datei"
    endings = NAME_ENDINGS.get(content_type)
    if endings is None:  # a type a policy allows beyond the usual three: no rule for its name
        return base[:MAX_NAME_CHARS]
    stem, dot, ending = base.rpartition(".")
    if base.lower().endswith(endings):
        stem, ending = base[: -len(f".{ending}")], f".{ending}"
    elif dot and stem and f".{ending.lower()}" in _KNOWN_ENDINGS:
        ending = endings[0]
    else:
        stem, ending = base, endings[0]
    return stem[: MAX_NAME_CHARS - len(ending)] + ending


_KNOWN_ENDINGS = frozenset(ending for endings in NAME_ENDINGS.values() for ending in endings)


def _pdf_end(data: bytes) -> int | None:
    """Where a PDF ends: ISO 32000-1, 7.5.5, its last line is ``%%EOF`` after ``startxref`` (or,
    before PDF 1.5 cross-reference streams, ``trailer``), in its last 1024 bytes. Anything but
    padding after the tail stays part of the file: a PDF is never cut (incremental updates)."""
    end = len(data.rstrip(_PADDING))
    tail = data[max(0, end - _PDF_TAIL) : end]
    if b"%%EOF" in tail and (b"startxref" in tail or b"trailer" in tail):
        return len(data)
    return None


def _png_end(data: bytes) -> int | None:
    """Where a PNG ends: after its IEND chunk, walking the chunks from IHDR (ISO/IEC 15948, 5.3:
    length, type, data, CRC); ``None`` if the chunks do not lead there or hold no image data."""
    if data[8:16] != _PNG_IHDR:
        return None
    at = 8
    pixels = False
    while at + 12 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        at += 12 + length
        pixels = pixels or kind == b"IDAT"
        if kind == b"IEND":
            return at if pixels and length == 0 and at <= len(data) else None
    return None


def _jpeg_end(data: bytes) -> int | None:
    """Where a JPEG ends: after the EOI marker (``FF D9``) reached by walking its segments from
    SOI, across the entropy-coded data after each SOS (ITU-T T.81, B.1.1.2 and F.1.2.3: there a
    ``FF`` is followed by ``00`` or a restart marker). A thumbnail inside the EXIF data has its
    own EOI; walking the segments skips it. ``None`` if the walk does not reach an EOI after image
    data."""
    if not data.startswith(b"\xff\xd8"):
        return None
    size = len(data)
    at = 2
    scanned = False
    while at < size:
        at = data.find(b"\xff", at)  # libjpeg too skips stray bytes before a marker
        if at < 0:
            return None
        while at < size and data[at] == 0xFF:  # fill bytes (B.1.1.2)
            at += 1
        if at >= size:
            return None
        marker = data[at]
        at += 1
        if marker == 0xD9:
            return at if scanned else None
        if marker == 0x01 or 0xD0 <= marker <= 0xD7 or marker == 0x00:
            continue  # markers without a length
        if at + 2 > size:
            return None
        length = int.from_bytes(data[at : at + 2], "big")
        if length < 2:
            return None
        at += length
        if marker == 0xDA:  # entropy-coded data until the next marker
            scanned = True
            while True:
                at = data.find(b"\xff", at)
                if at < 0 or at + 1 >= size:
                    return None
                following = data[at + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    at += 2
                    continue
                break
    return None


_ENDS: dict[str, Callable[[bytes], int | None]] = {
    "application/pdf": _pdf_end,
    "image/png": _png_end,
    "image/jpeg": _jpeg_end,
}


def _whole(content_type: str, data: bytes) -> bytes | None:
    """The file as it is kept if it is whole, else ``None``: a file cut off in transfer, or a few
    magic bytes in front of something else, is no PDF or image. Spaces, line breaks and NUL bytes
    after the end, as scanners leave them, stay; anything else behind an image's end (the video
    of a "motion photo", or something hidden there) is cut off."""
    find_end = _ENDS.get(content_type)
    if find_end is None:
        return data
    end = find_end(data)
    if end is None:
        return None
    if not data[end:].strip(_PADDING):
        return data
    return data[:end]


def kept_file(*, name: str, data: bytes) -> tuple[str, bytes] | None:
    """The name and bytes to keep of a file :func:`check_upload` accepted (``None`` if it is not
    whole): what a service stores, e.g. when it stores the upload itself rather than the
    verdict's copy."""
    content_type = sniff_type(data)
    whole = _whole(content_type, data)
    if whole is None:
        return None
    return fitting_name(name, content_type), whole


def _format_mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def check_upload(
    *,
    name: str,
    data: bytes,
    policy: UploadPolicy | None = None,
    scanner: VirusScanner | None = None,
) -> UploadVerdict:
    """Accept or refuse one file, with the reason in German or English (the active language).

    Size and type first; then the virus scan (of the file as sent), so that malware is reported
    (and logged) as such whatever else is wrong with the file; then whether the file is whole.
    An accepted verdict carries the name and bytes to keep (:func:`kept_file`)."""
    policy = policy or UploadPolicy()
    size = len(data)
    if size == 0:
        return UploadVerdict(False, "empty", str(_("The file is empty. Please choose another.")))
    if size > policy.max_file_bytes:
        return UploadVerdict(
            False,
            "too_large",
            str(
                _("The file is larger than %(limit)s MB. Please upload a smaller file.")
                % {"limit": _format_mb(policy.max_file_bytes)}
            ),
            size=size,
        )
    content_type = sniff_type(data)
    if content_type not in policy.allowed_types:
        allowed = ", ".join(policy.allowed_types.values())
        logger.info("upload refused by type", extra={"upload_name": name, "sniffed": content_type})
        return UploadVerdict(
            False,
            "type_not_allowed",
            str(
                _(
                    "The content of this file is not an allowed document type "
                    "(allowed: %(allowed)s)."
                )
                % {"allowed": allowed}
            ),
            content_type=content_type,
            size=size,
        )
    try:
        result = (scanner or get_scanner()).scan(data)
    except TooLargeToScan as exc:
        # the scanner's limit (CLAMD_MAX_BYTES) is the file's when it is the smaller one
        logger.warning(
            "upload refused: larger than the virus scanner takes",
            extra={"upload_name": name, "size": size, "limit": exc.limit},
        )
        return UploadVerdict(
            False,
            "too_large",
            str(
                _("The file is larger than %(limit)s MB. Please upload a smaller file.")
                % {"limit": _format_mb(exc.limit)}
            ),
            content_type=content_type,
            size=size,
        )
    except ScannerUnavailable as exc:
        logger.error("virus scanner unavailable", extra={"error": str(exc)})
        return UploadVerdict(
            False,
            "scan_unavailable",
            str(_("The file could not be checked for viruses right now. Please try again later.")),
            content_type=content_type,
            size=size,
        )
    if result.limits_exceeded:  # clamd could not scan all of it (AlertExceedsMax)
        logger.warning(
            "upload refused: not scanned completely",
            extra={"upload_name": name, "signature": result.signature},
        )
        return UploadVerdict(
            False,
            "scan_incomplete",
            str(
                _(
                    "This file could not be checked completely for viruses: its content is too "
                    "large to check. Please upload the document in several smaller files or "
                    "scan it at a lower resolution."
                )
            ),
            content_type=content_type,
            size=size,
        )
    if not result.clean:
        logger.warning(
            "upload refused: malware", extra={"upload_name": name, "signature": result.signature}
        )
        return UploadVerdict(
            False,
            "infected",
            str(
                _("The file contains malware (%(signature)s) and was refused.")
                % {"signature": result.signature}
            ),
            content_type=content_type,
            size=size,
        )
    kind = policy.allowed_types.get(content_type) or content_type
    whole = _whole(content_type, data)
    if whole is None:
        logger.info(
            "upload refused as damaged", extra={"upload_name": name, "sniffed": content_type}
        )
        return UploadVerdict(
            False,
            "damaged",
            str(
                _(
                    "This file is damaged or incomplete: it is not a complete %(type)s file. "
                    "Please save or scan the document again and upload the new file."
                )
                % {"type": kind}
            ),
            content_type=content_type,
            size=size,
        )
    kept_name = fitting_name(name, content_type)
    if kept_name != PurePosixPath(name.replace("\\", "/")).name or len(whole) != size:
        logger.info(
            "upload kept changed",
            extra={
                "upload_name": name,
                "kept_name": kept_name,
                "sniffed": content_type,
                "cut_bytes": size - len(whole),
            },
        )
    return UploadVerdict(
        True, content_type=content_type, size=len(whole), name=kept_name, data=whole
    )


class UploadSizeLimit(FileUploadHandler):
    """First upload handler of a request: counts the bytes of all its files and stops the upload
    once they pass ``limit``, before the rest is written anywhere (the other handlers never see
    it). Install it before the body is read (``request.upload_handlers = [limit, *…]``) and check
    ``exceeded`` after."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # connection_reset=False: Django reads and discards the rest, so the client still
            # gets the answer; nothing more is stored.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class OversizedUpload(UploadedFile):
    """Stands in for a file that :class:`FileSizeCap` did not let through: its name and real
    ``size``, no content. A form's size check refuses it with the usual message."""

    def __init__(self, *, name: str, size: int, content_type: str | None) -> None:
        super().__init__(
            file=io.BytesIO(), name=name, content_type=content_type or "", size=size, charset=None
        )


class FileSizeCap(FileUploadHandler):
    """First upload handler of a request: passes each file on up to ``limit`` bytes only.

    A larger file is not written anywhere beyond that (the handlers after this one stop
    receiving it) and reaches the form as an :class:`OversizedUpload` with its real size, so
    the form names the file that was too large. Unlike :class:`UploadSizeLimit` the rest of the
    request is read as usual: nothing else the person typed is lost. Install it before the body
    is read (``request.upload_handlers = [cap, *…]``; CSRF checked after, ``csrf_protect``)."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        return raw_data if self.received <= self.limit else None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received <= self.limit:
            return None  # the next handler (memory or temporary file) has all of it
        name = str(self.file_name or "")
        return OversizedUpload(name=name, size=self.received, content_type=self.content_type)


View = Callable[..., HttpResponse]


def file_size_cap(limit: int) -> Callable[[View], View]:
    """View decorator: every file of a POST is kept only up to ``limit`` bytes
    (:class:`FileSizeCap`); the view refuses an :class:`OversizedUpload` by its ``size``.

    The cap must be in place before anything reads the body, and Django's CSRF middleware reads
    it: the view is exempt from the middleware's check and checks CSRF itself, after the cap.
    """

    def decorate(view: View) -> View:
        protected = csrf_protect(view)

        @wraps(view)
        def capped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                request.upload_handlers = [FileSizeCap(request, limit), *request.upload_handlers]
            return protected(request, *args, **kwargs)

        return csrf_exempt(capped)

    return decorate
