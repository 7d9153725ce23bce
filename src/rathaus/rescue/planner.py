"""The planner's question as a form, and its answer: forecast, plot and staffing per hour.

The back-office page (``rathaus.backoffice.rescue_views``) only parses the request with
:class:`PlannerForm` and renders :func:`build_plan`; the CSV exports come from here too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from rathaus.rescue.demand import EARLIEST_DAY, LATEST_DAY
from rathaus.rescue.forecast_plot import forecast_svg
from rathaus.rescue.forecasting import Forecast, ForecastRangeError, InsufficientData
from rathaus.rescue.incidents import share_in_time
from rathaus.rescue.models import Region
from rathaus.rescue.selectors import daily_series, hourly_profile, incident_records
from rathaus.rescue.services import compute_forecast
from rathaus.rescue.staffing import HourPlan, ResponseTarget, StaffingInputs, plan_day

# msgids used only in backoffice/templates/backoffice/rescue_planner.html: marked here so that
# `make messages APP=rescue` keeps them in this module's catalogue.
TEMPLATE_MSGIDS = (
    gettext_noop("Emergency service planning"),
    gettext_noop("Show plan"),
    gettext_noop("Please correct the marked fields."),
    gettext_noop("Forecast of daily emergencies"),
    gettext_noop("Forecast table"),
    gettext_noop("Date"),
    gettext_noop("Forecast"),
    gettext_noop("80 percent interval"),
    gettext_noop("95 percent interval"),
    gettext_noop("Ambulances per hour"),
    gettext_noop("Hour"),
    gettext_noop("Expected emergencies"),
    gettext_noop("Ambulances (Erlang C)"),
    gettext_noop("Positions incl. shrinkage"),
    gettext_noop("Share in time (Erlang C)"),
    gettext_noop("Share in time (simulation)"),
    gettext_noop("Download forecast (CSV)"),
    gettext_noop("Download staffing (CSV)"),
    gettext_noop("Share of incidents reached within the response-time target"),
    gettext_noop("No incidents recorded."),
    gettext_noop("No regions with demand data yet. Import them with: %(command)s"),
    gettext_noop("Staffing for %(day)s, planned for: %(basis)s"),
)

# Names of the time zone in the hour labels of a day whose clock hour 02:00 occurs twice.
TIME_ZONE_NAMES = (
    gettext_noop("CET"),
    gettext_noop("CEST"),
)

PLAN_BASIS = [
    ("upper80", _("upper 80 % bound")),
    ("upper95", _("upper 95 % bound")),
    ("mean", _("forecast (median)")),
]


class PlannerForm(forms.Form):
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.all(),
        empty_label=None,
        error_messages={"invalid_choice": _("Please choose one of the listed regions.")},
    )
    horizon = forms.IntegerField(
        label=_("Horizon (days)"),
        min_value=7,
        max_value=365,
        initial=84,
        error_messages={
            "min_value": _("The horizon is at least 7 days."),
            "max_value": _("The horizon is at most 365 days."),
            "invalid": _("Enter a whole number of days."),
        },
    )
    model = forms.ChoiceField(
        label=_("Model"),
        choices=[
            ("calendar_regression", _("Calendar regression (recommended)")),
            ("seasonal_naive", _("Seasonal naive (baseline)")),
        ],
        initial="calendar_regression",
    )
    day = forms.DateField(
        label=_("Day to staff"),
        required=False,
        help_text=_("A day within the forecast, YYYY-MM-DD; empty: the first forecast day."),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )
    plan_for = forms.ChoiceField(label=_("Plan for"), choices=PLAN_BASIS, initial="upper80")
    target_minutes = forms.FloatField(
        label=_("Response-time target (minutes)"),
        required=False,
        min_value=1,
        max_value=60,
        help_text=_("Empty: 8 minutes for urban, 12 for rural regions."),
    )
    target_share = forms.FloatField(
        label=_("Required share in time"), min_value=0.5, max_value=0.999, initial=0.9
    )
    job_minutes = forms.FloatField(
        label=_("Mean job time per emergency (minutes)"),
        min_value=1,
        max_value=600,
        initial=60,
    )
    drive_minutes = forms.FloatField(
        label=_("Typical turnout and drive (minutes)"), min_value=0, max_value=59, initial=5
    )
    shrinkage = forms.FloatField(
        label=_("Shrinkage (share of rostered time lost)"),
        min_value=0,
        max_value=0.9,
        initial=0.0,
    )

    def __init__(self, *args: Any, regions: QuerySet[Region] | None = None, **kwargs: Any) -> None:
        """``regions``: those the planner may choose (``selectors.regions_for``)."""
        super().__init__(*args, **kwargs)
        if regions is not None:
            self.fields["region"].queryset = regions  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        region: Region | None = data.get("region")
        drive = data.get("drive_minutes")
        target = data.get("target_minutes")
        # The planner's own target also judges the recorded incidents; without one, each
        # incident is judged by the legal target of its area (8 urban / 12 rural minutes).
        data["target_given"] = target is not None
        if region is not None and target is None:
            target = 12.0 if region.area == Region.Area.RURAL else 8.0
            data["target_minutes"] = target
        if target is not None and drive is not None and drive >= target:
            self.add_error(
                "drive_minutes", _("The drive time must be shorter than the response-time target.")
            )
        return data


@dataclass
class Plan:
    region: Region
    forecast: Forecast
    day: dt.date
    hours: list[HourPlan]
    svg: str
    kpi: float | None
    basis_label: str
    #: The minutes the KPI judged every incident by; None: the legal target of its area.
    kpi_minutes: float | None = None

    @property
    def hour_rows(self) -> list[tuple[str, HourPlan]]:
        """Each hour of the day with its label, ``02:00``; a clock hour the day has twice (the
        clocks go back) is labelled with its time zone, ``02:00 (MESZ)`` and ``02:00 (MEZ)``."""
        repeated = {hour for hour, n in Counter(h.hour for h in self.hours).items() if n > 1}
        rows = []
        for h in self.hours:
            label = f"{h.hour:02d}:00"
            if h.hour in repeated:
                label += f" ({gettext(h.start.tzname() or h.utc_offset)})"
            rows.append((label, h))
        return rows

    @property
    def clock_note(self) -> str | None:
        """Says so when the clocks change on the planned day (23 or 25 hours)."""
        if len(self.hours) == 24:
            return None
        return gettext("The clocks change on %(day)s: the day has %(hours)s hours.") % {
            "day": self.day.isoformat(),
            "hours": len(self.hours),
        }

    @property
    def interval_note(self) -> str | None:
        """Says so when the forecast's intervals are approximated, not calibrated."""
        if not self.forecast.approximate_intervals:
            return None
        return gettext(
            "The intervals are approximate: there are too few past forecast errors to "
            "calibrate them (a short history, or a long gap in the data of the year before)."
        )


