"""The project's URLs plus the planner page, as the lead wires it (independent of urls.py)."""

from django.urls import include, path

from rathaus.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("backoffice/rettungsdienst/", include("rathaus.backoffice.rescue_urls")),
    *project_urlpatterns,
]
