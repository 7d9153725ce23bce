import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rathaus.rescue.__main__ import main
from tests.rescue.synthetic import outage_series, synthetic_series, to_csv

REAL_DATA = (
    Path(__file__).resolve().parents[3] / "shared/data/ems/swast_daily_responses_2013_2018.csv"
)


@pytest.fixture
def demand_csv(tmp_path):
    text = (
        to_csv(synthetic_series("Aachen", days=3 * 365))
        + to_csv(synthetic_series("Düren", days=3 * 365, level=90, seed=2)).split("\n", 1)[1]
    )
    path = tmp_path / "demand.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_evaluate_writes_mase_per_horizon_and_region_and_coverage(demand_csv, tmp_path):
    out = tmp_path / "report.json"
    code = main(
        [
            "evaluate",
            "--data",
            str(demand_csv),
            "--regions",
            "Aachen,Düren",
            "--test-from",
            "2022-01-03",
            "--test-to",
            "2022-12-31",
            "--json",
            str(out),
            "--holidays",
            "DE-NW",
        ]
    )
    assert code == 0
    report = json.loads(out.read_text())
    assert report["horizons"] == list(range(7, 85, 7))
    assert set(report["regions"]) == {"Aachen", "Düren"}
    assert set(report["regions"]["Aachen"]["mase"]) == {str(h) for h in range(7, 85, 7)}
    mean7 = report["mean"]["mase"]["7"]
    regions7 = [report["regions"][r]["mase"]["7"] for r in ("Aachen", "Düren")]
    assert mean7 == pytest.approx(sum(regions7) / 2, abs=1e-4)
    assert 0 < report["coverage80"] < report["coverage95"] <= 1