class PlanError(ValueError):
    """The plan cannot be made from the stored data (a message for the form); ``field`` names
    the form field at fault, None for the form as a whole."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def build_plan(data: dict[str, Any], *, simulate: bool = True) -> Plan:
    region: Region = data["region"]
    try:
        forecast = compute_forecast(region=region, horizon=data["horizon"], model=data["model"])
    except InsufficientData as exc:
        raise PlanError(
            _("Too little demand data for a forecast of %(region)s.") % {"region": region.name}
        ) from exc
    except ForecastRangeError as exc:
        raise PlanError(
            _(
                "The demand data of %(region)s or the forecast lie outside %(first)s to "
                "%(last)s; correct the dates and import the data again."
            )
            % {"region": region.name, "first": EARLIEST_DAY, "last": LATEST_DAY}
        ) from exc
    except ValueError as exc:
        raise PlanError(
            _("No demand data stored for %(region)s.") % {"region": region.name}
        ) from exc
    day = data.get("day") or forecast.start
    index = (day - forecast.start).days
    if not 0 <= index < len(forecast.mean):
        raise PlanError(
            _("The day to staff must lie within the forecast, %(first)s to %(last)s.")
            % {"first": forecast.start.isoformat(), "last": forecast.dates()[-1].isoformat()},
            field="day",
        )
    basis = {"mean": forecast.mean, "upper80": forecast.upper80, "upper95": forecast.upper95}
    try:
        hours = plan_day(
            day=day,
            time_zone=timezone.get_default_timezone(),
            daily_calls=float(basis[data["plan_for"]][index]),
            profile=hourly_profile(region=region),
            target=ResponseTarget(minutes=data["target_minutes"], share=data["target_share"]),
            inputs=StaffingInputs(
                job_minutes=data["job_minutes"],
                drive_minutes=data["drive_minutes"],
                shrinkage=data["shrinkage"],
            ),
            simulate=simulate,
            seed=0,
        )
    except ValueError as exc:  # e.g. more ambulances than Erlang C searches
        raise PlanError(
            _("No staffing can be computed for %(day)s from this forecast.")
            % {"day": day.isoformat()},
            field="day",
        ) from exc
    series = daily_series(region=region)
    assert series is not None
    history_days = min(len(series.values), 56)
    svg = forecast_svg(
        forecast,
        history_dates=series.dates()[-history_days:],
        history_values=[float(v) for v in series.values[-history_days:]],
        title=str(
            _("Forecast of daily emergencies in %(region)s from %(start)s")
            % {"region": region.name, "start": forecast.start.isoformat()}
        ),
        labels={
            "history": str(_("observed")),
            "forecast": str(_("forecast")),
            "band80": str(_("80 percent interval")),
            "band95": str(_("95 percent interval")),
        },
    )
    records = incident_records(region=region)
    kpi_minutes = data["target_minutes"] if data.get("target_given") else None
    if kpi_minutes is not None:
        own = ResponseTarget(minutes=kpi_minutes, share=data["target_share"])
        kpi = share_in_time(records, urban=own, rural=own) if records else None
    else:
        kpi = share_in_time(records) if records else None
    return Plan(
        region=region,
        forecast=forecast,
        day=day,
        hours=hours,
        svg=svg,
        kpi=kpi,
        basis_label=str(dict(PLAN_BASIS)[data["plan_for"]]),
        kpi_minutes=kpi_minutes,
    )


def _cell(text: str) -> str:
    """Neutralise a text cell that a spreadsheet would run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def forecast_csv(forecast: Forecast) -> str:
    out = io.StringIO()
    rows = forecast.rows()
    writer = csv.DictWriter(out, fieldnames=["region", "model", *rows[0]])
    writer.writeheader()
    for row in rows:
        writer.writerow({"region": _cell(forecast.region), "model": forecast.model, **row})
    return out.getvalue()


def staffing_csv(plan: Plan) -> str:
    """One row per real hour of the planned day (24; 23 or 25 when the clocks change): ``hour``
    is the local clock hour, ``utc_offset`` (the last column) tells the two rows of a clock
    hour that occurs twice apart."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "region",
            "date",
            "hour",
            "calls",
            "ambulances",
            "positions",
            "share_in_time",
            "simulated_share_in_time",
            "utc_offset",
        ]
    )
    for h in plan.hours:
        sim = "" if h.simulated_share_in_time is None else f"{h.simulated_share_in_time:.4f}"
        writer.writerow(
            [
                _cell(plan.region.name),
                plan.day.isoformat(),
                h.hour,
                f"{h.calls:.2f}",
                h.ambulances,
                h.positions,
                f"{h.share_in_time:.4f}",
                sim,
                h.utc_offset,
            ]
        )
    return out.getvalue()
