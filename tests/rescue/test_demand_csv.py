import datetime as dt
import json
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.utils import translation

from rathaus.rescue.demand import DemandFileError, parse_demand_text, read_demand_csv
from rathaus.rescue.incidents import read_incidents, read_incidents_csv, share_in_time


def test_daily_csv_is_read_per_region_with_gaps_as_nan_and_zeros_kept():
    data = parse_demand_text(
        "date,region,responses\n"
        "2024-01-01,Aachen,10\n2024-01-02,Aachen,0\n2024-01-04,Aachen,12\n"
        "2024-01-01,Düren,5\n"
    )
    aachen = data.series("Aachen")
    assert aachen.start == dt.date(2024, 1, 1)
    assert aachen.values[0] == 10 and aachen.values[1] == 0
    assert np.isnan(aachen.values[2])
    assert aachen.values[3] == 12
    assert data.series("Düren").values.tolist() == [5.0]


def test_every_malformed_row_is_reported_with_its_line_and_reason():
    with pytest.raises(DemandFileError) as info:
        parse_demand_text(
            "date,region,responses\n"
            "2024-01-01,Aachen,10\n"
            "2024-13-01,Aachen,10\n"  # line 3: bad date
            "2024-01-02,Aachen,ten\n"  # line 4: not a number
            "2024-01-03,Aachen,-1\n"  # line 5: negative
            "2024-01-04,Aachen\n"  # line 6: too few fields
            "2024-01-01,Aachen,11\n"  # line 7: duplicate
            "2024-01-05,,3\n"  # line 8: empty region
        )
    errors = {e.line: e.reason for e in info.value.errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]
    assert "ISO date" in errors[3]
    assert "'ten'" in errors[4]
    assert "outside" in errors[5]
    assert "expected 3 fields" in errors[6]
    assert "duplicate" in errors[7]
    assert "region is empty" in errors[8]
    assert "line 3" in str(info.value)


def test_missing_columns_are_named():
    with pytest.raises(DemandFileError, match="missing column"):
        parse_demand_text("day,region,n\n2024-01-01,A,1\n")


def test_hourly_csv_sums_to_days_and_yields_a_profile():
    rows = ["date,hour,region,calls"]
    for hour in range(24):
        rows.append(f"2024-01-01,{hour},Aachen,{2 if hour >= 12 else 1}")
    rows.append("2024-01-02,25,Aachen,1")
    with pytest.raises(DemandFileError, match="hour '25'"):
        parse_demand_text("\n".join(rows))
    data = parse_demand_text("\n".join(rows[:-1]))
    assert data.series("Aachen").values.tolist() == [36.0]
    profile = data.hourly_profiles["Aachen"]
    assert profile.sum() == pytest.approx(1.0)
    assert profile[13] == pytest.approx(2 / 36)


def _hourly_day(day: str, *, extra: list[str]) -> str:
    rows = ["date,hour,region,calls"]
    rows += [f"{day},{hour},Aachen,{2 if hour >= 12 else 1}" for hour in range(24)]
    return "\n".join(rows + extra) + "\n"


def test_the_hour_that_occurs_twice_when_summer_time_ends_may_have_two_rows():
    # local time, 2025-10-26: 02:00-03:00 runs first in summer time, then in standard time
    data = parse_demand_text(_hourly_day("2025-10-26", extra=["2025-10-26,2,Aachen,4"]))
    assert data.series("Aachen").values.tolist() == [36.0 + 4.0]
    assert data.hourly_profiles["Aachen"][2] == pytest.approx((1 + 4) / 40)


