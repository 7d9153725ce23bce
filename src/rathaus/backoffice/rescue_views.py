"""preRESC planner page: forecast with intervals, ambulances per hour, CSV exports.

Only staff in the Django group "planner" (and superusers) may see it, and a planner only the
regions assigned to them (``Region.planners``); like every back-office page it opens only in a
session that used a second factor (the accounts middleware, and the view itself).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, user_passes_test
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from rathaus.backoffice.access import plans_rescue, second_factor_required
from rathaus.rescue.planner import PlanError, PlannerForm, build_plan, forecast_csv, staffing_csv
from rathaus.rescue.selectors import regions_for


def _planner_only(user: object) -> bool:
    if not plans_rescue(user):
        raise PermissionDenied
    return True


@require_GET
@login_required
@user_passes_test(_planner_only)
@second_factor_required
def planner(request: HttpRequest) -> HttpResponse:
    regions = regions_for(request.user)  # only the regions assigned to this planner
    if not regions.exists():
        return render(request, "backoffice/rescue_planner.html", {"no_regions": True})
    params = request.GET.copy()
    export = params.pop("export", [""])[-1]
    if "region" not in params:
        # first visit: plan the first region with the form's defaults
        first = regions.first()
        assert first is not None
        defaults = {
            name: field.initial
            for name, field in PlannerForm.base_fields.items()
            if field.initial is not None
        }
        form = PlannerForm(data={**defaults, "region": first.pk}, regions=regions)
    else:
        form = PlannerForm(data=params, regions=regions)
    plan = None
    status = 200
    if form.is_valid():
        try:
            plan = build_plan(form.cleaned_data, simulate=export != "forecast")
        except PlanError as exc:
            form.add_error(exc.field, str(exc))
            status = 400
    else:
        status = 400
    if plan is not None and export in ("forecast", "staffing"):
        body = forecast_csv(plan.forecast) if export == "forecast" else staffing_csv(plan)
        name = f"{export}-{plan.region.pk}-{plan.forecast.start.isoformat()}.csv"
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    query = urlencode({k: v for k, v in form.data.items() if k != "export"})
    return render(
        request,
        "backoffice/rescue_planner.html",
        {"form": form, "plan": plan, "query": query},
        status=status,
    )
