"""Virus scanning of uploads through ClamAV's ``clamd`` (INSTREAM protocol over TCP or a socket).

Scanners are plugins behind :class:`VirusScanner`; ``settings.VIRUS_SCANNER`` picks one. The
default talks to ``clamd`` at ``settings.CLAMD_ADDRESS`` (``tcp://127.0.0.1:3310`` or
``unix:///run/clamav/clamd.ctl``). A scanner that cannot be reached never lets a file through.
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


class ScannerUnavailable(Exception):
    """The scanner could not be reached or gave no usable answer."""


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str = ""


class VirusScanner(Protocol):
    def scan(self, data: bytes) -> ScanResult: ...


class ClamdScanner:
    """Streams the bytes to clamd and reads its verdict (``stream: OK`` or ``… FOUND``)."""

    def __init__(self, address: str | None = None, timeout: float = 30.0) -> None:
        self.address: str = str(
            address or getattr(settings, "CLAMD_ADDRESS", "tcp://127.0.0.1:3310")
        )
        self.timeout = timeout

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
                raise ScannerUnavailable(f"clamd at {self.address} failed: {exc}") from exc
        answer = reply.rstrip(b"\0").decode("utf-8", "replace")
        if answer.endswith(" OK"):
            return ScanResult(clean=True)
        if answer.endswith(" FOUND"):
            signature = answer.removeprefix("stream:").removesuffix(" FOUND").strip()
            return ScanResult(clean=False, signature=signature)
        raise ScannerUnavailable(f"clamd gave an unexpected answer: {answer!r}")


def get_scanner() -> VirusScanner:
    """The scanner chosen by ``settings.VIRUS_SCANNER`` (a dotted path to a class)."""
    path = getattr(settings, "VIRUS_SCANNER", "rathaus.core.scanning.ClamdScanner")
    scanner: VirusScanner = import_string(path)()
    return scanner
