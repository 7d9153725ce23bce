import datetime as dt

import numpy as np
import pytest

from rathaus.rescue.demand import DemandFileError, parse_demand_text
from rathaus.rescue.incidents import read_incidents, share_in_time


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
