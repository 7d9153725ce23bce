"""Benchmark of the documents module: PDF/A rendering, sealing and seal validation.

Run through ``make bench BENCH=documents`` (no database needed). Measures the receipt of an
application (the real template ``applications/receipt.html``: eight answers, two files, QR code)
and a notice of four pages rendered by ``render_pdf`` with warm caches (fonts and stylesheet parsed
once per thread), then receipts rendered by two processes at once (the machine's two cores),
then sealing and validating a notice. Issue 3 asks for ≥ 20 fully
processed submissions/s including the receipt PDF; a peer system needs about 265 ms per receipt.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("RATHAUS_VAR_DIR", tempfile.mkdtemp(prefix="rathaus-bench-documents-"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from report import write_section  # noqa: E402

settings.DOCUMENTS_TEMPLATE_DIRS = [str(ROOT / "tests" / "documents" / "templates")]

from pypdf import PdfReader  # noqa: E402
from weasyprint import HTML  # noqa: E402

from rathaus.documents.letter import Recipient, Sender  # noqa: E402
from rathaus.documents.rendering import PDF_VARIANT, _toolkit_for_thread, render_pdf  # noqa: E402
from rathaus.documents.seal import seal_pdf, seal_signer, seal_trust_roots, validate_seal  # noqa: E402
from rathaus.documents.verification import Verification  # noqa: E402

RECEIPTS = int(os.environ.get("BENCH_RECEIPTS", "60"))
NOTICES = int(os.environ.get("BENCH_NOTICES", "20"))
SEALS = int(os.environ.get("BENCH_SEALS", "20"))
PEER_MS = 265
GOAL_PER_S = 20


def _context(i: int) -> dict[str, Any]:
    return {
        "sender": Sender(
            municipality="Stadt Wuppertal",
            authority="Bürgeramt",
            unit="33.1 Meldeangelegenheiten",
            address_lines=("Johannes-Rau-Platz 1", "42275 Wuppertal"),
            phone="0202 563-0",
            email="buergeramt@stadt.wuppertal.de",
            opening_hours="Mo-Fr 8-16 Uhr",
        ),
        "recipient": Recipient(
            name_lines=(f"Frau Erika Mustermann {i}",),
            address_lines=("Heidestraße 17", "42103 Wuppertal"),
        ),
        "reference": f"33.1-2026-{i:06d}",
        "date": date(2026, 11, 22),
        "subject": "Eingangsbestätigung: Anmeldung einer Wohnung",
        "service_name": "Anmeldung einer Wohnung",
        "submitted_at": datetime(2026, 11, 22, 9, 41, tzinfo=UTC),
        "confirmed_at": datetime(2026, 11, 22, 9, 40, tzinfo=UTC),
        "answers": [
            ("Familienname", "Mustermann"),
            ("Vornamen", "Erika"),
            ("Geburtsdatum", "12.08.1964"),
            ("Neue Anschrift", "Heidestraße 17, 42103 Wuppertal"),
            ("Einzugsdatum", "01.11.2026"),
            ("Bisherige Anschrift", "Am Markt 3, 42651 Solingen"),
            ("Wohnungsgeber", "Wohnbau Wuppertal GmbH"),
            ("Weitere Personen", "keine"),
        ],
        "files": [
            {"name": "wohnungsgeberbestaetigung.pdf", "size": "182 KB"},
            {"name": "personalausweis.jpg", "size": "1,2 MB"},
        ],
        "verification": Verification(
            url=f"https://portal.example.de/pruefen/{i:016x}", short_code="K7QF-3MXA-92PD"
        ),
    }


def _receipt_context(i: int) -> dict[str, Any]:
    """The context ``applications.receipts.build_receipt`` passes, with the same answers."""
    context = _context(i)
    answers = context.pop("answers")
    files = context.pop("files")
    return {
        **context,
        "sections": [
            {
                "title": "Ihre Angaben",
                "rows": [{"label": label, "text": text, "children": []} for label, text in answers],
            }
        ],
        "attachments": [
            {"original_name": file["name"], "size": size, "sha256": f"{n:064x}"}
            for n, (file, size) in enumerate(zip(files, [186_368, 1_258_291], strict=True))
        ],
    }


def _notice_context(i: int) -> dict[str, Any]:
    paragraph = (
        "Nach Prüfung Ihres Antrags und der eingereichten Unterlagen ergeht folgende "
        "Entscheidung auf Grundlage der einschlägigen Vorschriften. "
    ) * 5
    return {
        **_context(i),
        "subject": "Bescheid über die Erteilung einer Sondernutzungserlaubnis",
        "salutation": "Sehr geehrte Frau Mustermann,",
        "decision": [paragraph] * 4,
        "reasons": [paragraph] * 9,
        "remedy": paragraph,
        "signed_by": "Im Auftrag Beispiel",
    }


def _receipt(i: int) -> bytes:
    return render_pdf(
        template="applications/receipt.html",
        context=_receipt_context(i),
        language="de",
        title="Eingangsbestätigung",
        author="Stadt Wuppertal, Bürgeramt",
    )


def _notice(i: int) -> bytes:
    return render_pdf(
        template="documents_test/notice.html",
        context=_notice_context(i),
        language="de",
        title="Bescheid",
        author="Stadt Wuppertal, Bürgeramt",
    )


class Timing:
    """Wall-clock and CPU milliseconds of repeated runs (CPU time is robust to other load)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []


