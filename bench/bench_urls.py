"""URLs for the submission benchmark: the whole portal plus one bare view that inserts a row.

Used only by bench/briefwahl_submit.py (RATHAUS_URLCONF=bench_urls); never in production.
"""

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path


def bare_insert(request: HttpRequest) -> HttpResponse:
    """The baseline: through the same middleware (session, CSRF, auth), insert one row."""
    if request.method != "POST" or not request.user.is_authenticated:
        return HttpResponse(status=400)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_insert (user_id, payload, created) "
            "VALUES (%s, %s, CURRENT_TIMESTAMP)",
            [request.user.pk, request.POST.get("submission_key", "")],
        )
    return HttpResponseRedirect("/antraege/")


urlpatterns = [
    path("bench/insert/", bare_insert),
    path("", include("rathaus.urls")),
]
