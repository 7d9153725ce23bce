"""CPU cost of the postal-vote rush, per request and per receipt, without HTTP or load generator.

The throughput benchmark (``make bench BENCH=briefwahl``) needs an idle machine; this probe gives
figures that hold on a busy one, because it counts CPU time (``time.process_time``) instead of
wall-clock time. It prepares citizens with complete Briefwahl drafts exactly as the benchmark
does (bench/briefwahl_setup.py), then sends the benchmark's requests straight into Django's WSGI
handler (all middleware, the real view, the real submission) and measures:

- the bare view that inserts one row, and the complete Briefwahl submission: CPU ms of the Django
  process per request, CPU ms of the PostgreSQL backend per request (read from /proc), and the
  queries per request;
- receipts: the ``documents`` queue worked off by django-tasks' own worker loop in this process
  (claim the job, render the PDF/A, store it, record the result), CPU ms per receipt.

From the CPU costs it prints the ceiling on this machine's cores (cores / CPU seconds per request),
which is what granian could at best reach; HTTP parsing in granian and wrk's own CPU come on top.

Usage:
    scripts/with-postgres .venv/bin/python bench/profile_submit.py   # PostgreSQL, like the bench
    .venv/bin/python bench/profile_submit.py                         # SQLite in a temp folder
Options: --requests N (per measurement, default 300), --receipts N (default 40),
         --profile insert|submit|receipt (cProfile of that step, top 30 by own time),
         --sql (print the statements of one submission and of one receipt job).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(HERE)]

VAR_DIR = Path(tempfile.mkdtemp(prefix="rathaus-probe-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        "RATHAUS_URLCONF": "bench_urls",
        "RATHAUS_VAR_DIR": str(VAR_DIR),
        "RATHAUS_HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "http://127.0.0.1",
        "EMAIL_URL": "consolemail://",
        "LOG_LEVEL": "WARNING",
    }
)
if os.environ.get("DATABASE_URL"):
    # Production settings, as in bench/briefwahl_submit.py.
    os.environ.update(
        {
            "RATHAUS_ENV": "production",
            "SECRET_KEY": "probe-" + os.urandom(16).hex(),
            "LEDGER_ORIGIN": "bench.rathaus.localhost/govchain",
            "LEDGER_SIGNING_KEY": os.urandom(32).hex(),
        }
    )
else:
    os.environ["RATHAUS_ENV"] = "demo"

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

CORES = os.cpu_count() or 2


def _ticks() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (0 on SQLite)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():  # server on another machine or in another namespace
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    """Sends the benchmark's POSTs through Django's WSGI handler, one per prepared citizen."""

    def __init__(self, lines: list[str]) -> None:
        self.handler = WSGIHandler()
        self.lines = iter(lines)

    def post(self, target: str) -> None:
        session, csrf, uuid = next(self.lines).split()
        path = f"/antraege/{uuid}/pruefen/" if target == "submit" else "/bench/insert/"
        body = f"csrfmiddlewaretoken={csrf}&confirm=yes&submission_key={uuid}".encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": f"sessionid={session}; csrftoken={csrf}",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status: list[str] = []
        response = self.handler(environ, lambda s, h, *a: status.append(s))
        try:
            b"".join(response)
        finally:
            response.close()  # request_finished: connection handling as under granian
        if not status[0].startswith("302"):
            raise SystemExit(f"probe: {target} answered {status[0]} instead of a redirect")


def _measure(name: str, count: int, step: Callable[[], None]) -> dict[str, float]:
    for _ in range(10):  # warm-up: imports, template and URL caches, first connection
        step()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            step()
    per_request_queries = len(queries.captured_queries) / 10
    reset_queries()
    # Python function calls per request: a load-independent measure of the work done.
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(10):
        step()
    profiler.disable()
    calls = pstats.Stats(profiler).total_calls / 10  # type: ignore[attr-defined]
    cpu: list[float] = []
    db_before = _ticks()
    wall_before = time.perf_counter()
    for _ in range(count):
        started = time.process_time()
        step()
        cpu.append(time.process_time() - started)
    wall = time.perf_counter() - wall_before
    db_cpu = (_ticks() - db_before) / count
    result = {
        "median_ms": statistics.median(cpu) * 1000,
        "mean_ms": statistics.fmean(cpu) * 1000,
        "p95_ms": statistics.quantiles(cpu, n=20)[-1] * 1000,
        "db_ms": db_cpu * 1000,
        "queries": per_request_queries,
        "calls": calls,
        "wall_ms": wall / count * 1000,
    }
    ceiling = CORES / ((result["mean_ms"] + result["db_ms"]) / 1000)
    print(
        f"{name:<28} app CPU median {result['median_ms']:6.2f} ms, mean {result['mean_ms']:6.2f} "
        f"ms, p95 {result['p95_ms']:6.2f} ms | DB backend {result['db_ms']:5.2f} ms | "
        f"{per_request_queries:4.1f} queries, {calls / 1000:5.1f}k Python calls | "
        f"wall {result['wall_ms']:6.2f} ms | "
        f"ceiling on {CORES} cores ≈ {ceiling:,.0f}/s",
        flush=True,
    )
    return result


def _profiled(step: Callable[[], None], count: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        step()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(120)
    print(out.getvalue())


def _receipt_worker() -> Callable[[], None]:
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["documents"],
        interval=0,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=1,
        worker_id="probe",
        excluded_queue_names=[],
    )

    def one() -> None:
        worker._run_tasks = 0
        worker.run()  # claims and runs exactly one job (max_tasks=1)

    return one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--receipts", type=int, default=40)
    parser.add_argument("--profile", choices=["insert", "submit", "receipt"])
    parser.add_argument("--sql", action="store_true")
    args = parser.parse_args()

    call_command("migrate", "--noinput", verbosity=0)
    call_command("load_demo", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # error pages need the manifest
    import briefwahl_setup

    per_step = args.requests + 30  # 10 warm-up, 10 query count, 10 call count
    receipt_jobs = args.receipts * (2 if args.profile == "receipt" else 1) + 30
    receipt_jobs += 1 if args.sql else 0
    # Receipts come from the measured submissions (and the one --sql prints); the worker loop
    # would wait for ever on an empty queue, so top it up to exactly what is needed.
    extra_submits = max(0, receipt_jobs - per_step - (1 if args.sql else 0))
    citizens = 2 * per_step + 1 + extra_submits
    citizens += per_step if args.profile in ("insert", "submit") else 0
    sessions = VAR_DIR / "sessions.txt"
    briefwahl_setup.main(citizens, str(sessions))
    client = Client(sessions.read_text().splitlines())
    print(
        f"{connection.vendor}, {CORES} cores, load average {os.getloadavg()[0]:.1f}; "
        f"{args.requests} requests per measurement after 30 warm-up/counting requests",
        flush=True,
    )
    _measure("bare insert (one row)", args.requests, lambda: client.post("insert"))
    submit = _measure("Briefwahl submission", args.requests, lambda: client.post("submit"))
    if args.sql:
        with CaptureQueriesContext(connection) as queries:
            client.post("submit")
        for query in queries.captured_queries:
            print(f"  {query['time']}s {query['sql'][:300]}")
    if args.profile in ("insert", "submit"):
        _profiled(lambda: client.post(args.profile), args.requests)

    for _ in range(extra_submits):  # enough queued receipts for the next step
        client.post("submit")
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(queue_name="documents", status="READY").count()
    if queued < receipt_jobs:
        sys.exit(f"profile_submit: {queued} receipt jobs queued, {receipt_jobs} needed")
    work = _receipt_worker()
    receipt = _measure("receipt job (render+store)", args.receipts, work)
    if args.profile == "receipt":
        _profiled(work, args.receipts)
    if args.sql:
        with CaptureQueriesContext(connection) as queries:
            work()
        print("statements of one receipt job:")
        for query in queries.captured_queries:
            print(f"  {query['time']}s {query['sql'][:300]}")

    failed = DBTaskResult.objects.filter(queue_name="documents", status="FAILED")
    if failed.exists():
        raise SystemExit(f"probe: receipt jobs failed: {failed.first().traceback}")  # type: ignore[union-attr]
    print(
        f"submission + its receipt: {submit['mean_ms'] + submit['db_ms']:.1f} + "
        f"{receipt['mean_ms'] + receipt['db_ms']:.1f} ms CPU; receipts/s on {CORES} cores "
        f"≈ {CORES / ((receipt['mean_ms'] + receipt['db_ms']) / 1000):.1f}"
    )


def _cleanup(*_: Any) -> None:
    import shutil

    shutil.rmtree(VAR_DIR, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        _cleanup()
