"""Command line of preRESC: ``python -m rathaus.rescue {evaluate,forecast,staffing,import}``.

``evaluate``, ``forecast`` and ``staffing`` work on a CSV without a database. Django is set up
only for ``import`` and for ``forecast``/``staffing`` without ``--data`` (stored counts).
"""

from __future__ import annotations

import os

# Many small least-squares fits: one BLAS thread each is fastest, above all on a shared machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import csv
import datetime as dt
import io
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rathaus.rescue.demand import DEFAULT_TIME_ZONE, DailySeries, DemandFileError, read_demand_csv
from rathaus.rescue.evaluation import HORIZONS, evaluate_region, summarise
from rathaus.rescue.forecasting import (
    CalendarRegression,
    Forecast,
    ForecastModel,
    SeasonalNaive,
    first_forecast_day,
)
from rathaus.rescue.holiday_calendar import validate_calendar
from rathaus.rescue.staffing import ResponseTarget, StaffingInputs, plan_day


class UsageError(Exception):
    pass


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _model(name: str, calendar: str | None, peers: Sequence[DailySeries] = ()) -> ForecastModel:
    """The named model; ``peers`` (other regions) let the regression pool its shapes."""
    if name == "seasonal_naive":
        return SeasonalNaive()
    return CalendarRegression(calendar=calendar, peers=peers)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
    import django

    django.setup()


def _time_zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time zone (e.g. Europe/Berlin)"
        ) from None


def _load_series(args: argparse.Namespace) -> tuple[DailySeries, Any, str | None, dt.tzinfo]:
    """The series, hourly profile, holiday calendar and local time zone from --data or the
    database (--time-zone, else the configured one)."""
    if args.data:
        time_zone = args.time_zone or DEFAULT_TIME_ZONE
        data = read_demand_csv(args.data, time_zone=time_zone)
        try:
            series = data.series(args.region)
        except KeyError as exc:
            raise UsageError(exc.args[0]) from None
        return series, data.hourly_profiles.get(args.region), args.holidays, time_zone
    _setup_django()
    from django.utils import timezone

    from rathaus.rescue import selectors
    from rathaus.rescue.models import Region

    region = Region.objects.filter(name=args.region).first()
    if region is None:
        raise UsageError(f"region {args.region!r} is not in the database; import it first")
    stored = selectors.daily_series(region=region)
    if stored is None:
        raise UsageError(f"region {args.region!r} has no daily counts")
    profile = selectors.hourly_profile(region=region)
    time_zone = args.time_zone or timezone.get_default_timezone()
    return stored, profile, args.holidays or region.holiday_calendar, time_zone


