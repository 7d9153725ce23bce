"""GovChain ledger benchmark: sustained appends/s on PostgreSQL with a checkpoint every second.

Run through ``make bench BENCH=ledger`` (a throwaway PostgreSQL 15 cluster via
scripts/with-postgres), or with DATABASE_URL set. Worker processes call
``rathaus.ledger.services.append`` (one transaction per document, as web workers do) while
``manage.py run_sequencer`` (every 0.5 s) integrates pending entries, signs a checkpoint and
publishes tiles to the file system. Then it measures proof sizes and verification times.

Goal (issue 7): >= 3,000 appends/s; inclusion proofs <= 32 * ceil(log2 n) bytes.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing as mp
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from report import write_section

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
DURATION_S = float(os.environ.get("BENCH_DURATION", "20"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
BATCH = 100
GOAL = 3000
ORIGIN = "bench.rathaus.example/govchain"


def _env(var_dir: Path) -> dict[str, str]:
    if "DATABASE_URL" not in os.environ:
        sys.exit("ledger benchmark: DATABASE_URL is not set; run it with `make bench`.")
    seed = os.urandom(32).hex()
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "DJANGO_SETTINGS_MODULE": "rathaus.settings",
        # demo: no web server runs here, so production-only settings are not needed
        "RATHAUS_ENV": "demo",
        "DEBUG": "0",
        "RATHAUS_VAR_DIR": str(var_dir),
        "LEDGER_ORIGIN": ORIGIN,
        "LEDGER_SIGNING_KEY": seed,
        "LOG_LEVEL": "WARNING",
    }


def _setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, env["PYTHONPATH"])
    import django

    django.setup()


def _worker(
    env: dict[str, str], authority_id: int, worker: int, batch: int, stop_at: float, out: Any
) -> None:
    """One process with THREADS threads appending until stop_at; batch > 1 uses append_many."""
    _setup_django(env)
    from django.db import connection

    from rathaus.ledger.services import append, append_many

    counts: list[int] = []

    def run(thread: int) -> None:
        count = 0
        while time.time() < stop_at:
            if batch == 1:
                document = f"%PDF-1.7 bench {worker}/{thread} {count} {os.urandom(8).hex()}"
                append(document=document.encode(), document_type="notice", authority=authority_id)
            else:
                append_many(
                    document_sha256s=[os.urandom(32).hex() for _ in range(batch)],
                    document_type="receipt",
                    authority=authority_id,
                )
            count += batch
        counts.append(count)
        connection.close()

    cpu_before = time.process_time()
    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((sum(counts), time.process_time() - cpu_before))


def _load(env: dict[str, str], authority_id: int, batch: int) -> tuple[int, float, float]:
    """Returns (appends, wall seconds, CPU seconds of the appending processes)."""
    started = time.time()
    stop_at = started + DURATION_S
    ctx = mp.get_context("fork")
    queue: Any = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(env, authority_id, w, batch, stop_at, queue))
        for w in range(WORKERS)
    ]
    for p in workers:
        p.start()
    results = [queue.get() for _ in workers]
    for p in workers:
        p.join()
    return sum(r[0] for r in results), time.time() - started, sum(r[1] for r in results)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="rathaus-ledger-bench-"))
    env = _env(var_dir)
    subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0", "--skip-checks"],
        env=env,
        check=True,
    )
    load_before = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    _setup_django(env)
    from django.db import connection

    from rathaus.core.models import Authority, Municipality
    from rathaus.ledger import merkle
    from rathaus.ledger.keys import verifier_keys
    from rathaus.ledger.models import Checkpoint, Entry
    from rathaus.ledger.selectors import consistency_proof, inclusion_proof, verify_document

    town, _ = Municipality.objects.get_or_create(
        ags="05124000", defaults={"name": "Wuppertal", "slug": "wuppertal", "state": "NW"}
    )
    authority, _ = Authority.objects.get_or_create(
        municipality=town, kind="buergeramt", defaults={"name": "Bürgeramt Wuppertal"}
    )
    sequencer = subprocess.Popen([PYTHON, str(ROOT / "manage.py"), "run_sequencer"], env=env)
    while not Checkpoint.objects.exists():  # the sequencer is up once it signed the empty tree
        time.sleep(0.1)
    connection.close()

    sequencer_cpu_before = _cpu_seconds(sequencer.pid)
    total, elapsed, cpu = _load(env, authority.pk, 1)
    bulk_total, bulk_elapsed, bulk_cpu = _load(env, authority.pk, BATCH)
    drain_started = time.monotonic()
    while Entry.objects.filter(index__isnull=True).exists():
        time.sleep(0.05)
    drained = time.monotonic() - drain_started
    sequencer_cpu = _cpu_seconds(sequencer.pid) - sequencer_cpu_before
    load_after = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    sequencer.terminate()
    sequencer.wait(timeout=30)

    appends_per_s = total / elapsed
    bulk_per_s = bulk_total / bulk_elapsed
    bulk_s = bulk_elapsed
    checkpoints = list(
        Checkpoint.objects.filter(size__gt=0).order_by("id").values_list("created_at", "size")
    )
    gaps = [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(checkpoints)]
    batches = [b[1] - a[1] for a, b in itertools.pairwise(checkpoints)]
    size = checkpoints[-1][1]

    # proofs from the database tiles
    entries = list(Entry.objects.order_by("index")[:: max(1, size // 20)])
    proof_bytes = []
    t0 = time.perf_counter()
    for entry in entries:
        proof_bytes.append(32 * len(inclusion_proof(entry=entry, size=size)))
    proof_ms = (time.perf_counter() - t0) * 1000 / len(entries)
    bound = 32 * math.ceil(math.log2(size))
    first = checkpoints[0][1]
    consistency_bytes = 32 * len(consistency_proof(old_size=first, new_size=size))

    sample = entries[len(entries) // 2]
    t0 = time.perf_counter()
    for _ in range(20):
        result = verify_document(document_sha256=sample.document_sha256)
    online_ms = (time.perf_counter() - t0) * 1000 / 20
    assert result.status == "valid", result.status
    latest = Checkpoint.objects.order_by("-id").first()
    assert latest is not None
    root_check = merkle.root_from_leaf_hashes(
        merkle.leaf_hash(bytes(leaf))
        for leaf in Entry.objects.order_by("index").values_list("leaf", flat=True).iterator()
    )
    assert root_check == bytes(latest.root_hash), "root mismatch"

    published = var_dir / "media" / "govchain"
    key = verifier_keys()[0]
    cli = [str(ROOT / "bin" / "rathaus-verify"), "--sha256", sample.document_sha256]
    cli += ["--log", str(published), "--key", key]
    timings = {}
    for label, extra in (("full scan", []), ("single entry", ["--index", str(sample.index)])):
        t0 = time.perf_counter()
        done = subprocess.run([*cli, *extra], capture_output=True, text=True, check=False)
        timings[label] = time.perf_counter() - t0
        if done.returncode != 0:
            sys.exit(f"verifier failed ({label}):\n{done.stdout}{done.stderr}")

    med_gap = statistics.median(gaps)
    cpu_ms, bulk_cpu_ms = cpu / total * 1000, bulk_cpu / bulk_total * 1000
    sequencer_ms = sequencer_cpu / size * 1000
    ceiling = 2000 / (cpu_ms + sequencer_ms)
    bulk_ceil = 2000 / (bulk_cpu_ms + sequencer_ms)
    verdict = "meets" if appends_per_s >= GOAL else "does NOT meet"
    bulk_verdict = "meets" if bulk_per_s >= GOAL else "does NOT meet"
    body = f"""