def test_evaluate_reports_an_unknown_region_without_a_traceback(demand_csv, tmp_path, capsys):
    code = main(
        [
            "evaluate",
            "--data",
            str(demand_csv),
            "--regions",
            "Köln",
            "--test-from",
            "2022-01-03",
            "--test-to",
            "2022-12-31",
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert code == 2
    assert "'Köln' is not in the data" in capsys.readouterr().err


def test_evaluate_names_malformed_rows(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,region,responses\n2024-01-01,A,1\n2024-01-02,A,x\n", encoding="utf-8")
    code = main(
        [
            "evaluate",
            "--data",
            str(bad),
            "--regions",
            "A",
            "--test-from",
            "2024-01-01",
            "--test-to",
            "2024-12-31",
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert code == 2
    assert "line 3: count 'x' is not a whole number" in capsys.readouterr().err


def test_forecast_command_prints_csv_with_intervals(demand_csv, capsys):
    assert (
        main(["forecast", "--data", str(demand_csv), "--region", "Aachen", "--horizon", "14"]) == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "date,mean,lower80,upper80,lower95,upper95"
    assert len(lines) == 15
    first_day = synthetic_series(days=3 * 365).end + dt.timedelta(days=1)
    assert lines[1].startswith(first_day.isoformat())


def test_module_runs_as_a_script_without_a_database(demand_csv, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rathaus.rescue",
            "staffing",
            "--data",
            str(demand_csv),
            "--region",
            "Aachen",
            "--simulate",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "PATH": "/usr/bin"},
    )
    assert result.returncode == 0, result.stderr
    rows = result.stdout.strip().splitlines()
    assert rows[0].startswith("hour,calls,ambulances")
    assert len(rows) == 25


@pytest.mark.skipif(not REAL_DATA.exists(), reason=f"benchmark data absent: {REAL_DATA}")
def test_published_benchmark_data_parses_with_all_seven_areas():
    from rathaus.rescue.demand import read_demand_csv

    data = read_demand_csv(REAL_DATA)
    for area in (
        "BNSSG",
        "Cornwall",
        "Devon",
        "Dorset",
        "Gloucestershire",
        "Somerset",
        "Wiltshire",
    ):
        assert data.series(area).end == dt.date(2018, 12, 31)


@pytest.mark.django_db
def test_import_then_forecast_and_staff_from_the_database(demand_csv, tmp_path, capsys):
    from rathaus.rescue.models import DailyCount, Incident

    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        "time,region,location,area,response_seconds\n"
        "2022-12-01T08:15:00,Aachen,Markt 1,urban,420\n"
        "2022-12-01T20:15:00,Aachen,Dorf 2,rural,800\n",
        encoding="utf-8",
    )
    assert main(["import", "--demand", str(demand_csv), "--incidents", str(incidents)]) == 0
    assert DailyCount.objects.filter(region__name="Aachen").count() == 3 * 365
    assert Incident.objects.count() == 2
    capsys.readouterr()
    assert main(["forecast", "--region", "Aachen", "--horizon", "7", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["region"] == "Aachen" and len(report["rows"]) == 7
    assert main(["staffing", "--region", "Aachen", "--plan-for", "mean"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    # two incidents are too few to shape the day: the calls are spread evenly
    calls = {int(r.split(",")[0]): float(r.split(",")[1]) for r in rows[1:]}
    assert calls[3] > 0 and calls[3] == calls[8] == calls[20]


def test_evaluate_pools_the_regression_across_the_listed_regions(demand_csv, tmp_path):
    def aachen_mase(regions, model):
        out = tmp_path / f"{model}-{regions}.json"
        args = ["evaluate", "--data", str(demand_csv), "--regions", regions]
        args += ["--test-from", "2022-09-01", "--test-to", "2022-12-31", "--json", str(out)]
        assert main([*args, "--model", model, "--holidays", "DE-NW"]) == 0
        return json.loads(out.read_text())["regions"]["Aachen"]["mase"]

    # the regression shrinks Aachen's shapes towards Düren's; the baseline is per region
    assert aachen_mase("Aachen", "calendar_regression") != aachen_mase(
        "Aachen,Düren", "calendar_regression"
    )
    assert aachen_mase("Aachen", "seasonal_naive") == aachen_mase("Aachen,Düren", "seasonal_naive")


def test_a_demand_file_that_is_not_utf8_ends_with_an_error_naming_file_and_line(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("date,region,responses\n2024-01-01,Düren,5\n".encode("latin-1"))
    assert main(["forecast", "--data", str(path), "--region", "Düren"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ")
    assert "line 2: byte 0xfc at position 13 is not UTF-8" in err


def test_a_cell_beyond_the_csv_field_limit_ends_with_an_error(tmp_path, capsys):
    path = tmp_path / "big.csv"
    path.write_text('date,region,responses\n2024-01-01,"' + "x" * 200_000 + '",5\n')
    assert main(["forecast", "--data", str(path), "--region", "x"]) == 2
    assert "line 2: not readable as CSV: field larger than field limit" in capsys.readouterr().err


def test_demand_up_to_9999_12_31_is_refused_with_the_row(tmp_path, capsys):
    last = dt.date(9999, 12, 31)
    rows = [f"{last - dt.timedelta(days=99 - i)},Aachen,{100 + i % 7}" for i in range(100)]
    path = tmp_path / "demand.csv"
    path.write_text("date,region,responses\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert main(["forecast", "--data", str(path), "--region", "Aachen", "--horizon", "7"]) == 2
    assert "line 2: date 9999-09-23 is outside 1900-01-01 to 2200-12-31" in capsys.readouterr().err


def test_a_forecast_origin_beyond_the_supported_dates_is_refused(demand_csv, capsys):
    args = ["forecast", "--data", str(demand_csv), "--region", "Aachen", "--origin", "9999-12-01"]
    assert main(args) == 2
    assert "leaves the supported dates" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--target-minutes", "8", "--drive-minutes", "9"], "--drive-minutes (9) must be shorter"),
        (["--target-minutes", "8", "--drive-minutes", "8"], "--drive-minutes (8) must be shorter"),
        (["--target-share", "1.5"], "--target-share must be above 0 and below 1, not 1.5"),
        (["--target-share", "0"], "--target-share must be above 0"),
        (["--shrinkage", "1"], "--shrinkage must be 0 or more and below 1, not 1"),
        (["--shrinkage", "nan"], "--shrinkage must be"),
        (["--job-minutes", "0"], "--job-minutes must be above 0"),
        (["--target-minutes", "-1"], "--target-minutes must be above 0"),
        (["--drive-minutes", "-1"], "--drive-minutes must be 0 or more"),
        (["--seed", "-1"], "--seed must be 0 or more"),
    ],
)
def test_staffing_options_no_plan_can_use_end_with_an_error(demand_csv, capsys, options, message):
    args = ["staffing", "--data", str(demand_csv), "--region", "Aachen", *options]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_staffing_a_region_that_fell_silent_plans_no_expected_emergencies(tmp_path, capsys):
    # 200 days of 3 emergencies, then 100 without: the forecast must not turn negative
    start = dt.date(2023, 1, 2)
    rows = [f"{start + dt.timedelta(days=i)},Monschau,{3 if i < 200 else 0}" for i in range(300)]
    path = tmp_path / "monschau.csv"
    path.write_text("date,region,responses\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert main(["staffing", "--data", str(path), "--region", "Monschau", "--horizon", "7"]) == 0
    hours = [r.split(",") for r in capsys.readouterr().out.strip().splitlines()[1:]]
    assert len(hours) == 25  # the first forecast day, 2023-10-29, is the end of summer time
    assert {(h[1], h[2]) for h in hours} == {("0.00", "1")}


@pytest.mark.django_db
def test_import_of_incidents_not_in_utf8_or_from_year_one_ends_with_an_error(tmp_path, capsys):
    from rathaus.rescue.models import Incident

    latin = tmp_path / "incidents-cp1252.csv"
    latin.write_bytes(
        "time,region,location,response_minutes\n2024-01-01T10:00,Düren,x,7\n".encode("cp1252")
    )
    assert main(["import", "--incidents", str(latin)]) == 2
    assert f"error: {latin}: 1 malformed row(s): line 2: byte 0xfc" in capsys.readouterr().err
    early = tmp_path / "incidents-year-one.csv"
    early.write_text("time,region,location,response_minutes\n0001-01-01T00:00,Aachen,x,7\n")
    assert main(["import", "--incidents", str(early)]) == 2
    assert "line 2: time 0001-01-01 is outside" in capsys.readouterr().err
    assert not Incident.objects.exists()


def test_a_region_with_a_long_data_outage_is_forecast_with_approximate_intervals(tmp_path, capsys):
    path = tmp_path / "outage.csv"
    path.write_text(to_csv(outage_series()), encoding="utf-8")
    args = ["forecast", "--data", str(path), "--region", "Aachen", "--horizon", "14"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 15
    assert "note: the intervals are approximate" in captured.err
    assert main([*args, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["approximate_intervals"] is True
    assert main(["staffing", "--data", str(path), "--region", "Aachen", "--horizon", "14"]) == 0


def test_staffing_the_day_summer_time_ends_plans_25_hours(tmp_path, capsys):
    path = tmp_path / "demand.csv"
    path.write_text(to_csv(synthetic_series(start=dt.date(2024, 9, 8), days=400)))
    args = ["staffing", "--data", str(path), "--region", "Aachen", "--horizon", "28"]
    assert main([*args, "--day", "2025-10-26"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].endswith(",utc_offset")
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 25
    assert [(r[0], r[-1]) for r in rows[2:4]] == [("2", "+02:00"), ("2", "+01:00")]
    # the same day on a clock without summer time has 24 hours
    assert main([*args, "--day", "2025-10-26", "--time-zone", "UTC"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 25
    with pytest.raises(SystemExit) as refused:
        main([*args, "--time-zone", "Mars/Olympus"])
    assert refused.value.code == 2
    assert "'Mars/Olympus' is not a time zone" in capsys.readouterr().err