@pytest.mark.parametrize(
    ("day", "extra", "line"),
    [
        # a third row for the repeated hour
        ("2025-10-26", ["2025-10-26,2,Aachen,4", "2025-10-26,2,Aachen,5"], 27),
        # another hour of that day
        ("2025-10-26", ["2025-10-26,3,Aachen,4"], 26),
        # hour 2 of an ordinary day, and of the day summer time begins (02:00 does not exist)
        ("2025-10-27", ["2025-10-27,2,Aachen,4"], 26),
        ("2025-03-30", ["2025-03-30,2,Aachen,4"], 26),
    ],
)
def test_every_other_repeated_hour_stays_a_duplicate(day, extra, line):
    with pytest.raises(DemandFileError) as info:
        parse_demand_text(_hourly_day(day, extra=extra))
    assert [e.line for e in info.value.errors] == [line]
    assert "duplicate row for Aachen" in info.value.errors[0].reason


def test_the_repeated_hour_depends_on_the_configured_time_zone():
    text = _hourly_day("2025-10-26", extra=["2025-10-26,2,Aachen,4"])
    with pytest.raises(DemandFileError, match="line 26: duplicate row"):
        parse_demand_text(text, time_zone=ZoneInfo("UTC"))
    # New York goes back at 02:00 on 2 November 2025: its repeated hour is 01:00
    text = _hourly_day("2025-11-02", extra=["2025-11-02,1,Aachen,4"])
    assert parse_demand_text(text, time_zone=ZoneInfo("America/New_York")).series(
        "Aachen"
    ).values.tolist() == [40.0]


def test_a_daily_file_never_has_two_rows_for_a_day_even_when_the_clocks_change():
    with pytest.raises(DemandFileError, match="line 3: duplicate row for Aachen on 2025-10-26"):
        parse_demand_text("date,region,responses\n2025-10-26,Aachen,1\n2025-10-26,Aachen,1\n")


def test_incidents_are_read_and_the_kpi_uses_the_urban_or_rural_target():
    records = read_incidents(
        [
            "time,region,location,area,response_minutes\n",
            "2024-01-01T10:00:00,Aachen,Markt 1,urban,7.5\n",
            "2024-01-01T11:00:00,Aachen,Markt 2,urban,8.5\n",
            "2024-01-01T12:00:00,Aachen,Dorf 3,rural,11.0\n",
            "2024-01-01T13:00:00,Aachen,Dorf 4,rural,12.5\n",
        ]
    )
    assert len(records) == 4
    assert share_in_time(records) == pytest.approx(0.5)


def test_malformed_incident_rows_are_reported():
    with pytest.raises(DemandFileError) as info:
        read_incidents(
            [
                "time,region,location,area,response_seconds\n",
                "yesterday,Aachen,Markt,urban,300\n",
                "2024-01-01T10:00,Aachen,Markt,suburban,300\n",
                "2024-01-01T10:00,Aachen,Markt,urban,fast\n",
            ]
        )
    assert [e.line for e in info.value.errors] == [2, 3, 4]


def test_admin_region_form_rejects_unknown_calendars_and_bad_profiles(db):
    from rathaus.rescue.admin import RegionForm

    form = RegionForm(
        data={
            "name": "Aachen",
            "area": "urban",
            "holiday_calendar": "XX-YY",
            "hourly_profile": "[1, 2]",
        }
    )
    assert not form.is_valid()
    assert set(form.errors) == {"holiday_calendar", "hourly_profile"}
    ok = RegionForm(
        data={
            "name": "Aachen",
            "area": "rural",
            "holiday_calendar": "de-by",
            "hourly_profile": str([1] * 24),
        }
    )
    assert ok.is_valid(), ok.errors
    assert ok.cleaned_data["holiday_calendar"] == "DE-BY"
    assert sum(ok.cleaned_data["hourly_profile"]) == pytest.approx(1.0, abs=1e-4)