Load 1, the web-worker pattern: {WORKERS} processes x {THREADS} threads call `services.append`
(one document, one INSERT each) for {DURATION_S:.0f} s. Load 2, mass issuance: {WORKERS} x {THREADS}
call `services.append_many` with {BATCH} documents per call for {DURATION_S:.0f} s. All the time
`manage.py run_sequencer` (every 0.5 s) sequences, signs a checkpoint and publishes tiles to the
file system. PostgreSQL 15 from `scripts/with-postgres` (fsync=off, synchronous_commit=off: a
throwaway cluster, not durable storage). Everything shares the same 2 cores with whatever else
runs on the machine: load average {load_before} when the run started, {load_after} at its end.
CPU time per append (below) depends much less on that other load than the rates do.

| measure | value |
|---|---|
| **appends/s, one document per call** | **{appends_per_s:,.0f}** ({total:,} in {elapsed:.0f} s) |
| **appends/s, batches of {BATCH}** | **{bulk_per_s:,.0f}** ({bulk_total:,} in {bulk_s:.0f} s) |
| goal ≥ {GOAL:,}/s | one per call: {verdict} it; batched: {bulk_verdict} it |
| CPU per append, appending processes | {cpu_ms:.2f} ms one by one; {bulk_cpu_ms:.3f} ms batched |
| sequencer CPU per entry (sequence, sign, publish) | {sequencer_ms:.3f} ms |
| CPU ceiling (2 cores, PostgreSQL not counted) | {ceiling:,.0f}/s; batched {bulk_ceil:,.0f}/s |
| checkpoints signed | {len(checkpoints)} (interval median {med_gap:.2f} s, max {max(gaps):.2f} s) |
| entries per checkpoint | median {statistics.median(batches):,.0f}, max {max(batches):,} |
| sequencer backlog after the load stopped | drained in {drained:.2f} s |
| tree size | {size:,} |
| inclusion proof | {min(proof_bytes)} to {max(proof_bytes)} bytes (bound 32·⌈log2 n⌉ = {bound}) |
| inclusion proof from database tiles | {proof_ms:.1f} ms each |
| consistency proof {first:,} → {size:,} | {consistency_bytes} bytes |
| `verify_document` (database, proof checked) | {online_ms:.1f} ms |
| `rathaus-verify --index` (one entry, files) | {timings["single entry"]:.2f} s (with start-up) |
| `rathaus-verify` full scan of {size:,} entries | {timings["full scan"]:.2f} s |
"""
    command = "make bench BENCH=ledger"
    if os.environ.get("BENCH_WORKERS") or os.environ.get("BENCH_DURATION"):
        command = (
            " ".join(
                f"{k}={shlex.quote(os.environ[k])}"
                for k in ("BENCH_WORKERS", "BENCH_DURATION")
                if k in os.environ
            )
            + " "
            + command
        )
    write_section("ledger", "GovChain ledger", body, command)
    print(body)


if __name__ == "__main__":
    main()
