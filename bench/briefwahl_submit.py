"""The postal-vote rush (issue 3): Briefwahl submissions per second under granian on PostgreSQL.

Logged-in citizens each send their complete, reviewed postal-vote application (the final POST of
the flow: all answers validated again, frozen, reference number drawn, audit event written,
receipt job queued). In the same run a bare Django view inserts one row through the same
middleware; the ratio of the two is recorded. Then two workers render and store the queued
receipts (PDF/A) and the receipts fully processed per second are measured.
Goals: ≥ 400 submissions/s, ≥ 0.5 of the bare-insert rate, ≥ 20 receipts/s.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from catalog_http import _env, _free_port, _manage
from report import write_section

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DURATION_S = int(os.environ.get("BENCH_DURATION", "15"))
CITIZENS = int(os.environ.get("BENCH_CITIZENS", "30000"))
THREADS, CONNECTIONS = 2, 16
WARMUP_S = 3
WARMUP_CITIZENS = min(5000, CITIZENS // 5)  # the last ones, for the warm-up submissions


def _wrk(
    env: dict[str, str], url: str, target: str, duration: int, first: int = 0
) -> tuple[float, int, str]:
    run_env = {
        **env,
        "BENCH_TARGET": target,
        "BENCH_THREADS": str(THREADS),
        "BENCH_FIRST": str(first),
    }
    out = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(Path(__file__).parent / "briefwahl_submit.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=run_env,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if errors:
        sys.exit(f"briefwahl benchmark: {errors.group(1)} error responses ({target}):\n{out}")
    return rps, total, p99


def _sql(env: dict[str, str], query: str) -> str:
    return subprocess.run(
        ["psql", env["DATABASE_URL"], "-At", "-c", query],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _submitted(env: dict[str, str]) -> int:
    return int(
        _sql(env, "SELECT count(*) FROM applications_application WHERE status = 'submitted'")
    )


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("briefwahl benchmark: wrk is not installed (apt-get install wrk).")
    var_dir = Path(tempfile.mkdtemp(prefix="rathaus-bench-"))
    env = _env(var_dir)
    env["RATHAUS_URLCONF"] = "bench_urls"
    env["PYTHONPATH"] = f"{ROOT / 'src'}:{ROOT / 'bench'}"
    sessions_file = var_dir / "sessions.txt"
    env["BENCH_SESSIONS"] = str(sessions_file)
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "load_demo")
    _manage(env, "collectstatic", "--noinput", "-v0")
    subprocess.run(
        [
            str(BIN / "python"),
            str(Path(__file__).parent / "briefwahl_setup.py"),
            str(CITIZENS),
            str(sessions_file),
        ],
        env=env,
        check=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            str(BIN / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(os.cpu_count() or 2),
            "--blocking-threads",
            "2",
            "--no-ws",
            "--log-level",
            "warning",
            "bench_urls_wsgi:application",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "rathaus.settings"},
        cwd=ROOT / "bench",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/", timeout=2):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.1)
        # Warm-up: every granian worker and thread imports the views, opens its database
        # connection and fills its caches on its first requests; without this the first
        # seconds of the measured run (and its p99) show start-up, not steady state.
        _wrk(env, base, "insert", WARMUP_S)
        _wrk(env, base, "submit", WARMUP_S, first=CITIZENS - WARMUP_CITIZENS)
        before = _submitted(env)
        insert_rps, _n, insert_p99 = _wrk(env, base, "insert", DURATION_S)
        submit_rps, submitted_requests, submit_p99 = _wrk(env, base, "submit", DURATION_S)
    finally:
        server.terminate()
        server.wait(timeout=30)
    submitted = _submitted(env) - before
    # wrk counts the requests it saw answered; up to one per connection may still finish after.
    if not submitted_requests <= submitted <= submitted_requests + CONNECTIONS:
        sys.exit(f"briefwahl benchmark: {submitted_requests} requests but {submitted} submitted")

    workers = [
        subprocess.Popen(
            [
                str(BIN / "python"),
                str(ROOT / "manage.py"),
                "db_worker",
                "--queue-name",
                "documents",
                "--interval",
                "0.05",
                "--no-startup-delay",
            ],
            env=env,
        )
        for _ in range(os.cpu_count() or 2)
    ]
    time.sleep(float(os.environ.get("BENCH_WORKER_SECONDS", "40")))
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)
    row = _sql(
        env,
        "SELECT count(*), extract(epoch FROM max(finished_at) - min(finished_at)) "
        "FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL' "
        "AND queue_name = 'documents'",
    )
    done, span = row.split("|")
    receipts = int(_sql(env, "SELECT count(*) FROM applications_application WHERE receipt <> ''"))
    receipts_per_s = (int(done) - 1) / float(span) if int(done) > 1 and float(span) > 0 else 0.0
    shutil.rmtree(var_dir, ignore_errors=True)

    ratio = submit_rps / insert_rps
    goals = [
        ("submissions/s ≥ 400", submit_rps >= 400),
        ("ratio to bare insert ≥ 0.5", ratio >= 0.5),
        ("receipts fully processed/s ≥ 20", receipts_per_s >= 20),
    ]
    body = (
        f"granian {os.cpu_count()} workers (WSGI) on PostgreSQL 15, wrk -t{THREADS} "
        f"-c{CONNECTIONS} -d{DURATION_S}s on the same machine after a {WARMUP_S}s warm-up run of "
        f"each; {CITIZENS:,} prepared citizens, "
        "each request a different logged-in citizen's complete postal-vote application (the "
        "final submit: full re-validation, the voter entered in the election's polling-card "
        "index (one card per voter), freeze, reference number, the case with its number and its "
        "file in the E-Akte, status history, audit events, receipt job queued).\n\n"
        "| measurement | rate | p99 latency |\n|---|---:|---:|\n"
        f"| bare Django view inserting one row | {insert_rps:,.0f} req/s | {insert_p99} |\n"
        f"| Briefwahl submissions | {submit_rps:,.0f} /s | {submit_p99} |\n"
        f"| ratio submissions / bare insert | {ratio:.2f} | |\n"
        f"| receipts fully processed (PDF/A rendered, logged in GovChain, stored, filed in the "
        f"E-Akte, delivered to the Postfach), {os.cpu_count()} workers | "
        f"{receipts_per_s:,.1f} /s ({receipts} receipts in the run) | |\n\n"
        + "\n".join(f"- {name}: **{'met' if ok else 'NOT met'}**" for name, ok in goals)
        + f"\n\nwrk saw {submitted_requests:,} answered submissions; the database holds "
        f"{submitted:,} submitted applications (requests still in flight when wrk stopped "
        "complete too)."
    )
    if os.environ.get("BENCH_NO_WRITE"):  # a trial run of the harness: figures not recorded
        print(body)
        return
    write_section(
        "briefwahl",
        "Postal-vote rush: Briefwahl submissions (issue 3)",
        body,
        "make bench BENCH=briefwahl",
    )
    print(body)


if __name__ == "__main__":
    main()