def test_a_file_that_is_not_utf8_is_refused_with_its_line_and_byte(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("date,region,responses\n2024-01-01,Düren,5\n".encode("latin-1"))
    with pytest.raises(DemandFileError) as info:
        read_demand_csv(path)
    assert [e.line for e in info.value.errors] == [2]
    assert "byte 0xfc at position 13 is not UTF-8" in info.value.errors[0].reason
    assert str(info.value).startswith(f"{path}: ")
    incidents = tmp_path / "incidents.csv"
    incidents.write_bytes(
        "time,region,location,response_minutes\n2024-01-01T10:00,Düren,x,7\n".encode("cp1252")
    )
    with pytest.raises(DemandFileError, match="line 2: byte 0xfc"):
        read_incidents_csv(incidents)


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("date,region,responses\r\n2024-01-01,Düren,5\r\n".encode("utf-8-sig"))
    assert read_demand_csv(path).series("Düren").values.tolist() == [5.0]


def test_a_field_beyond_the_csv_limit_is_reported_and_the_other_rows_still_checked():
    with pytest.raises(DemandFileError) as info:
        parse_demand_text(
            'date,region,responses\n2024-01-01,"' + "x" * 200_000 + '",5\n2024-01-02,A,ten\n'
        )
    errors = {e.line: e.reason for e in info.value.errors}
    assert sorted(errors) == [2, 3]
    assert "field larger than field limit" in errors[2]
    assert "'ten'" in errors[3]
    with pytest.raises(DemandFileError, match="line 2: not readable as CSV"):
        read_incidents(
            ["time,region,location,response_minutes\n", '2024-01-01T10:00,A,"' + "x" * 200_000]
        )


def test_dates_outside_1900_to_2200_are_refused_at_import():
    with pytest.raises(DemandFileError) as info:
        parse_demand_text(
            "date,region,responses\n"
            "2024-01-01,Aachen,10\n"
            "9999-12-31,Aachen,10\n"  # the day after would not exist
            "0001-01-01,Aachen,10\n"
            "2200-12-31,Aachen,10\n"  # the last day accepted
        )
    assert [e.line for e in info.value.errors] == [3, 4]
    assert "date 9999-12-31 is outside 1900-01-01 to 2200-12-31" in str(info.value)
    with pytest.raises(DemandFileError) as incidents:
        read_incidents(
            [
                "time,region,location,response_minutes\n",
                "0001-01-01T00:00,Aachen,x,7\n",  # cannot be stored in UTC
                "9999-12-31T23:59+00:00,Aachen,x,7\n",
                "1900-01-01T00:00,Aachen,x,7\n",
            ]
        )
    assert [e.line for e in incidents.value.errors] == [2, 3]
    assert "time 0001-01-01 is outside 1900-01-01 to 2200-12-31" in str(incidents.value)


def test_region_names_longer_than_the_database_column_are_refused():
    long_name = "A" * 121
    with pytest.raises(DemandFileError, match="line 2: the region name is longer than 120"):
        parse_demand_text(f"date,region,responses\n2024-01-01,{long_name},1\n")
    with pytest.raises(DemandFileError, match="line 2: the region name is longer than 120"):
        read_incidents(
            ["time,region,location,response_minutes\n", f"2024-01-01T10:00,{long_name},x,7\n"]
        )


def test_error_messages_quote_a_huge_cell_only_in_part():
    with pytest.raises(DemandFileError) as info:
        parse_demand_text("date,region,responses\n2024-01-01,A," + "9" * 100_000 + "\n")
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ([1e308] * 24, "too large to add up"),  # the sum overflows to infinity
        ("[1e999" + ", 1" * 23 + "]", "too large to add up"),  # JSON reads 1e999 as infinity
        ("[NaN" + ", 1" * 23 + "]", "24 non-negative shares"),
        ([0] * 24, "not all 0"),
        ([True] * 24, "24 non-negative shares"),
    ],
)
def test_admin_region_form_refuses_profiles_no_plan_can_use(db, profile, message):
    from rathaus.rescue.admin import RegionForm

    text = profile if isinstance(profile, str) else json.dumps(profile)
    data = {"name": "Aachen", "area": "urban", "holiday_calendar": "DE-NW", "hourly_profile": text}
    with translation.override("en"):
        form = RegionForm(data=data)
        assert not form.is_valid()
        assert message in form.errors["hourly_profile"][0]
    with translation.override("de"):
        form = RegionForm(data=data)
        assert not form.is_valid()
        assert "Anteile" in form.errors["hourly_profile"][0]
