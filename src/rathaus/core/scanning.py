"""Virus scanning of uploads through ClamAV's ``clamd`` (INSTREAM protocol over TCP or a socket).

Scanners are plugins behind :class:`VirusScanner`; ``settings.VIRUS_SCANNER`` picks one. The
default talks to ``clamd`` at ``settings.CLAMD_ADDRESS`` (``tcp://127.0.0.1:3310``, or Debian's
``unix:///var/run/clamav/clamd.ctl``). A scanner that cannot be reached never lets a file through.

clamd scans only so much: a stream longer than its ``StreamMaxLength`` is refused, and of a
file larger than ``MaxFileSize`` or ``MaxScanSize`` (also once unpacked: a compressed stream
in a PDF) it scans a part and answers ``OK`` for the rest, unless ``AlertExceedsMax yes`` makes
it answer ``Heuristics.Limits.Exceeded… FOUND``. So the scanner sends no file larger than
``settings.CLAMD_MAX_BYTES`` (default 25 MiB, Debian's limits), which clamd's limits must be
at least, and a limits heuristic counts as not clean (docs/operations.md, *ClamAV*).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

CHUNK = 64 * 1024
#: The most bytes sent to clamd unless ``settings.CLAMD_MAX_BYTES`` says otherwise: 25 MiB,
#: ``StreamMaxLength`` and ``MaxFileSize`` of Debian's ``/etc/clamav/clamd.conf``.
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
#: What clamd names a file it did not scan completely (``AlertExceedsMax yes``), followed by
#: the limit: ``.MaxFileSize``, ``.MaxScanSize``, ``.MaxFiles``, ``.MaxRecursion``, ….
LIMITS_EXCEEDED = "Heuristics.Limits.Exceeded"


class ScannerUnavailable(Exception):
    """The scanner could not be reached or gave no usable answer."""


class TooLargeToScan(ScannerUnavailable):
    """The file is larger than the scanner may be sent (``limit`` bytes): it was not sent.

    A :class:`ScannerUnavailable`, so that a caller that knows only that refuses the file too."""

    def __init__(self, *, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes is more than the {limit} bytes the scanner takes")
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str = ""

    @property
    def limits_exceeded(self) -> bool:
        """Not clean because the scanner could not scan all of the file (its limits), which
        says nothing about malware."""
        return not self.clean and self.signature.startswith(LIMITS_EXCEEDED)


class VirusScanner(Protocol):
    def scan(self, data: bytes) -> ScanResult:
        """The verdict on ``data``; raises :class:`ScannerUnavailable` (or
        :class:`TooLargeToScan`) when there is none."""
        ...


class ClamdScanner:
    """Streams the bytes to clamd and reads its verdict (``stream: OK`` or ``… FOUND``); any
    ``FOUND``, a limits heuristic too, is not clean. Sends nothing larger than ``max_bytes``
    (``settings.CLAMD_MAX_BYTES``): a larger file raises :class:`TooLargeToScan`."""

    def __init__(
        self, address: str | None = None, timeout: float = 30.0, max_bytes: int | None = None
    ) -> None:
        self.address: str = str(
            address or getattr(settings, "CLAMD_ADDRESS", "tcp://127.0.0.1:3310")
        )
        self.timeout = timeout
        self.max_bytes = int(
            max_bytes
            if max_bytes is not None
            else getattr(settings, "CLAMD_MAX_BYTES", DEFAULT_MAX_BYTES)
        )

    def _connect(self) -> socket.socket:
        try:
            parts = urlsplit(self.address)
            port = parts.port if parts.scheme == "tcp" else None  # ValueError: not a port
        except ValueError:
            parts, port = None, None
        try:
            if parts is not None and parts.scheme == "unix":
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(self.timeout)
                    sock.connect(parts.path)
                except OSError:
                    sock.close()
                    raise
                return sock
            if parts is not None and parts.scheme == "tcp" and parts.hostname and port:
                return socket.create_connection((parts.hostname, port), self.timeout)
        except OSError as exc:
            raise ScannerUnavailable(f"clamd at {self.address} is unreachable: {exc}") from exc
        raise ScannerUnavailable(
            f"CLAMD_ADDRESS {self.address!r} is not tcp://host:port or unix://"
        )

    def scan(self, data: bytes) -> ScanResult:
        if len(data) > self.max_bytes:  # clamd would refuse it, or scan only a part of it
            raise TooLargeToScan(size=len(data), limit=self.max_bytes)
        with self._connect() as sock:
            try:
                sock.sendall(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK):
                    chunk = data[start : start + CHUNK]
                    sock.sendall(struct.pack("!L", len(chunk)) + chunk)
                sock.sendall(struct.pack("!L", 0))
                reply = b""
                while not reply.endswith(b"\0"):
                    part = sock.recv(4096)
                    if not part:
                        break
                    reply += part
            except OSError as exc:
                # clamd answers a stream over its StreamMaxLength and hangs up before the end
                raise ScannerUnavailable(
                    f"clamd at {self.address} failed: {exc}{self._last_words(sock, len(data))}"
                ) from exc
        answer = reply.rstrip(b"\0").decode("utf-8", "replace")
        if "size limit exceeded" in answer:
            raise ScannerUnavailable(
                f"clamd refused {len(data)} bytes ({answer!r}): {self._limits_hint()}"
            )
        if answer.endswith(" OK"):
            return ScanResult(clean=True)
        if answer.endswith(" FOUND"):
            signature = answer.removeprefix("stream:").removesuffix(" FOUND").strip()
            return ScanResult(clean=False, signature=signature)
        raise ScannerUnavailable(f"clamd gave an unexpected answer: {answer!r}")

    def _limits_hint(self) -> str:
        return (
            f"its StreamMaxLength is below CLAMD_MAX_BYTES ({self.max_bytes} bytes); "
            "StreamMaxLength, MaxFileSize and MaxScanSize must be at least that"
        )

    def _last_words(self, sock: socket.socket, size: int) -> str:
        """What clamd said before it hung up, for the log ("" if nothing)."""
        try:
            sock.settimeout(1)
            said = sock.recv(4096).rstrip(b"\0").decode("utf-8", "replace")
        except OSError:
            return ""
        if "size limit exceeded" in said:
            return f" (refused {size} bytes: {said!r}; {self._limits_hint()})"
        return f" ({said!r})" if said else ""


def get_scanner() -> VirusScanner:
    """The scanner chosen by ``settings.VIRUS_SCANNER`` (a dotted path to a class)."""
    path = getattr(settings, "VIRUS_SCANNER", "rathaus.core.scanning.ClamdScanner")
    scanner: VirusScanner = import_string(path)()
    return scanner
