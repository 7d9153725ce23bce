"""Fixtures for the documents tests: letter context, test templates, a demo seal per session."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from rathaus.documents.letter import Recipient, Sender
from rathaus.documents.rendering import render_pdf
from rathaus.documents.seal import create_demo_seal
from rathaus.documents.verification import Verification

TEMPLATES = Path(__file__).resolve().parent / "templates"
VERIFICATION_URL = "https://portal.example.de/pruefen/7f3a9c2e51d04b8a"
SHORT_CODE = "K7QF-3MXA-92PD"


@pytest.fixture(autouse=True)
def document_templates(settings: Any) -> None:
    settings.DOCUMENTS_TEMPLATE_DIRS = [str(TEMPLATES)]


@pytest.fixture
def sender() -> Sender:
    return Sender(
        municipality="Stadt Wuppertal",
        authority="Bürgeramt",
        unit="33.1 Meldeangelegenheiten",
        address_lines=("Johannes-Rau-Platz 1", "42275 Wuppertal"),
        phone="0202 563-0",
        email="buergeramt@stadt.wuppertal.de",
    )


@pytest.fixture
def receipt_context(sender: Sender) -> dict[str, Any]:
    return {
        "sender": sender,
        "recipient": Recipient(
            name_lines=("Frau Erika Mustermann",),
            address_lines=("Heidestraße 17", "42103 Wuppertal"),
        ),
        "reference": "33.1-2026-000123",
        "date": date(2026, 11, 22),
        "subject": "Eingangsbestätigung: Anmeldung einer Wohnung",
        "service_name": "Anmeldung einer Wohnung",
        "answers": [
            ("Familienname", "Mustermann"),
            ("Vorname", "Erika"),
            ("Einzugsdatum", "01.11.2026"),
        ],
        "files": [{"name": "wohnungsgeberbestaetigung.pdf", "size": "182 KB"}],
        "verification": Verification(url=VERIFICATION_URL, short_code=SHORT_CODE),
    }


@pytest.fixture
def receipt_pdf(receipt_context: dict[str, Any]) -> bytes:
    return render_pdf(
        template="documents_test/receipt.html",
        context=receipt_context,
        language="de",
        title="Eingangsbestätigung",
        author="Stadt Wuppertal, Bürgeramt",
    )


@pytest.fixture(scope="session")
def demo_seal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo CA and seal, generated once per test session (RSA key generation is slow). Valid
    since 2010: the tests of the chain of evidence date seals back to 2011, and a seal's
    certificate is checked at the time of its time stamp (tests/documents/test_seal_evidence.py).
    """
    var_dir = tmp_path_factory.mktemp("var")
    create_demo_seal(
        var_dir / "documents" / "seal",
        organization="Stadt Wuppertal",
        valid_from=datetime(2010, 1, 1, tzinfo=UTC),
    )
    return var_dir


@pytest.fixture
def demo_seal(settings: Any, demo_seal_dir: Path) -> Path:
    settings.VAR_DIR = demo_seal_dir
    settings.DOCUMENTS_SEAL_PKCS12 = ""
    settings.DOCUMENTS_SEAL_TRUST_ROOTS = ""
    return demo_seal_dir


class _CountingHandler(BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = b"body { color: red; }"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def local_http_server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request it gets."""
    requests: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
