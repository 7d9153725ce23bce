"""preRESC benchmark: daily EMS demand, seven SWAST areas, test year 2018 (Monks et al. 2023).

Runs ``python -m rathaus.rescue evaluate`` exactly as a user would (a fresh process, the CSV
from ../shared/data/ems/), for the strong model and the seasonal naive baseline on 2018 and for
the strong model on the validation year 2017, and writes the figures into the "preRESC" section
of docs/benchmarks.md. Usage: ``.venv/bin/python bench/rescue_forecast.py [--skip-validation]``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import write_section

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from rathaus.rescue.demand import read_demand_csv  # noqa: E402
from rathaus.rescue.evaluation import HORIZONS as HORIZON_DAYS  # noqa: E402
from rathaus.rescue.evaluation import poisson_floor  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ems" / "swast_daily_responses_2013_2018.csv"
REGIONS = "BNSSG,Cornwall,Devon,Dorset,Gloucestershire,Somerset,Wiltshire"
HORIZONS = [str(h) for h in range(7, 85, 7)]
# the published model (Prophet + regression with ARIMA errors), mean over the seven areas, 2019
PUBLISHED_MASE_7, PUBLISHED_MASE_84 = 0.66, 0.70
PUBLISHED = {"coverage80": 0.845, "coverage95": 0.965}
GOAL_80, GOAL_95 = (0.80, 0.85), (0.95, 0.97)
TIME_BUDGET_S = 300


def published_mase(h: int) -> float:
    """The paper reports 0.66 at h=7 rising to 0.70 at h=84; linear in between."""
    return PUBLISHED_MASE_7 + (PUBLISHED_MASE_84 - PUBLISHED_MASE_7) * (h - 7) / 77


def command(model: str, year: int, out: Path) -> list[str]:
    return [
        str(ROOT / ".venv" / "bin" / "python"), "-m", "rathaus.rescue", "evaluate",
        "--data", str(DATA), "--regions", REGIONS,
        "--test-from", f"{year}-01-01", "--test-to", f"{year}-12-31",
        "--model", model, "--json", str(out),
    ]  # fmt: skip


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def floor_by_horizon(year: int) -> dict[str, float]:
    """The Poisson floor (evaluation.poisson_floor), mean over the seven areas."""
    data = read_demand_csv(DATA)
    per_region = [
        poisson_floor(
            data.series(region),
            test_from=dt.date(year, 1, 1),
            test_to=dt.date(year, 12, 31),
            horizons=HORIZON_DAYS,
        )
        for region in REGIONS.split(",")
    ]
    return {str(h): sum(f[h] for f in per_region) / len(per_region) for h in HORIZON_DAYS}


def run(model: str, year: int) -> tuple[dict, float, str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cmd = command(model, year, out)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        started, cpu_before = time.perf_counter(), children_cpu_seconds()
        subprocess.run(cmd, check=True, env=env, cwd=ROOT)
        elapsed = time.perf_counter() - started
        cpu = children_cpu_seconds() - cpu_before
        shown = " ".join(cmd[1:]).replace(str(ROOT) + "/", "").replace(str(DATA), "CSV")
        shown = shown.replace(str(out), "OUT.json")
        return json.loads(out.read_text()), elapsed, f"python {shown}", cpu


def mase_row(label: str, report: dict) -> str:
    return f"| {label} | " + " | ".join(f"{report['mean']['mase'][h]:.3f}" for h in HORIZONS) + " |"


def main(argv: list[str]) -> int:
    if not DATA.exists():
        print(f"benchmark data absent: {DATA} (see ../shared/data/ems/SOURCE.md)")
        return 1
    load_before = os.getloadavg()
    strong, strong_s, strong_cmd, strong_cpu = run("calendar_regression", 2018)
    naive, naive_s, _, naive_cpu = run("seasonal_naive", 2018)
    floor = floor_by_horizon(2018)
    validation = None if "--skip-validation" in argv else run("calendar_regression", 2017)

    header = "| model | " + " | ".join(f"h={h}" for h in HORIZONS) + " |"
    rule = "|---|" + "---:|" * len(HORIZONS)
    published = (
        "| published (Prophet + Reg-ARIMA, 2019) | "
        + " | ".join(f"{published_mase(int(h)):.2f}" for h in HORIZONS)
        + " |"
    )
    lines = [
        "Data: `../shared/data/ems/swast_daily_responses_2013_2018.csv`, the seven areas "
        f"({REGIONS.replace(',', ', ')}); rolling origin every 7 days from 2018-01-01 while the "
        "84-day horizon ends by 2018-12-31 (41 folds per area), each fold trained on all data "
        "before its origin; MASE over the first h days, scaled by the fold's in-sample seasonal "
        "naive MAE (period 7); mean over the seven areas. The model (an average of three "
        "robust calendar regressions whose weekday, season and holiday coefficients are shrunk "
        "25 % towards the seven-area mean) and its settings were chosen on the validation years "
        "2016 and 2017 only (docs/modules/rescue.md, with every variant tried). Disclosure of "
        "earlier 2018 runs: the first version's first run (level decay 0.985) scored 0.712 "
        "(h=7) to 0.765 (h=84), its final one 0.712 to 0.735; the unpooled ensemble was run on "
        "2018 once before a holiday fix prompted by a unit test (0.707 to 0.722, unchanged "
        "after) and re-run once in a third round (no change, figures the same). A fourth round "
        "(2026-11-23: LightGBM, ARIMA errors, pooling across areas) chose the pooling on "
        "2016/2017; this is its one 2018 run.",
        "",
        f"Load average before the runs: {', '.join(f'{x:.1f}' for x in load_before)} "
        "(2 cores shared with other jobs).",
        "",
        "MASE per horizon (mean over areas, test year 2018):",
        "",
        header,
        rule,
        mase_row("pooled calendar regression ensemble (this module)", strong),
        mase_row("seasonal naive (baseline)", naive),
        published,
        "| Poisson floor (diagnostic, see below) | "
        + " | ".join(f"{floor[h]:.3f}" for h in HORIZONS)
        + " |",
        "",
        "The published figures are for 2019, a year not in this data; the 2018 and 2019 test "
        "years differ, so the comparison is indicative, not like for like.",
        "",
        "Poisson floor: the MASE an oracle that knew each day's true mean would reach if the "
        "counts were Poisson (`evaluation.poisson_floor`: sqrt(2 mu / pi) per day, the observed "
        "count standing in for mu, over the same folds and scale). It is a diagnostic beside "
        "the benchmark, computed from the data, with no model and no setting chosen by it. "
        "Overdispersion only raises the real floor.",
        "",
    ]
    misses = [h for h in HORIZONS if strong["mean"]["mase"][h] >= published_mase(int(h))]
    c80, c95 = strong["coverage80"], strong["coverage95"]
    lines += [
        "| coverage (all 84 days of every fold) | 80 % interval | 95 % interval |",
        "|---|---:|---:|",
        f"| pooled calendar regression ensemble, 2018 | {c80:.3f} | {c95:.3f} |",
        f"| seasonal naive, 2018 | {naive['coverage80']:.3f} | {naive['coverage95']:.3f} |",
        f"| published, 2019 | {PUBLISHED['coverage80']:.3f} | {PUBLISHED['coverage95']:.3f} |",
        "",
    ]
    if validation is not None:
        v = validation[0]
        v_floor = floor_by_horizon(2017)
        lines += [
            "Validation year 2017 (trained up to each origin, as above): MASE "
            + ", ".join(f"h={h} {v['mean']['mase'][h]:.3f}" for h in ("7", "28", "56", "84"))
            + f"; coverage 80 % {v['coverage80']:.3f}, 95 % {v['coverage95']:.3f}; "
            + f"Poisson floor {v_floor['7']:.3f} (h=7) … {v_floor['84']:.3f} (h=84).",
            "",
        ]
    lines += [
        f"Runtime of the whole evaluation (7 areas, 41 folds, fresh process): "
        f"**{strong_s:.1f} s** wall, {strong_cpu:.1f} s CPU (seasonal naive: {naive_s:.1f} s "
        f"wall, {naive_cpu:.1f} s CPU); budget {TIME_BUDGET_S} s: "
        f"{'met' if max(strong_s, strong_cpu) <= TIME_BUDGET_S else 'NOT met'}.",
        "",
        "Goal check (issue 8): beat the published MASE at every horizon: "
        + (
            "met."
            if not misses
            else f"NOT met at h={', '.join(misses)} (of {len(HORIZONS)} horizons)."
        )
        + f" 80 % coverage within {GOAL_80[0]:.2f}-{GOAL_80[1]:.2f}: "
        + ("met" if GOAL_80[0] <= c80 <= GOAL_80[1] else "NOT met")
        + f"; 95 % coverage within {GOAL_95[0]:.2f}-{GOAL_95[1]:.2f}: "
        + ("met" if GOAL_95[0] <= c95 <= GOAL_95[1] else "NOT met")
        + ".",
    ]
    write_section(
        "rescue",
        "preRESC (EMS demand forecasts)",
        "\n".join(lines),
        f".venv/bin/python bench/rescue_forecast.py  (runs: {strong_cmd})",
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