def cmd_evaluate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    data = read_demand_csv(args.data)
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    if not regions:
        raise UsageError("--regions names at least one region")
    try:
        all_series = [data.series(region) for region in regions]
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    # one model for all regions: the regression shrinks each region's shapes towards theirs
    model = _model(args.model, args.holidays, peers=all_series)
    scores = []
    for series in all_series:
        try:
            scores.append(
                evaluate_region(
                    model,
                    series,
                    test_from=args.test_from,
                    test_to=args.test_to,
                    horizons=HORIZONS,
                )
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    report = summarise(scores)
    report.update(
        {
            "model": args.model,
            "data": str(args.data),
            "test_from": args.test_from.isoformat(),
            "test_to": args.test_to.isoformat(),
            "runtime_seconds": round(time.perf_counter() - started, 2),
        }
    )
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    mean = report["mean"]["mase"]
    print(
        f"MASE h=7 {mean['7']:.3f} … h=84 {mean['84']:.3f}; coverage 80% "
        f"{report['coverage80']:.3f}, 95% {report['coverage95']:.3f}; "
        f"{report['runtime_seconds']} s -> {args.json}"
    )
    return 0


def _forecast(args: argparse.Namespace) -> tuple[Forecast, Any, dt.tzinfo]:
    series, profile, calendar, time_zone = _load_series(args)
    model = _model(args.model, calendar)
    try:
        origin = args.origin or first_forecast_day(series)
        forecast = model.forecast(series, origin=origin, horizon=args.horizon)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if forecast.approximate_intervals:
        print(
            "note: the intervals are approximate: too few past forecast errors to calibrate "
            "them (a short history, or a long gap in the data of the year before)",
            file=sys.stderr,
        )
    return forecast, profile, time_zone


def cmd_forecast(args: argparse.Namespace) -> int:
    fc, _profile, _time_zone = _forecast(args)
    buffer = io.StringIO()
    if args.format == "json":
        document = {
            "region": fc.region,
            "model": fc.model,
            "approximate_intervals": fc.approximate_intervals,
            "rows": fc.rows(),
        }
        json.dump(document, buffer, indent=2)
        buffer.write("\n")
    else:
        rows = fc.rows()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if args.out:
        Path(args.out).write_text(buffer.getvalue(), encoding="utf-8")
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def _staffing_arguments(args: argparse.Namespace) -> tuple[ResponseTarget, StaffingInputs]:
    """The response target and staffing inputs, or a UsageError naming the option at fault."""

    def check(option: str, value: float, ok: bool, what: str) -> None:
        if not (math.isfinite(value) and ok):
            raise UsageError(f"{option} must be {what}, not {value:g}")

    day = 24 * 60
    check(
        "--target-minutes",
        args.target_minutes,
        0 < args.target_minutes <= day,
        "above 0, up to 1440",
    )
    check("--target-share", args.target_share, 0 < args.target_share < 1, "above 0 and below 1")
    check("--job-minutes", args.job_minutes, 0 < args.job_minutes <= day, "above 0, up to 1440")
    check("--drive-minutes", args.drive_minutes, args.drive_minutes >= 0, "0 or more")
    check("--shrinkage", args.shrinkage, 0 <= args.shrinkage < 1, "0 or more and below 1")
    if args.drive_minutes >= args.target_minutes:
        raise UsageError(
            f"--drive-minutes ({args.drive_minutes:g}) must be shorter than --target-minutes "
            f"({args.target_minutes:g})"
        )
    if args.seed < 0:
        raise UsageError(f"--seed must be 0 or more, not {args.seed}")
    target = ResponseTarget(minutes=args.target_minutes, share=args.target_share)
    inputs = StaffingInputs(
        job_minutes=args.job_minutes, drive_minutes=args.drive_minutes, shrinkage=args.shrinkage
    )
    return target, inputs


def cmd_staffing(args: argparse.Namespace) -> int:
    target, inputs = _staffing_arguments(args)
    fc, profile, time_zone = _forecast(args)
    day_index = (args.day - fc.start).days if args.day else 0
    if not 0 <= day_index < len(fc.mean):
        raise UsageError("--day lies outside the forecast")
    daily = {"mean": fc.mean, "upper80": fc.upper80, "upper95": fc.upper95}[args.plan_for]
    try:
        plans = plan_day(
            day=fc.dates()[day_index],
            time_zone=time_zone,
            daily_calls=float(daily[day_index]),
            profile=profile,
            target=target,
            inputs=inputs,
            simulate=args.simulate,
            seed=args.seed,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    writer = csv.writer(sys.stdout)
    writer.writerow(
        ["hour", "calls", "ambulances", "positions", "share_in_time", "simulated", "utc_offset"]
    )
    for p in plans:  # one row per real hour: 23 or 25 on the days the clocks change
        sim = "" if p.simulated_share_in_time is None else f"{p.simulated_share_in_time:.4f}"
        writer.writerow(
            [
                p.hour,
                f"{p.calls:.2f}",
                p.ambulances,
                p.positions,
                f"{p.share_in_time:.4f}",
                sim,
                p.utc_offset,
            ]
        )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    _setup_django()
    from django.utils import timezone

    from rathaus.rescue import services
    from rathaus.rescue.incidents import read_incidents_csv

    if args.demand:
        data = read_demand_csv(args.demand, time_zone=timezone.get_default_timezone())
        result = services.import_demand(data=data, actor=None)
        print(f"demand: {result.rows} days in {result.regions} region(s)")
    if args.incidents:
        records = read_incidents_csv(args.incidents)
        result = services.import_incidents(records=records, actor=None)
        print(
            f"incidents: {result.rows} in {result.regions} region(s), "
            f"{result.skipped} skipped (stored already)"
        )
    if not (args.demand or args.incidents):
        raise UsageError("give --demand CSV and/or --incidents CSV")
    return 0


def _calendar(text: str) -> str:
    try:
        return validate_calendar(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rathaus.rescue", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    models = ["calendar_regression", "seasonal_naive"]

    ev = sub.add_parser("evaluate", help="rolling-origin evaluation as the published benchmark")
    ev.add_argument("--data", required=True, help="daily demand CSV (date,region,responses)")
    ev.add_argument("--regions", required=True, help="comma-separated region names")
    ev.add_argument("--test-from", required=True, type=_date)
    ev.add_argument("--test-to", required=True, type=_date)
    ev.add_argument("--json", required=True, help="where to write the report")
    ev.add_argument("--model", choices=models, default="calendar_regression")
    ev.add_argument(
        "--holidays",
        type=_calendar,
        default=None,
        help="holiday calendar, e.g. DE-NW or GB-ENG (default: by region name)",
    )
    ev.set_defaults(func=cmd_evaluate)

    for name, func, helptext in (
        ("forecast", cmd_forecast, "daily forecast with 80 %% and 95 %% intervals"),
        ("staffing", cmd_staffing, "ambulances per hour for one forecast day (Erlang C)"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--data", help="daily or hourly demand CSV; without it: the database")
        p.add_argument("--region", required=True)
        p.add_argument("--horizon", type=int, default=84)
        p.add_argument("--origin", type=_date, help="first forecast day (default: after the data)")
        p.add_argument("--model", choices=models, default="calendar_regression")
        p.add_argument("--holidays", type=_calendar, default=None)
        p.add_argument(
            "--time-zone",
            type=_time_zone,
            default=None,
            help="local time of hourly data and of the staffed day's hours (default: "
            "Europe/Berlin, or the configured TIME_ZONE without --data)",
        )
        p.set_defaults(func=func)
        if name == "forecast":
            p.add_argument("--format", choices=["csv", "json"], default="csv")
            p.add_argument("--out", help="file to write (default: standard output)")
        else:
            p.add_argument("--day", type=_date, help="forecast day to plan (default: the first)")
            p.add_argument("--plan-for", choices=["mean", "upper80", "upper95"], default="upper80")
            p.add_argument("--target-minutes", type=float, default=8.0)
            p.add_argument("--target-share", type=float, default=0.90)
            p.add_argument("--job-minutes", type=float, default=60.0)
            p.add_argument("--drive-minutes", type=float, default=5.0)
            p.add_argument("--shrinkage", type=float, default=0.0)
            p.add_argument("--simulate", action="store_true")
            p.add_argument("--seed", type=int, default=0)

    im = sub.add_parser("import", help="store demand and incident CSVs in the database")
    im.add_argument("--demand")
    im.add_argument("--incidents")
    im.set_defaults(func=cmd_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "horizon", 1) < 1 or getattr(args, "horizon", 1) > 730:
        parser.error("--horizon must be between 1 and 730 days")
    try:
        return int(args.func(args))
    except DemandFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (UsageError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
