"""Checks every uploaded file before it is stored: size, type by content, and a virus scan.

Applications, replies in the mailbox and documents requested by a clerk all go through
:func:`check_upload`, so a file is judged the same way wherever it arrives. The type is sniffed
from the bytes (``filetype``), never taken from the name or the browser's claim; the name must
still fit that type, as it is kept and a clerk opens the file by it, and the file must be whole
(a minimal structure check), not a few magic bytes in front of something else.
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

from rathaus.core.scanning import ScannerUnavailable, VirusScanner, get_scanner

logger = logging.getLogger(__name__)

# Evidence citizens send: documents and photos. No SVG, HTML, Office macros or archives.
DEFAULT_ALLOWED_TYPES: dict[str, str] = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
}
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024

#: The endings a file's name may have for the type of its content, the first one named in the
#: message. The name is kept (E-Akte, Postfach) and a clerk's computer opens the file by it: a
#: PDF named "Nachweis.bat" whose first lines are a batch script would run as a program.
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
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the last chunk, with its fixed CRC
_JPEG_EOI = b"\xff\xd9"  # the marker a JPEG ends with (ITU-T T.81, B.2.1)


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


def sniff_type(data: bytes) -> str:
    """The media type of ``data`` by its content ("" if unknown), never by a name or a browser's
    claim: this is the type to store and to serve a file with."""
    kind = filetype.guess(data)
    return kind.mime if kind is not None else ""


def _name_fits(name: str, content_type: str) -> bool:
    """The name ends as files of ``content_type`` do (any case; a Windows path is allowed)."""
    endings = NAME_ENDINGS.get(content_type)
    if endings is None:
        return True  # a type a policy allows beyond the usual three: no rule for its name
    return PurePosixPath(name.replace("\\", "/")).name.lower().endswith(endings)


def _complete(content_type: str, data: bytes) -> bool:
    """A minimal check that the file is whole and ends where its type ends: a file cut off in
    transfer, or a few magic bytes in front of something else, is no PDF or image."""
    end = data.rstrip(_PADDING)
    if content_type == "application/pdf":
        tail = end[-_PDF_TAIL:]
        return b"%%EOF" in tail and (b"startxref" in tail or b"trailer" in tail)
    if content_type == "image/png":
        return data[8:16] == _PNG_IHDR and end.endswith(_PNG_IEND)
    if content_type == "image/jpeg":
        return end.endswith(_JPEG_EOI)
    return True


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

    Size and type first; then the virus scan, so that malware is reported (and logged) as such
    whatever else is wrong with the file; then whether the name fits the content and the file is
    whole."""
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
    except ScannerUnavailable as exc:
        logger.error("virus scanner unavailable", extra={"error": str(exc)})
        return UploadVerdict(
            False,
            "scan_unavailable",
            str(_("The file could not be checked for viruses right now. Please try again later.")),
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
    if not _name_fits(name, content_type):
        logger.info("upload refused by name", extra={"upload_name": name, "sniffed": content_type})
        return UploadVerdict(
            False,
            "name_mismatch",
            str(
                _(
                    "The name of this file must end in “%(ending)s”, as its content is a "
                    "%(type)s file. Please rename the file and upload it again."
                )
                % {"ending": NAME_ENDINGS[content_type][0], "type": kind}
            ),
            content_type=content_type,
            size=size,
        )
    if not _complete(content_type, data):
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
    return UploadVerdict(True, content_type=content_type, size=size)


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
