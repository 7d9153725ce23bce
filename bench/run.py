"""Runs the benchmarks (``make bench``; ``make bench BENCH=catalog`` for one).

Each benchmark is a script in this folder that writes its own section of docs/benchmarks.md.
Those that need PostgreSQL run inside ``scripts/with-postgres`` (a throwaway cluster).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")

# name -> (script, needs PostgreSQL)
BENCHMARKS: dict[str, tuple[str, bool]] = {
    "catalog": ("catalog_http.py", True),
    "briefwahl": ("briefwahl_submit.py", True),
    "ledger": ("ledger_append.py", True),
    "rescue": ("rescue_forecast.py", False),
    "documents": ("documents_render.py", False),
    "casework": ("casework_queries.py", True),
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    failed = []
    for name in names:
        script, needs_pg = BENCHMARKS[name]
        if not (HERE / script).exists():
            print(f"skipping {name}: bench/{script} does not exist yet")
            continue
        command = [PYTHON, str(HERE / script)]
        if needs_pg:
            command = [str(ROOT / "scripts" / "with-postgres"), *command]
        print(f"== {name}: {' '.join(command)}", flush=True)
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
