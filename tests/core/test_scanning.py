"""clamd scans only so much: no file larger than ``CLAMD_MAX_BYTES`` is sent to it, and a file
it could not scan completely is not clean. Against a real clamd on a unix socket (as Debian's
package listens) whose limits are ``SMALL_MAX_BYTES``, with ``CLAMD_MAX_BYTES`` set to match."""

from __future__ import annotations

import socket
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from rathaus.applications.uploads import ScanningInspector
from rathaus.core.scanning import ClamdScanner, ScanResult, TooLargeToScan
from rathaus.core.uploads import UploadPolicy, check_upload
from rathaus.forms.schema import Field
from tests.fixtures.clamd import EICAR, SMALL_MAX_BYTES, clamd_socket  # noqa: F401

HEAD = b"%PDF-1.4\n"
TAIL = b"\ntrailer<<>>\n%%EOF\n"


def _pdf(size: int, *, ending: bytes = b"") -> bytes:
    """A PDF of ``size`` bytes whose last bytes before the trailer are ``ending``."""
    return HEAD + b"0" * (size - len(HEAD) - len(ending) - len(TAIL)) + ending + TAIL


def _packed_pdf(unpacked: bytes) -> bytes:
    """A small PDF with one compressed stream that unpacks to ``unpacked``."""
    body = zlib.compress(unpacked)
    stream = b"1 0 obj<</Length %d/Filter/FlateDecode>>stream\n" % len(body)
    return HEAD + stream + body + b"\nendstream endobj" + TAIL


@pytest.fixture
def small_limits(settings: Any, clamd_socket: str) -> str:  # noqa: F811
    settings.CLAMD_ADDRESS = clamd_socket
    settings.CLAMD_MAX_BYTES = SMALL_MAX_BYTES
    return clamd_socket


@pytest.fixture
def listener(settings: Any) -> Iterator[socket.socket]:
    """A socket at ``CLAMD_ADDRESS`` that nobody answers: a connection attempt would wait in
    its backlog."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        settings.CLAMD_ADDRESS = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        yield server


def _contacted(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def test_a_file_over_clamd_max_bytes_is_refused_without_contacting_clamd(
    settings: Any, listener: socket.socket
) -> None:
    """The form field allows 60 MB, clamd takes 1 MB: the smaller limit is the file's, and the
    citizen is told it as any size limit, beside the field."""
    settings.CLAMD_MAX_BYTES = SMALL_MAX_BYTES
    data = _pdf(SMALL_MAX_BYTES + 1, ending=EICAR)
    with translation.override("de"):
        verdict = check_upload(
            name="scan.pdf", data=data, policy=UploadPolicy(max_file_bytes=60 * 1024 * 1024)
        )
        field = Field(id="nachweis", type="file", label="Nachweis", max_size_mb=60)
        upload = SimpleUploadedFile("scan.pdf", data, "application/pdf")
        beside_the_field = ScanningInspector().inspect(upload, field=field)
    assert (verdict.accepted, verdict.reason) == (False, "too_large")
    assert (
        verdict.message
        == "Die Datei ist größer als 1 MB. Bitte laden Sie eine kleinere Datei hoch."
    )
    assert beside_the_field == verdict.message
    with pytest.raises(TooLargeToScan):
        ClamdScanner().scan(data)
    assert not _contacted(listener)


def test_an_eicar_file_of_clamd_max_bytes_is_found(small_limits: str) -> None:
    """At the limit the whole file is scanned: EICAR in its last bytes is found."""
    data = _pdf(SMALL_MAX_BYTES, ending=EICAR)
    assert len(data) == SMALL_MAX_BYTES
    verdict = check_upload(name="scan.pdf", data=data)
    assert (verdict.accepted, verdict.reason) == (False, "infected")
    assert "Rathaus.Test.EICAR" in verdict.message


def test_a_clean_file_is_accepted_over_a_unix_socket(small_limits: str) -> None:
    assert small_limits.startswith("unix:///")
    assert check_upload(name="scan.pdf", data=_pdf(SMALL_MAX_BYTES)).accepted


def test_a_file_clamd_could_not_scan_completely_is_not_clean(small_limits: str) -> None:
    """A small PDF whose stream unpacks beyond clamd's MaxScanSize, with EICAR past the limit:
    clamd (AlertExceedsMax yes) answers a limits heuristic, which refuses the file, and the
    citizen is not told it holds malware."""
    data = _packed_pdf(b"0" * 2 * SMALL_MAX_BYTES + EICAR)
    assert len(data) < SMALL_MAX_BYTES // 100
    result = ClamdScanner().scan(data)
    assert not result.clean
    assert result.limits_exceeded
    assert result.signature.startswith("Heuristics.Limits.Exceeded.")
    with translation.override("de"):
        verdict = check_upload(name="scan.pdf", data=data)
    assert (verdict.accepted, verdict.reason) == (False, "scan_incomplete")
    assert "Schadsoftware" not in verdict.message
    assert verdict.message.startswith(
        "Diese Datei konnte nicht vollständig auf Viren geprüft werden"
    )


@pytest.mark.parametrize(
    ("result", "limits_exceeded"),
    [
        (ScanResult(clean=False, signature="Heuristics.Limits.Exceeded.MaxFileSize"), True),
        (ScanResult(clean=False, signature="Heuristics.Limits.Exceeded"), True),
        (ScanResult(clean=False, signature="Rathaus.Test.EICAR.UNOFFICIAL"), False),
        (ScanResult(clean=True), False),
    ],
)
def test_a_limits_heuristic_is_told_from_malware(result: ScanResult, limits_exceeded: bool) -> None:
    assert result.limits_exceeded is limits_exceeded


def test_a_clamd_that_takes_less_than_clamd_max_bytes_is_named_in_the_log(
    settings: Any, small_limits: str, caplog: pytest.LogCaptureFixture
) -> None:
    """CLAMD_MAX_BYTES above clamd's StreamMaxLength (a misconfiguration): the file is refused
    as the scanner being unavailable, and the log says which limit to raise."""
    settings.CLAMD_MAX_BYTES = 2 * SMALL_MAX_BYTES
    verdict = check_upload(name="scan.pdf", data=_pdf(SMALL_MAX_BYTES + SMALL_MAX_BYTES // 2))
    assert (verdict.accepted, verdict.reason) == (False, "scan_unavailable")
    (logged,) = [r for r in caplog.records if r.getMessage() == "virus scanner unavailable"]
    assert "StreamMaxLength is below CLAMD_MAX_BYTES" in logged.error
