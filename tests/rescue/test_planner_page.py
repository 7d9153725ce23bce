import datetime as dt
import time
from html.parser import HTMLParser

import numpy as np
import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from rathaus.core.models import AuditEvent
from rathaus.rescue.demand import DailySeries, DemandData, parse_demand_text
from rathaus.rescue.models import DailyCount, Region, StoredForecast
from rathaus.rescue.services import compute_forecast, import_demand, store_forecast
from tests.rescue.synthetic import outage_series, synthetic_series, to_csv

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.rescue.urls")]
URL = "/backoffice/rettungsdienst/"
User = get_user_model()


@pytest.fixture
def region(db):
    data = parse_demand_text(to_csv(synthetic_series("Aachen", days=400)))
    import_demand(data=data, actor=None)
    return Region.objects.get(name="Aachen")


def login_with_second_factor(client, user):
    """Staff need a TOTP authenticator and a session confirmed with it (accounts middleware).
    A planner also plans every region that exists at that moment (``Region.planners``)."""
    if not user.is_superuser:
        for region in Region.objects.all():
            region.planners.add(user)
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(user)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "mfa", "type": "totp", "at": time.time()}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


class _Elements(HTMLParser):
    """The attributes of every element of a page, in order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def by_name(self, name: str) -> dict[str, str | None]:
        return next(attrs for _, attrs in self.elements if attrs.get("name") == name)


PARAMS = {
    "horizon": 14,
    "model": "seasonal_naive",
    "plan_for": "mean",
    "target_share": 0.9,
    "job_minutes": 60,
    "drive_minutes": 5,
    "shrinkage": 0,
}


@pytest.fixture
def planner(db):
    user = User.objects.create_user("planer@example.org", password="pw", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="planner")[0])
    return user


def test_import_stores_counts_and_audits(region):
    assert DailyCount.objects.filter(region=region).count() == 400
    assert region.holiday_calendar == "DE-NW"
    assert AuditEvent.objects.filter(action="rescue.demand_imported").count() == 1


def test_stored_forecast_is_audited(region):
    fc = compute_forecast(region=region, horizon=7)
    stored = store_forecast(region=region, forecast=fc, actor=None)
    assert StoredForecast.objects.get().rows[0]["date"] == fc.start.isoformat()
    assert AuditEvent.objects.filter(action="rescue.forecast_stored", object_id=str(stored.pk))


def test_anonymous_user_is_sent_to_login(client, region):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/konto/" in response["Location"]


def test_staff_outside_the_planner_group_is_refused(client, region):
    clerk = User.objects.create_user("clerk@example.org", password="pw", is_staff=True)
    clerk.groups.add(Group.objects.get_or_create(name="clerk")[0])
    login_with_second_factor(client, clerk)
    assert client.get(URL).status_code == 403


def test_citizen_is_refused(client, region):
    citizen = User.objects.create_user("citizen@example.org", password="pw")
    client.force_login(citizen)
    assert client.get(URL).status_code == 403


def test_planner_sees_plot_staffing_and_kpi(client, region, planner):
    login_with_second_factor(client, planner)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and "<polygon" in html
    main = html[html.index("<main") : html.index("</main>")]
    assert "<script" not in main and "style=" not in main  # strict CSP: no inline code
    assert html.count("<tr>") >= 24
    assert "Aachen" in html


def test_superuser_may_export_forecast_and_staffing_csv(client, region):
    admin = User.objects.create_superuser("admin@example.org", password="pw")
    login_with_second_factor(client, admin)
    params = {
        "region": region.pk,
        "horizon": 14,
        "model": "calendar_regression",
        "plan_for": "upper80",
        "target_share": 0.9,
        "job_minutes": 60,
        "drive_minutes": 5,
        "shrinkage": 0,
    }
    response = client.get(URL, {**params, "export": "forecast"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[0] == "region,model,date,mean,lower80,upper80,lower95,upper95"
    assert len(lines) == 15
    first = synthetic_series(days=400).end + dt.timedelta(days=1)
    assert lines[1].startswith(f"Aachen,calendar_regression,{first.isoformat()}")
    staffing = client.get(URL, {**params, "export": "staffing"}).content.decode().splitlines()
    assert len(staffing) == 25


def test_bad_input_shows_messages_next_to_the_fields_and_keeps_it(client, region, planner):
    login_with_second_factor(client, planner)
    response = client.get(
        URL,
        {
            "region": region.pk,
            "horizon": "abc",
            "model": "calendar_regression",
            "plan_for": "upper80",
            "target_share": "0.9",
            "job_minutes": "60",
            "drive_minutes": "9",
            "target_minutes": "8",
            "shrinkage": "0",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_horizon_error"' in html
    assert 'value="abc"' in html
    assert "shorter than the response-time target" in html


def test_day_outside_the_forecast_is_a_form_error_not_a_500(client, region, planner):
    login_with_second_factor(client, planner)
    response = client.get(
        URL,
        {
            "region": region.pk,
            "horizon": 7,
            "model": "seasonal_naive",
            "plan_for": "mean",
            "target_share": "0.9",
            "job_minutes": "60",
            "drive_minutes": "5",
            "shrinkage": "0",
            "day": "1999-01-01",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    html = response.content.decode()
    # the message stands at the day field, which is marked invalid, not above the form
    assert 'id="id_day_error"' in html
    first = synthetic_series(days=400).end + dt.timedelta(days=1)
    last = first + dt.timedelta(days=6)
    assert f"must lie within the forecast, {first} to {last}" in html
    day = _Elements(html).by_name("day")
    assert day["aria-invalid"] == "true"
    assert "id_day_error" in (day["aria-describedby"] or "").split()
    assert day["value"] == "1999-01-01"


def test_page_is_german_by_default(client, region, planner):
    login_with_second_factor(client, planner)
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Rettungsdienst" in html


def test_exported_region_names_cannot_run_as_spreadsheet_formulas(client, region):
    region.name = "=HYPERLINK(1)"
    region.save()
    admin = User.objects.create_superuser("admin2@example.org", password="pw")
    login_with_second_factor(client, admin)
    body = client.get(
        URL,
        {
            "region": region.pk,
            "horizon": 7,
            "model": "seasonal_naive",
            "plan_for": "mean",
            "target_share": 0.9,
            "job_minutes": 60,
            "drive_minutes": 5,
            "shrinkage": 0,
            "export": "forecast",
        },
    ).content.decode()
    assert "\n'=HYPERLINK(1)," in body


def test_a_region_that_fell_silent_gets_a_plan_not_a_500(client, planner):
    # 200 days of 3 emergencies, then 100 without: the regression dips below zero
    values = [3.0] * 200 + [0.0] * 100
    series = DailySeries("Monschau", dt.date(2023, 1, 2), np.array(values))
    import_demand(data=DemandData(daily={"Monschau": series}), actor=None)
    region = Region.objects.get(name="Monschau")
    login_with_second_factor(client, planner)
    params = {
        "region": region.pk,
        "horizon": 7,
        "model": "calendar_regression",
        "plan_for": "upper80",
        "target_share": 0.9,
        "job_minutes": 60,
        "drive_minutes": 5,
        "shrinkage": 0,
    }
    for day in range(7):
        day_param = (series.end + dt.timedelta(days=1 + day)).isoformat()
        assert client.get(URL, {**params, "day": day_param}).status_code == 200
    rows = client.get(URL, {**params, "export": "forecast"}).content.decode().splitlines()[1:]
    assert all(float(v) >= 0 for row in rows for v in row.split(",")[3:])


def test_stored_counts_beyond_the_supported_dates_give_a_message_not_a_500(client, planner):
    region = Region.objects.create(name="Aachen")
    last = dt.date(9999, 12, 31)  # stored before the import refused such dates
    DailyCount.objects.bulk_create(
        DailyCount(region=region, date=last - dt.timedelta(days=i), count=100) for i in range(100)
    )
    login_with_second_factor(client, planner)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "lie outside 1900-01-01 to 2200-12-31" in response.content.decode()
    german = client.get(URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "liegen außerhalb von 1900-01-01 bis 2200-12-31" in german


def test_a_stored_hourly_profile_no_plan_can_use_falls_back_to_uniform(client, region, planner):
    # written before the admin refused it: 24 times 1e308 was normalised to 24 zeros
    Region.objects.filter(pk=region.pk).update(hourly_profile=[0.0] * 24)
    admin = User.objects.create_superuser("admin3@example.org", password="pw")
    login_with_second_factor(client, admin)
    assert client.get(URL).status_code == 200
    params = {
        "region": region.pk,
        "horizon": 7,
        "model": "seasonal_naive",
        "plan_for": "mean",
        "target_share": 0.9,
        "job_minutes": 60,
        "drive_minutes": 5,
        "shrinkage": 0,
        "export": "staffing",
    }
    rows = client.get(URL, params).content.decode().strip().splitlines()[1:]
    assert len({row.split(",")[3] for row in rows}) == 1  # the same calls every hour


def test_a_planner_sees_only_the_regions_assigned_to_them(client, planner, region):
    """Municipalities share the installation: another rescue service's demand and incidents
    stay with its own planners."""
    other = User.objects.create_user("planung@nachbarkreis.example", password="pw", is_staff=True)
    other.groups.add(Group.objects.get(name="planner"))
    neighbour = Region.objects.create(name="Nachbarkreis")
    neighbour.planners.add(other)
    login_with_second_factor(client, planner)  # assigned to Aachen and (here) Nachbarkreis
    neighbour.planners.remove(planner)

    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Aachen" in html and "Nachbarkreis" not in html
    asked = client.get(URL, {"region": neighbour.pk, "horizon": 28})
    assert asked.status_code == 400
    assert "Bitte wählen Sie einen der aufgeführten Bereiche" in asked.content.decode()
    exported = client.get(URL, {"region": neighbour.pk, "horizon": 28, "export": "forecast"})
    assert exported.status_code == 400 and "text/csv" not in exported["Content-Type"]


def test_a_planner_without_regions_is_told_who_assigns_them(client, planner, region):
    login_with_second_factor(client, planner)
    region.planners.remove(planner)
    html = client.get(URL).content.decode()
    assert "Aachen" not in html
    assert "Administration" in html


def test_the_kpi_judges_the_incidents_by_the_planners_own_target(client, region, planner):
    """Empty target: each incident by the legal target of its area (8 urban / 12 rural
    minutes); a target the planner enters judges every incident, as the staffing does."""
    from rathaus.rescue.incidents import read_incidents
    from rathaus.rescue.services import import_incidents

    import_incidents(
        records=read_incidents(
            [
                "time,region,location,area,response_minutes\n",
                "2024-01-01T10:00:00,Aachen,Markt 1,urban,7.5\n",
                "2024-01-01T11:00:00,Aachen,Markt 2,urban,8.5\n",
                "2024-01-01T12:00:00,Aachen,Dorf 3,rural,11.0\n",
                "2024-01-01T13:00:00,Aachen,Dorf 4,rural,12.5\n",
            ]
        ),
        actor=None,
    )
    login_with_second_factor(client, planner)
    params = {
        "region": region.pk,
        "horizon": 14,
        "model": "seasonal_naive",
        "plan_for": "upper80",
        "target_share": 0.9,
        "job_minutes": 60,
        "drive_minutes": 5,
        "shrinkage": 0,
    }

    def kpi_section(**extra):
        html = client.get(URL, {**params, **extra}).content.decode()
        return html[html.index('id="kpi-heading"') :]

    legal = kpi_section()
    assert "<p>0,500</p>" in legal and "8 Minuten innerorts, 12 Minuten außerorts" in legal
    own = kpi_section(target_minutes=12)
    assert "<p>0,750</p>" in own and "Ihrem Ziel von 12 Minuten" in own


@pytest.mark.parametrize(
    "query",
    [
        {},  # the first visit: the plan with the form's defaults
        {"horizon": "abc", "day": "1999-01-01"},  # field errors beside help texts
    ],
)
def test_every_aria_describedby_names_an_element_of_the_page(client, region, planner, query):
    login_with_second_factor(client, planner)
    params = {"region": region.pk, **PARAMS, **query} if query else {}
    html = client.get(URL, params).content.decode()
    elements = _Elements(html).elements
    ids = {attrs["id"] for _, attrs in elements if attrs.get("id")}
    described = [
        (tag, attrs) for tag, attrs in elements if attrs.get("aria-describedby") is not None
    ]
    assert described  # the day field's help text at least
    for tag, attrs in described:
        for target in (attrs["aria-describedby"] or "").split():
            assert target in ids, f"<{tag} name={attrs.get('name')}> points at missing #{target}"
    assert len(ids) == len([1 for _, attrs in elements if attrs.get("id")])  # ids are unique


def test_a_region_with_a_long_data_outage_gets_a_plan_with_approximate_intervals(client, planner):
    import_demand(data=DemandData(daily={"Aachen": outage_series()}), actor=None)
    login_with_second_factor(client, planner)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")  # defaults: regression, 84 days
    assert response.status_code == 200
    assert "The intervals are approximate" in response.content.decode()
    german = client.get(URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Die Intervalle sind nur angenähert" in german


def test_a_region_with_enough_history_has_no_approximate_intervals_note(client, region, planner):
    login_with_second_factor(client, planner)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "approximate" not in response.content.decode()


@pytest.fixture
def region_before_clock_changes(db):
    """Demand until 2025-03-15, so that a 28-day forecast covers the spring change."""
    series = synthetic_series("Aachen", start=dt.date(2024, 2, 10), days=400)
    assert series.end == dt.date(2025, 3, 15)
    import_demand(data=parse_demand_text(to_csv(series)), actor=None)
    return Region.objects.get(name="Aachen")


def _staffing_rows(client, region, day):
    params = {"region": region.pk, **PARAMS, "horizon": 28, "day": day, "export": "staffing"}
    lines = client.get(URL, params).content.decode().strip().splitlines()
    header = lines[0].split(",")
    return header, [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]


def _forecast_mean(client, region, day):
    params = {"region": region.pk, **PARAMS, "horizon": 28, "export": "forecast"}
    lines = client.get(URL, params).content.decode().strip().splitlines()[1:]
    return next(float(line.split(",")[3]) for line in lines if line.split(",")[2] == day)


def test_the_day_summer_time_begins_is_staffed_in_23_hours(
    client, region_before_clock_changes, planner
):
    region = region_before_clock_changes
    login_with_second_factor(client, planner)
    header, rows = _staffing_rows(client, region, "2025-03-30")
    assert header[-1] == "utc_offset"  # the columns before it are those of every other day
    assert [int(r["hour"]) for r in rows] == [0, 1, *range(3, 24)]
    assert [r["utc_offset"] for r in rows[1:3]] == ["+01:00", "+02:00"]
    total = sum(float(r["calls"]) for r in rows)
    assert total == pytest.approx(_forecast_mean(client, region, "2025-03-30"), abs=0.15)
    params = {"region": region.pk, **PARAMS, "horizon": 28, "day": "2025-03-30"}
    html = client.get(URL, params, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    staffing = html[html.index('id="staffing-heading"') : html.index('id="kpi-heading"')]
    assert '<th scope="row">02:00' not in staffing
    assert "Am 2025-03-30 wird die Uhr umgestellt: Der Tag hat 23 Stunden." in staffing


def test_the_day_summer_time_ends_has_0200_twice_labelled_with_the_time_zone(
    client, region_before_clock_changes, planner
):
    region = region_before_clock_changes
    region.planners.add(planner)
    Region.objects.filter(pk=region.pk).update(hourly_profile=[1.0] * 12 + [3.0] * 12)
    # demand until 2025-10-12: the autumn change lies in the forecast
    later = synthetic_series("Aachen", start=dt.date(2024, 9, 8), days=400)
    import_demand(data=parse_demand_text(to_csv(later)), actor=None)
    login_with_second_factor(client, planner)
    header, rows = _staffing_rows(client, region, "2025-10-26")
    assert header[-2:] == ["simulated_share_in_time", "utc_offset"]
    assert len(rows) == 25
    assert [(r["hour"], r["utc_offset"]) for r in rows[2:4]] == [("2", "+02:00"), ("2", "+01:00")]
    assert rows[2]["calls"] == rows[3]["calls"]
    total = sum(float(r["calls"]) for r in rows)
    assert total == pytest.approx(_forecast_mean(client, region, "2025-10-26"), abs=0.15)
    params = {"region": region.pk, **PARAMS, "horizon": 28, "day": "2025-10-26"}
    german = client.get(URL, params, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<th scope="row">02:00 (MESZ)</th>' in german
    assert '<th scope="row">02:00 (MEZ)</th>' in german
    assert "Der Tag hat 25 Stunden." in german
    english = client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<th scope="row">02:00 (CEST)</th>' in english
    assert '<th scope="row">02:00 (CET)</th>' in english
    assert english.count('<th scope="row">') == 28 + 25  # forecast table and 25 hours


def test_a_single_incident_does_not_make_the_hourly_profile(client, region, planner):
    """One incident at 10:15 would put the whole day's calls at 10:00; with so few the
    profile stays uniform."""
    from rathaus.rescue.incidents import read_incidents
    from rathaus.rescue.services import import_incidents

    import_incidents(
        records=read_incidents(
            [
                "time,region,location,area,response_minutes\n",
                "2024-01-01T10:15:00,Aachen,Markt 1,urban,7.5\n",
            ]
        ),
        actor=None,
    )
    login_with_second_factor(client, planner)
    params = {"region": region.pk, **PARAMS, "export": "staffing"}
    rows = client.get(URL, params).content.decode().strip().splitlines()[1:]
    calls = {int(row.split(",")[2]): float(row.split(",")[3]) for row in rows}
    assert calls[3] > 0
    assert calls[3] == calls[10]