def _minimal_page(i: int) -> bytes:
    """WeasyPrint's floor: one heading and ten short paragraphs, same fonts, tagged PDF/A-3a."""
    toolkit = _toolkit_for_thread()
    html = (
        f"<html lang='de'><head><title>Minimal {i}</title></head><body><h1>Eingang</h1>"
        + "<p>Wir haben Ihren Antrag erhalten.</p>" * 10
        + "</body></html>"
    )
    pdf = HTML(string=html, url_fetcher=toolkit.fetcher).write_pdf(
        stylesheets=toolkit.stylesheets, font_config=toolkit.font_config, pdf_variant=PDF_VARIANT
    )
    assert isinstance(pdf, bytes)
    return pdf


def _timed(fn: Any, count: int) -> tuple[Timing, Any]:
    timing = Timing()
    result = None
    for i in range(count):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(i)
        timing.cpu.append((time.process_time() - cpu) * 1000)
        timing.wall.append((time.perf_counter() - wall) * 1000)
    return timing, result


def _row(label: str, timing: Timing, extra: str = "") -> str:
    wall = timing.wall
    p95 = statistics.quantiles(wall, n=20)[-1] if len(wall) >= 20 else max(wall)
    cpu = statistics.median(timing.cpu)
    return (
        f"| {label} | {len(wall)} | {statistics.median(wall):.0f} | {p95:.0f} | {cpu:.0f} | "
        f"{1000 / cpu:.1f} | {extra} |"
    )


def _worker_receipts(count: int) -> int:
    for i in range(count):
        _receipt(i)
    return count


def _parallel_receipts(workers: int, per_worker: int) -> float:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_worker_receipts, [2] * workers))  # warm every worker
        start = time.perf_counter()
        done = sum(pool.map(_worker_receipts, [per_worker] * workers))
        return done / (time.perf_counter() - start)


def main() -> None:
    start = time.perf_counter()
    _receipt(0)
    cold_ms = (time.perf_counter() - start) * 1000
    receipt_times, receipt = _timed(_receipt, RECEIPTS)
    notice_times, notice = _timed(_notice, NOTICES)
    minimal_times, minimal = _timed(_minimal_page, RECEIPTS)
    signer = seal_signer()
    roots = seal_trust_roots()
    seal_times, sealed = _timed(
        lambda i: seal_pdf(notice, signer=signer, location="Wuppertal"), SEALS
    )
    validate_times, status = _timed(lambda i: validate_seal(sealed, trust_roots=roots), SEALS)
    assert status.valid, status.problem
    workers = os.cpu_count() or 2
    parallel_per_s = _parallel_receipts(workers, max(RECEIPTS // workers, 10))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())

    notice_pages = len(PdfReader(io.BytesIO(notice)).pages)
    rows = [
        _row(
            "Receipt, 1 page with QR code (`render_pdf`, `applications/receipt.html`)",
            receipt_times,
            f"{len(receipt) // 1024} KiB",
        ),
        _row(
            "Minimal page, no letter layout (WeasyPrint alone)",
            minimal_times,
            f"{len(minimal) // 1024} KiB",
        ),
        _row(
            f"Notice, {notice_pages} pages (`render_pdf`)",
            notice_times,
            f"{len(notice) // 1024} KiB",
        ),
        _row(
            f"Seal a {notice_pages}-page notice (`seal_pdf`, RSA 3072, PAdES B-B)",
            seal_times,
            f"{len(sealed) // 1024} KiB",
        ),
        _row("Validate the seal (`validate_seal`)", validate_times, ""),
    ]
    for line in rows:
        print(line)
    median_receipt = statistics.median(receipt_times.cpu)
    verdict = "met" if parallel_per_s >= GOAL_PER_S else "NOT met"
    cores = os.cpu_count() or 2
    contended = os.getloadavg()[0] > cores
    body = (
        "One process, warm caches (fonts and the letter stylesheet are parsed once per thread); "
        f"the first receipt of a process took {cold_ms:.0f} ms (font loading, once per process). "
        "WeasyPrint tagged PDF/A-3a with harfbuzz subsetting (Debian libharfbuzz-subset0), "
        f"Liberation Sans/Mono embedded. Load average during the run: {load} on {cores} cores"
        + (
            " — the machine was shared with other jobs, so wall-clock times and the parallel "
            "figure are inflated; CPU times are the better guide, and also inflated by contention"
            if contended
            else ""
        )
        + ".\n\n"
        "| operation | runs | median ms | p95 ms | median CPU ms | per second per core (CPU) "
        "| size |\n|---|---:|---:|---:|---:|---:|---|\n" + "\n".join(rows) + "\n\n"
        f"Receipts rendered by {workers} processes at once: **{parallel_per_s:.1f} receipts/s**. "
        f"A peer system needs about {PEER_MS} ms per receipt; here a receipt costs a median "
        f"{median_receipt:.0f} ms of CPU, i.e. at most {cores * 1000 / median_receipt:.0f} "
        f"receipts/s on {cores} cores before anything else of a submission is done. "
        f"Issue 3's goal of ≥ {GOAL_PER_S} fully processed submissions/s including the receipt: "
        f"receipt rendering alone on all cores **{verdict}** in this run."
    )
    write_section("documents", "Documents (PDF rendering)", body, "make bench BENCH=documents")


if __name__ == "__main__":
    main()
