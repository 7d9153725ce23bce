"""HTTP benchmark of the catalog: granian (WSGI) on PostgreSQL, load from wrk on 127.0.0.1.

Run through ``make bench BENCH=catalog`` (which starts a throwaway PostgreSQL cluster).
Goal (issue 2): ≥ 1,500 requests/s for the catalog page on this 2-core machine.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from report import write_section

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
DURATION_S = int(os.environ.get("BENCH_DURATION", "20"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
GOAL_RPS = 1500


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(var_dir: Path) -> dict[str, str]:
    if "DATABASE_URL" not in os.environ:
        sys.exit("catalog benchmark: DATABASE_URL is not set; run it with `make bench`.")
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        "RATHAUS_ENV": "production",
        "RATHAUS_HTTPS": "0",
        "SECRET_KEY": "bench-" + os.urandom(16).hex(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "http://127.0.0.1",
        "EMAIL_URL": "consolemail://",
        "LEDGER_ORIGIN": "bench.rathaus.localhost/govchain",
        "LEDGER_SIGNING_KEY": os.urandom(32).hex(),
        "RATHAUS_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
    }


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(VENV_BIN / "python"), str(ROOT / "manage.py"), *args], env=env, check=True)


def _wrk(url: str, duration_s: int = DURATION_S) -> tuple[float, str]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration_s}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        sys.exit(f"catalog benchmark: {non2xx.group(1)} error responses from {url}:\n{out}")
    return rps, p99


def _measure(env: dict[str, str], workers: int) -> dict[str, tuple[float, str]]:
    """Start granian with ``env``, load each page with wrk, stop granian."""
    port = _free_port()
    command = [
        str(VENV_BIN / "granian"),
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        "2",
        "--no-ws",
        "--log-level",
        "warning",
        "rathaus.wsgi:application",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(base + "/leistungen/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("catalog benchmark: granian did not come up")
        results = {}
        for label, path in TARGETS.items():
            _wrk(base + path, duration_s=3)  # warm-up run
            results[label] = _wrk(base + path)
        return results
    finally:
        server.terminate()
        server.wait(timeout=20)


TARGETS = {
    "Catalog page `/leistungen/`": "/leistungen/",
    "Service page `/leistungen/wohnsitz-anmelden/`": "/leistungen/wohnsitz-anmelden/",
}


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("catalog benchmark: wrk is not installed (apt-get install wrk).")
    var_dir = Path(tempfile.mkdtemp(prefix="rathaus-bench-"))
    env = _env(var_dir)
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "load_demo")
    _manage(env, "collectstatic", "--noinput", "-v0")
    workers = os.cpu_count() or 2
    rows: list[str] = []
    catalog_rps = 0.0
    try:
        for cache_seconds, variant in (("60", "anonymous page cache"), ("0", "page cache off")):
            results = _measure({**env, "ANONYMOUS_PAGE_CACHE_SECONDS": cache_seconds}, workers)
            for label, (rps, p99) in results.items():
                rows.append(f"| {label} | {variant} | {rps:,.0f} | {p99} |")
                print(f"{label} ({variant}): {rps:.0f} req/s, p99 {p99}")
            if cache_seconds == "60":
                catalog_rps = results["Catalog page `/leistungen/`"][0]
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    verdict = "met" if catalog_rps >= GOAL_RPS else "NOT met"
    body = (
        f"granian {workers} workers (WSGI), DEBUG off, PostgreSQL 15 on 127.0.0.1, wrk -t2 "
        f"-c{CONNECTIONS} -d{DURATION_S}s on the same 2-core machine, anonymous requests.\n\n"
        "| page | served | requests/s | p99 latency |\n|---|---|---:|---:|\n"
        + "\n".join(rows)
        + "\n\nAnonymous visitors get public pages from a whole-page cache (60 s, per language; "
        "rathaus.core.page_cache); the second set shows the full rendering path with it off.\n\n"
        f"Goal ≥ {GOAL_RPS:,} requests/s for the catalog page: **{verdict}**."
    )
    write_section("catalog", "Catalog pages (issue 2)", body, "make bench BENCH=catalog")


if __name__ == "__main__":
    main()
